// Health endpoint throughput: C keep-alive connections (C = 1 and 16), each sending GET /health/<id> and waiting
// for the answer before the next, for two seconds, against a health_endpoint on 127.0.0.1. The endpoint runs on
// one thread and the clients on another (the bench's two cores). Prints
//   {"bench":"health_endpoint","connections":C,"requests_per_s":...,"p99_us":...}
// Floor (issue 9): 50,000 requests per second at C = 16.
#include <coalias/health_endpoint.hpp>
#include <coalias/local_state.hpp>

#include "support/bench_util.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace coalias::bench;

constexpr std::string_view request = "GET /health/web:alive HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// One keep-alive client: request, whole answer, next request, until `end`; the latencies of requests started
// from `begin` on, in microseconds.
asio::awaitable<void> client(asio::ip::tcp::endpoint at, clock::time_point begin, clock::time_point end,
                             std::vector<double>& samples) {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(at, asio::use_awaitable);
  socket.set_option(asio::ip::tcp::no_delay(true));
  std::string buffer;
  std::size_t answer_size = 0;  // every answer has the same size: learnt from the first
  for (auto start = clock::now(); start < end; start = clock::now()) {
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    if (answer_size == 0) {
      const std::size_t head =
          co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::use_awaitable);
      const auto at_length = buffer.find("Content-Length: ");
      if (at_length == std::string::npos) throw std::runtime_error("no Content-Length");
      answer_size = head + std::stoul(buffer.substr(at_length + 16));
    }
    if (buffer.size() < answer_size) {
      co_await asio::async_read(socket, asio::dynamic_buffer(buffer),
                                asio::transfer_exactly(answer_size - buffer.size()), asio::use_awaitable);
    }
    if (buffer.compare(0, 12, "HTTP/1.1 200") != 0) throw std::runtime_error("unexpected answer: " + buffer);
    buffer.erase(0, answer_size);
    if (start >= begin) samples.push_back(micros(clock::now() - start));
  }
}

void run(std::size_t connections) {
  coalias::local_state state("node-1");
  state.add_service({"web", "web"});
  coalias::health_check check;
  check.check_id = "web:alive";
  check.name = "web alive";
  check.service_id = "web";
  check.status = coalias::status::passing;
  check.output = "HTTP GET http://127.0.0.1:8080/healthz: 200 OK Output: ok";
  state.add_check(check);

  // One core serves, the other runs the clients: each io_context is run by one thread, so neither side pays
  // for handing its handlers between threads.
  asio::io_context server_io(1);
  asio::io_context io(1);
  coalias::health_endpoint endpoint(server_io.get_executor(), state,
                                    asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  constexpr auto warm_up = std::chrono::milliseconds(300);
  constexpr auto measured = std::chrono::seconds(2);
  const auto begin = clock::now() + warm_up;
  const auto end = begin + measured;

  std::vector<std::vector<double>> samples(connections);
  std::atomic<std::size_t> running{connections};
  for (auto& s : samples) {
    s.reserve(500'000);
    asio::co_spawn(asio::make_strand(io), client(endpoint.local_endpoint(), begin, end, s),
                   [&](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         std::fprintf(stderr, "health_endpoint bench client: %s\n", x.what());
                       }
                     }
                     if (--running == 0) endpoint.async_shutdown([](std::error_code) {});
                   });
  }
  std::thread server([&server_io] { server_io.run(); });
  io.run();
  server.join();

  std::vector<double> all;
  for (const auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  const double seconds = std::chrono::duration<double>(measured).count();
  emit("health_endpoint", "\"connections\":" + std::to_string(connections) +
                              ",\"requests_per_s\":" + num(static_cast<double>(all.size()) / seconds) +
                              ",\"p99_us\":" + num(percentile(all, 0.99)));
}

}  // namespace

void bench_health_endpoint() {
  for (const std::size_t c : {std::size_t{1}, std::size_t{16}}) run(c);
}
