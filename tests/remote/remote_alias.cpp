// Remote aliases against the Consul-compatible test server: aggregation scenarios, missing nodes and services.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;

namespace {

// Adds `def` to a registry backed by a hub on `io`, waits for `s`/`output`, then shuts both down.
asio::awaitable<void> expect_alias(remote_fixture& f, asio::io_context& io, alias_definition def, status s,
                                   std::string output) {
  remote_session session(io, f.state, f.config(), remote_fixture::fast());
  check_watch watch(f.state, def.check_id, io.get_executor());
  co_await session.registry.async_add(def, asio::use_awaitable);
  co_await expect_check(watch, s, output);
  co_await session.close();
}

}  // namespace

TEST_CASE_METHOD(remote_fixture, "a remote alias mirrors a service on another node and follows its flips") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
    co_await expect_check(watch, status::critical, "Aliased check \"pg port\" failing: connection refused");
    server.update_check_status("db-1", "serfHealth", status::warning, "flaky");
    server.update_check_status("db-1", "service:pg-1", status::passing, "accepting connections");
    co_await expect_check(watch, status::warning, "Aliased check \"Serf Health Status\" failing: flaky");
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "checks of other services on the node are skipped") {
  server.add_service("db-1", {"cache-1", "redis"});
  server.set_check(remote_check("db-1", "service:cache-1", status::critical, "cache-1", "down", "redis port"));
  run_coro([&](asio::io_context& io) { return expect_alias(*this, io, remote_alias("db-1", "pg-1"), status::passing,
                                                           "All checks passing."); });
}

TEST_CASE_METHOD(remote_fixture, "critical wins over warning, and the first warning's message is kept") {
  server.set_check(remote_check("db-1", "service:pg-1:a", status::warning, "pg-1", "slow", "pg latency"));
  server.set_check(remote_check("db-1", "service:pg-1:b", status::passing, "pg-1", "ok", "pg replication"));
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("db-1", "pg-1"), status::warning,
                        "Aliased check \"pg latency\" failing: slow");
  });
  server.set_check(remote_check("db-1", "service:pg-1:b", status::critical, "pg-1", "lagging", "pg replication"));
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("db-1", "pg-1"), status::critical,
                        "Aliased check \"pg replication\" failing: lagging");
  });
}

TEST_CASE_METHOD(remote_fixture, "node-level checks count for a service alias and alone for a node alias") {
  server.update_check_status("db-1", "serfHealth", status::critical, "Agent not live or unreachable");
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("db-1", "pg-1"), status::critical,
                        "Aliased check \"Serf Health Status\" failing: Agent not live or unreachable");
  });
  server.update_check_status("db-1", "serfHealth", status::passing, "alive");
  server.update_check_status("db-1", "service:pg-1", status::critical, "refused");
  run_coro([&](asio::io_context& io) {  // the service's check does not count for the node alias
    return expect_alias(*this, io, remote_alias("db-1", ""), status::passing, "All checks passing.");
  });
}

TEST_CASE_METHOD(remote_fixture, "node names match case-insensitively, as Consul compares them") {
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("DB-1", "pg-1"), status::passing, "All checks passing.");
  });
}

TEST_CASE_METHOD(remote_fixture, "a service the node does not have is critical") {
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("db-1", "nope"), status::critical,
                        "Service nope could not be found on node db-1");
  });
}

TEST_CASE_METHOD(remote_fixture, "a registered service without checks passes") {
  server.add_service("db-1", {"quiet-1", "quiet"});
  server.update_check_status("db-1", "serfHealth", status::passing, "alive");
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("db-1", "quiet-1"), status::passing, "All checks passing.");
  });
}

TEST_CASE_METHOD(remote_fixture, "an unknown node is critical for service and node aliases") {
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("ghost", "pg-1"), status::critical,
                        "Service pg-1 could not be found on node ghost");
  });
  run_coro([&](asio::io_context& io) {
    return expect_alias(*this, io, remote_alias("ghost", ""), status::critical, "Node ghost could not be found");
  });
}

TEST_CASE_METHOD(remote_fixture, "a node that appears later is picked up") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("web-9", "web");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::critical, "Service web could not be found on node web-9");
    server.add_node("web-9");
    server.add_service("web-9", {"web", "web"});
    server.set_check(remote_check("web-9", "service:web", status::passing, "web", "200 OK", "web http"));
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "a wake-up that changes nothing writes nothing") {
  server.add_node("other");
  auto cfg = config();
  cfg.wait = std::chrono::milliseconds(50);  // each held query returns unchanged at the end of its wait
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, cfg, fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    const auto settled = state.check("remote-alias");
    const auto requests = server.total_requests();
    // Changes elsewhere move the cluster-wide checks index that every answer reports (but, as in Consul, do not
    // wake db-1's held query)...
    for (int i = 0; i < 5; ++i)
      server.set_check(remote_check("other", "c" + std::to_string(i), status::critical, "", "elsewhere"));
    while (server.total_requests() < requests + 3) co_await asio::post(io, asio::use_awaitable);
    // ...and answers that return at the end of their wait with a new index but the same checks write nothing.
    CHECK(state.check("remote-alias") == settled);
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "Consul's own alias checks on the remote node never count") {
  // A node-level alias check (Type "alias") that is critical: counting it would let aliases form a cycle.
  server.set_check(remote_check("db-1", "web-alias", status::critical, "", "Aliased check failing", "Web alias"),
                   "alias");
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    co_await expect_alias(*this, io, remote_alias("db-1", ""), status::passing, "All checks passing.");
  });
}
