// Connection reuse, concurrency and the per-host connection cap.
#include "http/client.hpp"

#include "http_test.hpp"
#include "loopback_server.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>

#include <vector>

using namespace coalias;
using coalias::test::to;

TEST_CASE("sequential GETs reuse one connection") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  for (int i = 0; i < 5; ++i) {
    const auto out = test::get(client, to(server.url("/ok")));
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.body == "hello");
  }
  CHECK(server.stats().requests == 5);
  CHECK(server.stats().accepted == 1);
}

TEST_CASE("100 concurrent GETs all complete, within the default cap of 64 connections") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  std::vector<std::future<test::outcome>> gets;
  for (int i = 0; i < 100; ++i) gets.push_back(test::start_get(client, to(server.url("/delay/20"))));
  for (auto& f : gets) {
    const auto out = test::wait(f);
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.status == 200);
    CHECK(out.response.body == "delayed");
  }
  const auto stats = server.stats();
  CHECK(stats.requests == 100);
  CHECK(stats.max_open <= 64);
  CHECK(stats.accepted <= 64);
}

TEST_CASE("the per-host cap bounds connections; excess requests queue and reuse them") {
  test::loopback_server server;
  test::io_thread io;
  http::client::options opts;
  opts.max_connections_per_host = 4;
  http::client client(io.io.get_executor(), opts);

  std::vector<std::future<test::outcome>> gets;
  for (int i = 0; i < 12; ++i) gets.push_back(test::start_get(client, to(server.url("/delay/50"))));
  for (auto& f : gets) {
    const auto out = test::wait(f);
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.body == "delayed");
  }
  const auto stats = server.stats();
  CHECK(stats.requests == 12);
  CHECK(stats.max_open == 4);
  CHECK(stats.accepted == 4);
}

TEST_CASE("requests queued behind the cap connect only when a capped connection frees up") {
  test::loopback_server server;
  test::io_thread io;
  http::client::options opts;
  opts.max_connections_per_host = 3;
  auto client = std::make_unique<http::client>(io.io.get_executor(), opts);

  asio::cancellation_signal first;
  std::promise<std::error_code> first_done;
  client->async_get(to(server.url("/hang")),
                    asio::bind_cancellation_slot(first.slot(), [&](std::error_code ec, http::response) { first_done.set_value(ec); }));
  REQUIRE(server.wait_until([](const auto& s) { return s.hanging == 1; }));
  std::vector<std::future<test::outcome>> gets;
  for (int i = 0; i < 5; ++i) gets.push_back(test::start_get(*client, to(server.url("/hang"))));
  REQUIRE(server.wait_until([](const auto& s) { return s.hanging == 3; }));

  // Freeing one connection lets exactly one queued request connect.
  asio::post(io.io, [&] { first.emit(asio::cancellation_type::terminal); });
  CHECK(first_done.get_future().get() == asio::error::operation_aborted);
  REQUIRE(server.wait_until([](const auto& s) { return s.peer_closes == 1 && s.hanging == 3; }));
  CHECK(server.stats().accepted == 4);
  CHECK(server.stats().max_open == 3);

  client.reset();
  for (auto& f : gets) CHECK(test::wait(f).ec == asio::error::operation_aborted);
  const auto stats = server.stats();
  CHECK(stats.accepted == 4);
  CHECK(stats.max_open == 3);
}
