// A health endpoint on 127.0.0.1 over a small local state, served by a background thread, for tests that talk
// to it with blocking raw sockets.
#pragma once

#include <coalias/health_endpoint.hpp>
#include <coalias/local_state.hpp>

#include "local_fixture.hpp"  // make_check

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <memory>
#include <string>
#include <thread>

namespace coalias::test {

class served {
 public:
  explicit served(endpoint_options options = endpoint_options(), unsigned threads = 1) {
    state.add_service({"web", "web"});
    state.add_check(make_check("web:alive", status::passing, "web", "HTTP GET http://127.0.0.1/: 200 OK"));
    state.add_check(make_check("disk", status::warning, "", "disk 91% full"));
    endpoint = std::make_unique<health_endpoint>(io.get_executor(), state,
                                                 asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                                 std::move(options));
    for (unsigned i = 0; i < threads; ++i) runners.emplace_back([this] { io.run(); });
  }
  served(const served&) = delete;
  served& operator=(const served&) = delete;
  ~served() {
    shutdown();
    work.reset();
    for (auto& t : runners) t.join();
  }

  void shutdown() {
    if (!down) endpoint->async_shutdown(asio::use_future).get();
    down = true;
  }
  std::uint16_t port() const { return endpoint->local_endpoint().port(); }

  local_state state{"node-1"};
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<health_endpoint> endpoint;
  std::vector<std::thread> runners;
  bool down = false;
};

}  // namespace coalias::test
