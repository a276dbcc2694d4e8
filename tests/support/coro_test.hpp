// Runs a coroutine test body on a fresh io_context: fails on any escaped exception, and on a hang (the body not
// finishing within `guard`, a bound far above what any correct run takes).
#pragma once

#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>

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

// Lets the io_context run (1 ms at a time) until `done()` holds; run_coro's guard bounds it.
inline asio::awaitable<void> yield_until(asio::io_context& io, const std::function<bool()>& done) {
  asio::steady_timer tick(io);
  while (!done()) {
    tick.expires_after(std::chrono::milliseconds(1));
    co_await tick.async_wait(asio::use_awaitable);
  }
}

}  // namespace coalias::test
