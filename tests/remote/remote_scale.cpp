// Remote aliases at cluster scale: more watched nodes than blocking slots, every flip seen within the connection
// budget; groups that re-form as aliases come and go; switching between per-node and group queries; failures of
// a group query.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"
#include "scale_nodes.hpp"

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <vector>

using namespace coalias;
using namespace coalias::test;
using namespace std::chrono_literals;

namespace {

// Adds the alias of node i (with ACL token `token`; empty: the hub's) and waits until it passes.
asio::awaitable<void> add_alias(remote_session& session, local_state& state, asio::io_context& io, int i,
                                std::string token = {}) {
  check_watch watch(state, alias_name(i), io.get_executor());
  auto def = remote_fixture::remote_alias(node_name(i), "svc", alias_name(i));
  def.token = std::move(token);
  co_await session.registry.async_add(std::move(def), asio::use_awaitable);
  co_await expect_check(watch, status::passing, "All checks passing.");
}

// The recent requests to /v1/health/state whose filter names node i.
std::size_t state_requests_naming(const testing::consul_test_server& server, int i) {
  const auto quoted = "%22" + node_name(i) + "%22";
  std::size_t n = 0;
  for (const auto& r : server.recent_requests())
    if (r.target.starts_with("/v1/health/state/any") && r.target.find(quoted) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE_METHOD(remote_fixture, "300 nodes over 8 connections: every flip is seen, the first and last included") {
  constexpr int nodes = 300;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  auto cfg = config();  // max_connections: the default
  cfg.wait = 2s;
  REQUIRE(cfg.max_connections == 8);
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
        server.reset_peak_connections();
        for (const int i : {0, 1, 73, 150, 151, 222, 298, 299}) {
          co_await flip(server, state, io, i);
          CHECK(server.held_queries() <= 7);
          CHECK(server.open_connections() <= 8);
        }
        CHECK(server.peak_connections() <= 8);
        co_await session.close();
      },
      60s);
}

TEST_CASE_METHOD(remote_fixture, "groups re-form as aliases of new nodes arrive and leave, without losing a flip") {
  constexpr int nodes = 30;
  for (int i = 0; i < nodes + 5; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) co_await add_alias(session, state, io, i);
    co_await flip(server, state, io, 7);

    // New nodes join while the group queries are held: each one's flips are seen.
    for (int i = nodes; i < nodes + 5; ++i) {
      co_await add_alias(session, state, io, i);
      co_await flip(server, state, io, i);
    }
    CHECK(session.hub.watch_count() == nodes + 5);

    // Aliases leave: the groups shrink, and the removed nodes' flips write nothing.
    for (const int i : {3, nodes + 2}) co_await session.registry.async_remove(alias_name(i), asio::use_awaitable);
    CHECK(session.hub.watch_count() == nodes + 3);
    co_await flip(server, state, io, 4);  // the groups have re-formed by the time a flip is seen
    server.clear_request_log();
    for (const int i : {3, nodes + 2}) server.update_check_status(node_name(i), "service:svc", status::critical, "x");
    co_await flip(server, state, io, nodes + 4);
    CHECK(state.check(alias_name(3)) == nullptr);
    CHECK(state.check(alias_name(nodes + 2)) == nullptr);
    CHECK(state_requests_naming(server, 3) == 0);
    CHECK(state_requests_naming(server, nodes + 2) == 0);
    CHECK(state_requests_naming(server, nodes + 4) > 0);
    CHECK(server.held_queries() <= 7);
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "from per-node queries to groups and back, every flip is seen") {
  for (int i = 0; i < 20; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < 3; ++i) co_await add_alias(session, state, io, i);
    for (int i = 0; i < 3; ++i) co_await flip(server, state, io, i);
    CHECK(server.requests_to(testing::endpoint::health_state) == 0);  // per-node queries only

    for (int i = 3; i < 20; ++i) co_await add_alias(session, state, io, i);
    for (const int i : {0, 2, 9, 19}) co_await flip(server, state, io, i);
    CHECK(server.requests_to(testing::endpoint::health_state) > 0);
    CHECK(server.held_queries() <= 7);

    for (int i = 3; i < 20; ++i) co_await session.registry.async_remove(alias_name(i), asio::use_awaitable);
    CHECK(session.hub.watch_count() == 3);
    for (int i = 0; i < 3; ++i) co_await flip(server, state, io, i);
    // Back in per-node mode: once the loops have settled, only per-node queries are held.
    const auto state_requests = server.requests_to(testing::endpoint::health_state);
    for (int i = 0; i < 3; ++i) co_await flip(server, state, io, i);
    CHECK(server.requests_to(testing::endpoint::health_state) == state_requests);
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "in a group, answers that repeat the last one still ask the catalog for a service without checks") {
  constexpr int nodes = 10;  // more than the 7 blocking slots: group queries
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  server.add_service(node_name(3), {"quiet-1", "quiet"});
  auto cfg = config();
  cfg.wait = 200ms;  // no check changes below: only the end of a wait answers, with the same body as before
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, cfg, fast());
    for (int i = 0; i < nodes; ++i) co_await add_alias(session, state, io, i);
    check_watch watch(state, "quiet-alias", io.get_executor());
    co_await session.registry.async_add(remote_alias(node_name(3), "quiet-1", "quiet-alias"), asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    CHECK(server.requests_to(testing::endpoint::health_state) > 0);
    REQUIRE(server.remove_service(node_name(3), "quiet-1"));
    co_await expect_check(watch, status::critical, "Service quiet-1 could not be found on node node-3");
    server.add_service(node_name(3), {"quiet-1", "quiet"});
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await session.close();
  }, 20s);
}

TEST_CASE_METHOD(remote_fixture, "a failing group query: silent once, then critical for every alias, and recovery") {
  constexpr int nodes = 12;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) co_await add_alias(session, state, io, i);

    // One failure of a group query is silent: the next (non-blocking) read succeeds and shows the flip.
    server.inject(testing::fault::no_leader().on_path("/v1/health/state/"));
    co_await flip(server, state, io, 5);
    CHECK(server.faults_injected() == 1);
    for (int i = 0; i < nodes; ++i) CHECK(state.check(alias_name(i))->status == status::passing);

    // A persistent failure: every alias becomes critical with Consul's message.
    server.inject(testing::fault::no_leader().on_path("/v1/health/state/").persistent());
    server.update_check_status(node_name(0), "serfHealth", status::passing, "wake the group queries");
    const std::string failed =
        "Failure checking aliased node or service: Unexpected response code: 500 (No cluster leader)";
    for (int i = 0; i < nodes; ++i) {
      check_watch watch(state, alias_name(i), io.get_executor());
      co_await expect_check(watch, status::critical, failed);
    }
    // Recovery shows as soon as the agent answers again.
    server.clear_faults();
    for (int i = 0; i < nodes; ++i) {
      check_watch watch(state, alias_name(i), io.get_executor());
      co_await expect_check(watch, status::passing, "All checks passing.");
    }
    co_await flip(server, state, io, nodes - 1);
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "group queries match node names case-insensitively, as /v1/health/node does") {
  constexpr int nodes = 10;  // more than the 7 blocking slots: group queries
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) {
      if (i != 3) co_await add_alias(session, state, io, i);
    }
    // The alias names node-3 in capitals; the group filter's `==` is exact, Consul's node look-ups are not.
    check_watch watch(state, alias_name(3), io.get_executor());
    co_await session.registry.async_add(remote_alias("NODE-3", "svc", alias_name(3)), asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    CHECK(server.requests_to(testing::endpoint::health_state) > 0);
    server.update_check_status(node_name(3), "service:svc", status::critical, "down");
    co_await expect_check(watch, status::critical, "Aliased check \"svc check\" failing: down");
    server.update_check_status(node_name(3), "service:svc", status::passing, "up");
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await flip(server, state, io, 4);
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "a slow catalog look-up of one node does not hold up the other nodes of its group") {
  constexpr int nodes = 10;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  server.add_service(node_name(2), {"bare", "bare"});  // a service without checks: the catalog says it exists
  auto options = fast();
  options.request_timeout = std::chrono::seconds(60);  // a slow look-up is not cut short within the test
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), options);
    for (int i = 0; i < nodes; ++i) {
      if (i != 2) co_await add_alias(session, state, io, i);
    }
    check_watch bare(state, alias_name(2), io.get_executor());
    co_await session.registry.async_add(remote_alias(node_name(2), "bare", alias_name(2)), asio::use_awaitable);
    co_await expect_check(bare, status::passing, "All checks passing.");
    // From now on node-2's look-ups take 30 s, far beyond this test's guard. Node 3, in node 2's group (seven
    // groups share the ten sorted nodes: 0, 1, 2-3, 4, 5-6, 7, 8-9), still shows its flip at once.
    server.inject(testing::fault::delayed(std::chrono::seconds(30)).on_path("/v1/catalog/node/").persistent());
    check_watch watch(state, alias_name(3), io.get_executor());
    server.update_check_status(node_name(3), "service:svc", status::critical, "down");
    co_await expect_check(watch, status::critical, "Aliased check \"svc check\" failing: down");
    server.clear_faults();
    co_await session.close();
  }, 10s);
}

TEST_CASE_METHOD(remote_fixture, "aliases with more tokens than blocking slots stay within the connection budget") {
  // Queries of distinct tokens cannot be shared: nine tokens, two nodes each, against seven blocking slots.
  constexpr int tokens = 9, nodes = 2 * tokens;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) co_await add_alias(session, state, io, i, "token-" + std::to_string(i % tokens));
    CHECK(session.hub.watch_count() == nodes);
    server.reset_peak_connections();
    for (int i = 0; i < nodes; ++i) {
      co_await flip(server, state, io, i);
      CHECK(server.held_queries() <= 7);
    }
    CHECK(server.peak_connections() <= 8);
    co_await session.close();
  }, 60s);
}

TEST_CASE_METHOD(remote_fixture, "a change waiting behind an answer is read at once, however long the spacing") {
  // The spacing guards against hot loops on answers that did not move the index; an answer that did move it is
  // followed at once, so flips in quick succession each show without waiting for the spacing.
  auto options = fast();
  options.min_request_spacing = std::chrono::seconds(30);
  for (const int nodes : {1, 10}) {  // a node's own query, then group queries
    INFO(nodes << " nodes");
    for (int i = 0; i < nodes; ++i) add_node(server, i);
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
      remote_session session(io, state, config(), options);
      for (int i = 0; i < nodes; ++i)
        co_await session.registry.async_add(remote_alias(node_name(i), "svc", alias_name(i)), asio::use_awaitable);
      for (int i = 0; i < nodes; ++i) {
        check_watch watch(state, alias_name(i), io.get_executor());
        co_await expect_check(watch, status::passing, "All checks passing.");
      }
      for (int round = 0; round < 3; ++round) co_await flip(server, state, io, nodes - 1);
      co_await session.close();
    }, 10s);
  }
}

TEST_CASE_METHOD(remote_fixture, "two tokens share out every blocking slot between their groups") {
  constexpr int nodes = 20;
  for (int i = 0; i < nodes; ++i) add_node(server, i);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < nodes; ++i) co_await add_alias(session, state, io, i, i % 2 == 0 ? "token-a" : "token-b");
    // Seven group queries in all (four and three), none idle and none beyond the slots.
    co_await yield_until(io, [&] { return server.held_queries() == 7; });
    for (const int i : {0, 1, 18, 19}) co_await flip(server, state, io, i);
    CHECK(server.held_queries() <= 7);
    co_await session.close();
  });
}
