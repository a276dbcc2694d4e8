// Cancellation, `||` with a timer, and destroying the client with transfers in flight.
#include "http/client.hpp"

#include "coro_test.hpp"
#include "http_test.hpp"
#include "loopback_server.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <variant>

using namespace coalias;
using namespace std::chrono_literals;
using coalias::test::to;

namespace {

bool hanging(const test::server_stats& s, std::size_t n) { return s.hanging == n; }

}  // namespace

TEST_CASE("cancelling an in-flight GET completes at once and closes its connection") {
  const auto type = GENERATE(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                             asio::cancellation_type::total);
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  asio::cancellation_signal signal;
  std::promise<test::outcome> done;
  auto future = done.get_future();
  client.async_get(to(server.url("/hang")),
                   asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, http::response r) {
                     done.set_value({ec, std::move(r), std::chrono::steady_clock::now()});
                   }));
  REQUIRE(server.wait_until([](const auto& s) { return hanging(s, 1); }));

  const auto start = std::chrono::steady_clock::now();
  asio::post(io.io, [&] { signal.emit(type); });  // emit from the handler's context, as Asio requires
  const auto out = test::wait(future);
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(out.at - start < 50ms);
  CHECK(server.wait_until([](const auto& s) { return s.peer_closes == 1 && s.open == 0; }));

  // Cancelling after completion does nothing.
  std::promise<void> emitted;
  asio::post(io.io, [&] {
    signal.emit(asio::cancellation_type::terminal);
    emitted.set_value();
  });
  emitted.get_future().wait();
}

TEST_CASE("cancelling after completion is harmless and the connection stays pooled") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  asio::cancellation_signal signal;
  std::promise<test::outcome> done;
  auto future = done.get_future();
  client.async_get(to(server.url("/ok")), asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, http::response r) {
                     done.set_value({ec, std::move(r), std::chrono::steady_clock::now()});
                   }));
  const auto out = test::wait(future);
  REQUIRE_FALSE(out.ec);
  asio::post(io.io, [&] { signal.emit(asio::cancellation_type::terminal); });

  const auto again = test::get(client, to(server.url("/ok")));
  REQUIRE_FALSE(again.ec);
  CHECK(server.stats().accepted == 1);
}

TEST_CASE("a GET raced against a timer with || loses at the timer's deadline") {
  test::loopback_server server;
  test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    http::client client(io.get_executor());
    asio::steady_timer timer(io, 100ms);
    const http::request req = to(server.url("/hang"));
    const auto start = std::chrono::steady_clock::now();
    auto winner = co_await (client.async_get(req, asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(winner.index() == 1);
    CHECK(elapsed >= 100ms);
    CHECK(elapsed < 1100ms);
  });
  CHECK(server.wait_until([](const auto& s) { return s.peer_closes == 1; }));
}

TEST_CASE("a GET raced against a timer with || wins with its response") {
  test::loopback_server server;
  test::run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    http::client client(io.get_executor());
    asio::steady_timer timer(io, 20s);
    const http::request req = to(server.url("/ok"));
    auto winner = co_await (client.async_get(req, asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
    REQUIRE(winner.index() == 0);
    CHECK(std::get<0>(winner).body == "hello");
  });
}

TEST_CASE("destroying the client aborts every in-flight GET") {
  test::loopback_server server;
  test::io_thread io;
  auto client = std::make_unique<http::client>(io.io.get_executor());

  std::vector<std::future<test::outcome>> gets;
  for (int i = 0; i < 5; ++i) gets.push_back(test::start_get(*client, to(server.url("/hang"))));
  REQUIRE(server.wait_until([](const auto& s) { return hanging(s, 5); }));

  client.reset();
  for (auto& f : gets) CHECK(test::wait(f).ec == asio::error::operation_aborted);
  CHECK(server.wait_until([](const auto& s) { return s.peer_closes == 5 && s.open == 0; }));
}

TEST_CASE("a GET started on a destroyed client's last moments is aborted, not run") {
  test::loopback_server server;
  asio::io_context io;
  auto client = std::make_unique<http::client>(io.get_executor());
  std::error_code result;
  bool called = false;
  client->async_get(to(server.url("/ok")), [&](std::error_code ec, http::response) {
    called = true;
    result = ec;
  });
  client.reset();
  io.run_for(20s);  // returns as soon as the work is done; the bound is a hang guard
  CHECK(called);
  CHECK(result == asio::error::operation_aborted);
}

TEST_CASE("an io_context destroyed with a transfer in flight frees it without invoking the handler") {
  test::loopback_server server;
  std::atomic<bool> called{false};
  {
    asio::io_context io;
    auto client = std::make_unique<http::client>(io.get_executor());
    client->async_get(to(server.url("/hang")), [&](std::error_code, http::response) { called = true; });
    // Drive the io_context until the server holds the request, bounded by a hang guard.
    const auto guard = std::chrono::steady_clock::now() + 20s;
    while (server.stats().hanging == 0 && std::chrono::steady_clock::now() < guard) io.run_one_for(10ms);
    REQUIRE(server.stats().hanging == 1);
    client.reset();  // posts the shutdown, which never runs: the io_context dies first
  }
  CHECK_FALSE(called);
  CHECK(server.wait_until([](const auto& s) { return s.peer_closes == 1; }));
}
