// Helpers for the HTTP client tests: an io_context on its own thread, and a blocking GET with a hang guard.
#pragma once

#include "http/client.hpp"

#include <catch2/catch.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

namespace coalias::test {

// Declare before the client so the client dies first; joining then proves no work was leaked.
struct io_thread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};

  ~io_thread() {
    work.reset();
    thread.join();
  }
};

struct outcome {
  std::error_code ec;
  http::response response;
  std::chrono::steady_clock::time_point at;  // when the handler ran
};

// Starts a GET whose handler fulfils the returned future.
inline std::future<outcome> start_get(http::client& client, http::request req) {
  auto done = std::make_shared<std::promise<outcome>>();
  auto future = done->get_future();
  client.async_get(std::move(req), [done](std::error_code ec, http::response r) {
    done->set_value({ec, std::move(r), std::chrono::steady_clock::now()});
  });
  return future;
}

inline outcome wait(std::future<outcome>& f) {
  REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);  // hang guard
  return f.get();
}

inline outcome get(http::client& client, http::request req) {
  auto f = start_get(client, std::move(req));
  return wait(f);
}

inline http::request to(std::string url) {
  http::request req;
  req.url = std::move(url);
  return req;
}

}  // namespace coalias::test
