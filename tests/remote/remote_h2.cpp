// Remote aliases over HTTP/2, through a real h2 peer: nghttpx as a TLS frontend (250 streams per connection,
// like Consul's HTTPS port) in front of the test server. Per-node queries for hundreds of nodes on a few
// multiplexed connections, and a cancelled watch that resets its stream without closing the shared connection.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "http/client.hpp"
#include "nghttpx.hpp"
#include "remote_fixture.hpp"
#include "scale_nodes.hpp"
#include "temp_cert.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <functional>
#include <string>

using namespace coalias;
using namespace coalias::test;
using namespace std::chrono_literals;

namespace {

testing::server_options backend_options() {
  testing::server_options o;
  o.max_conns_per_client = 0;  // nghttpx holds one backend connection per held stream
  return o;
}

// The test server behind nghttpx, and a client config that trusts the test's own CA.
struct h2_fixture : remote_fixture {
  temp_cert cert{"h2"};
  nghttpx proxy{server.port(), cert.cert_file, cert.key_file};

  h2_fixture() : remote_fixture(backend_options()) {}

  consul_config config() const {
    auto c = remote_fixture::config();
    c.address = consul_address::parse(proxy.address());
    c.tls.ca_file = cert.cert_file;
    return c;
  }
};

// Polls `done` every few milliseconds; a hang is caught by run_coro's guard.
asio::awaitable<void> settle(asio::io_context& io, const std::function<bool()>& done) {
  asio::steady_timer timer(io);
  while (!done()) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

std::uint64_t opened() { return http::client::connections_opened(); }

}  // namespace

TEST_CASE_METHOD(h2_fixture, "300 nodes over h2: per-node queries on at most 3 connections, every flip seen") {
  constexpr int nodes = 300;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  auto cfg = config();  // max_connections: the default
  REQUIRE(cfg.max_connections == 8);
  const auto before = opened();
  run_coro(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        remote_session session(io, state, cfg, fast());
        for (int i = 0; i < nodes; ++i)
          co_await session.registry.async_add(remote_alias(node_name(i), "svc", alias_name(i)), asio::use_awaitable);
        for (int i = 0; i < nodes; ++i) {
          check_watch watch(state, alias_name(i), io.get_executor());
          co_await expect_check(watch, status::passing, "All checks passing.");
        }
        CHECK(session.hub.watch_count() == nodes);
        // Every node's own blocking query is held at once: 300 streams, more than one connection carries.
        co_await settle(io, [&] { return server.held_queries() == nodes; });
        for (const int i : {0, 1, 149, 150, 249, 250, 298, 299}) co_await flip(server, state, io, i);
        CHECK(server.requests_to(testing::endpoint::health_state) == 0);  // per-node queries only
        co_await session.close();
      },
      90s);
  INFO("connections opened: " << opened() - before);
  CHECK(opened() - before >= 1);
  CHECK(opened() - before <= 3);  // ceil(300 / 250) + 1
}

TEST_CASE_METHOD(h2_fixture, "a removed alias resets its stream: the shared connection stays, other flips are seen") {
  constexpr int nodes = 10;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  const auto before = opened();
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) {
      check_watch watch(state, alias_name(i), io.get_executor());
      co_await session.registry.async_add(remote_alias(node_name(i), "svc", alias_name(i)), asio::use_awaitable);
      co_await expect_check(watch, status::passing, "All checks passing.");
    }
    co_await settle(io, [&] { return server.held_queries() == nodes; });
    const auto connections = opened() - before;
    CHECK(connections == 1);  // ten streams on one connection

    // The watch of node 3 ends: its held query is cancelled, the server sees it go away.
    co_await session.registry.async_remove(alias_name(3), asio::use_awaitable);
    CHECK(session.hub.watch_count() == nodes - 1);
    co_await settle(io, [&] { return server.held_queries() == nodes - 1; });
    CHECK(opened() - before == connections);

    // The other watches' streams still answer on the same connection, and new requests use it too.
    for (const int i : {0, 4, 9}) co_await flip(server, state, io, i);
    server.update_check_status(node_name(3), "service:svc", status::critical, "unwatched");
    co_await flip(server, state, io, 2);
    CHECK(state.check(alias_name(3)) == nullptr);
    CHECK(opened() - before == connections);
    co_await session.close();
  });
}
