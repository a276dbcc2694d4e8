// Fidelity to Consul's alias check where coalias used to differ: services without checks, recovery after an
// outage, rows of other nodes in a health answer, and the messages of connection and address errors.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <string>
#include <unistd.h>

using namespace coalias;
using namespace coalias::test;
using testing::fault;
using namespace std::chrono_literals;

namespace {

constexpr const char* failure = "Failure checking aliased node or service: ";

// A /v1/health/node body whose one row belongs to another node (as an answer for a node ID, or from a proxy).
const std::string foreign_row =
    R"([{"Node":"db-2","CheckID":"service:web-1","Name":"web http","Status":"passing","Notes":"","Output":"ok",)"
    R"("ServiceID":"web-1","ServiceName":"web","ServiceTags":[],"Type":"http","CreateIndex":20,"ModifyIndex":20}])";

}  // namespace

TEST_CASE_METHOD(remote_fixture, "a service without checks that is deregistered, then registered again, is noticed") {
  server.add_service("db-1", {"quiet-1", "quiet"});
  auto cfg = config();
  cfg.wait = 200ms;  // nothing wakes the node's held query: its checks never change
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, cfg, fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "quiet-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    REQUIRE(server.remove_service("db-1", "quiet-1"));
    co_await expect_check(watch, status::critical, "Service quiet-1 could not be found on node db-1");
    server.add_service("db-1", {"quiet-1", "quiet"});
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await session.close();
  }, 10s);
}

TEST_CASE_METHOD(remote_fixture, "after an outage the alias recovers at once, without blocking on the old index") {
  auto cfg = config();
  cfg.wait = 60s;  // a query blocking on the old index would keep the alias failed for a minute
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, cfg, fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    // The outage: every request fails from now on. An output-only change ends the held query (its answer is
    // still good), so the next ones meet the fault; the alias's status does not change with it.
    while (server.held_queries() != 1) co_await asio::post(io, asio::use_awaitable);
    server.inject(fault::no_leader().on_path("/v1/health/node").persistent());
    REQUIRE(server.update_check_status("db-1", "serfHealth", status::passing, "still alive"));
    co_await expect_check(watch, status::critical,
                          std::string(failure) + "Unexpected response code: 500 (No cluster leader)");
    // The agent answers again, and nothing changes on the node.
    server.clear_request_log();
    const auto back = std::chrono::steady_clock::now();
    server.clear_faults();
    co_await expect_check(watch, status::passing, "All checks passing.");
    CHECK(std::chrono::steady_clock::now() - back < 10s);
    // The first request after the outage asked without an index: a read, not a wait.
    bool unblocked_read = false;
    for (const auto& r : server.recent_requests()) {
      if (r.target.rfind("/v1/health/node/db-1", 0) != 0) continue;
      unblocked_read = r.target.find("index=") == std::string::npos;
      break;
    }
    CHECK(unblocked_read);
    co_await session.close();
  }, 20s);
}

TEST_CASE_METHOD(remote_fixture, "rows of other nodes in a health answer do not prove the aliased service exists") {
  // malformed_json with a body serves that body verbatim, with the real index.
  auto rows = fault::malformed_json();
  rows.body = foreign_row;
  server.inject(rows.on_path("/v1/health/node/db-1").persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "web-1");  // db-1 has no web-1; db-2's row names one
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::critical, "Service web-1 could not be found on node db-1");
    co_await session.close();
  });
  CHECK(server.requests_to(testing::endpoint::catalog_node) >= 1);
}

TEST_CASE_METHOD(remote_fixture, "a node alias whose answer holds only other nodes' rows asks the catalog") {
  auto rows = fault::malformed_json();
  rows.body = foreign_row;
  server.inject(rows.on_path("/v1/health/node/ghost").persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("ghost", "");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::critical, "Node ghost could not be found");
    co_await session.close();
  });
}

TEST_CASE("a missing unix socket is reported by its path") {
  local_fixture agent;
  const std::string path = "/tmp/coalias-no-such-" + std::to_string(::getpid()) + ".sock";
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    consul_config cfg;
    cfg.address = consul_address::parse("unix://" + path);
    remote_session session(io, agent.state, cfg, remote_fixture::fast());
    check_watch watch(agent.state, "remote-alias", io.get_executor());
    auto def = remote_fixture::remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::critical,
                          std::string(failure) + "Failed to connect to unix socket " + path +
                              ": No such file or directory");
    co_await session.close();
  });
}

TEST_CASE("a bad CONSUL_HTTP_ADDR reads as consul_address::parse's message, with the variable's name in front") {
  for (const char* bad : {"ftp://x", "host:99999", "http://u@h", "::1"}) {
    INFO(bad);
    std::string direct, from_env;
    try {
      (void)consul_address::parse(bad);
    } catch (const std::system_error& e) {
      direct = e.what();
    }
    try {
      (void)from_environment([&](std::string_view name) -> std::optional<std::string> {
        if (name == "CONSUL_HTTP_ADDR") return bad;
        return std::nullopt;
      });
    } catch (const std::system_error& e) {
      from_env = e.what();
    }
    REQUIRE_FALSE(direct.empty());
    CHECK(from_env == "CONSUL_HTTP_ADDR: " + direct);
  }
}
