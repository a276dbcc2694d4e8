// Runs a coroutine test body on a fresh io_context: fails on any escaped exception, and on a hang (the body not
// finishing within `guard`, a bound far above what any correct run takes).
#pragma once

#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>

namespace coalias::test {

template <class Body>
void run_coro(Body&& body, std::chrono::milliseconds guard = std::chrono::seconds(20)) {
  asio::io_context io;
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    finished = true;
    failure = e;
    io.stop();
  });
  io.run_for(guard);
  REQUIRE(finished);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace coalias::test
