// Every fault of the test server: the status a remote alias shows, and its recovery.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"

#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;
using testing::fault;

namespace {

constexpr const char* failure = "Failure checking aliased node or service: ";

// Waits for the alias to show a failure whose output starts with `prefix`, then clears the fault and waits for
// recovery to the healthy state.
asio::awaitable<void> shows_then_recovers(remote_fixture& f, asio::io_context& io, fault injected,
                                          std::string prefix, remote_options options = remote_fixture::fast()) {
  remote_session session(io, f.state, f.config(), options);
  check_watch watch(f.state, "remote-alias", io.get_executor());
  auto def = remote_fixture::remote_alias("db-1", "pg-1");
  co_await session.registry.async_add(def, asio::use_awaitable);
  co_await expect_check(watch, status::passing, "All checks passing.");

  f.server.inject(injected.persistent());
  f.server.update_check_status("db-1", "service:pg-1", status::warning, "wake the blocking query");
  for (;;) {
    const auto c = co_await watch.async_next(asio::use_awaitable);
    if (c->status != status::critical) continue;
    INFO(c->output);
    CHECK(c->output.rfind(prefix, 0) == 0);
    break;
  }
  f.server.clear_faults();
  co_await expect_check(watch, status::warning, "Aliased check \"pg port\" failing: wake the blocking query");
  co_await session.close();
}

}  // namespace

TEST_CASE_METHOD(remote_fixture, "500 No cluster leader: critical with Consul's message, then recovery") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::no_leader(),
                               std::string(failure) + "Unexpected response code: 500 (No cluster leader)");
  });
}

TEST_CASE_METHOD(remote_fixture, "429 too many connections") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::too_many_connections(),
                               std::string(failure) +
                                   "Unexpected response code: 429 (Your IP is issuing too many concurrent connections, "
                                   "please rate limit your calls)");
  });
}

TEST_CASE_METHOD(remote_fixture, "403 Permission denied") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::permission_denied(),
                               std::string(failure) + "Unexpected response code: 403 (Permission denied)");
  });
}

TEST_CASE_METHOD(remote_fixture, "malformed JSON") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::malformed_json(), std::string(failure) + "Invalid response body: ");
  });
}

TEST_CASE_METHOD(remote_fixture, "truncated JSON") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::truncated_json(), std::string(failure) + "Invalid response body: ");
  });
}

TEST_CASE_METHOD(remote_fixture, "a Content-Length that lies") {
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::lying_content_length(), failure);
  });
}

TEST_CASE_METHOD(remote_fixture, "a dropped connection") {
  run_coro([&](asio::io_context& io) { return shows_then_recovers(*this, io, fault::drop_connection(), failure); });
}

TEST_CASE_METHOD(remote_fixture, "a server that hangs past the client timeout") {
  auto options = fast();
  options.request_timeout = std::chrono::milliseconds(100);
  run_coro([&](asio::io_context& io) {
    return shows_then_recovers(*this, io, fault::delayed(std::chrono::seconds(3)),
                               std::string(failure) + "Operation timed out", options);
  });
}

TEST_CASE_METHOD(remote_fixture, "a single failure is silent") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    const auto before = state.check("remote-alias");
    const auto faults = server.faults_injected();
    server.inject(fault::no_leader());  // exactly one request fails
    server.update_check_status("db-1", "serfHealth", status::passing, "still alive");  // wakes the query
    while (server.faults_injected() == faults) co_await asio::post(io, asio::use_awaitable);
    const auto requests = server.total_requests();
    while (server.total_requests() < requests + 2) co_await asio::post(io, asio::use_awaitable);
    CHECK(state.check("remote-alias") == before);  // never written: no "Failure checking ..." flap
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "an index that goes backwards or to 0 resets the blocking index") {
  for (const auto& f : {fault::index_regress(3), fault::index_zero()}) {
    server.clear_request_log();
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
      remote_session session(io, state, config(), fast());
      check_watch watch(state, "remote-alias", io.get_executor());
      auto def = remote_alias("db-1", "pg-1");
      co_await session.registry.async_add(def, asio::use_awaitable);
      co_await expect_check(watch, status::passing, "All checks passing.");
      server.inject(f.on_path("/v1/health/node"));
      server.update_check_status("db-1", "service:pg-1", status::critical, "down");
      co_await expect_check(watch, status::critical, "Aliased check \"pg port\" failing: down");
      // The request after the fault blocks on index 1: reset to 0, then never below 1.
      bool reset_seen = false;
      while (!reset_seen) {
        for (const auto& r : server.recent_requests())
          reset_seen = reset_seen || r.target.find("/v1/health/node/db-1?stale&index=1&") == 0;
        if (!reset_seen) co_await asio::post(io, asio::use_awaitable);
      }
      server.update_check_status("db-1", "service:pg-1", status::passing, "up");
      co_await expect_check(watch, status::passing, "All checks passing.");
      co_await session.close();
    });
    server.update_check_status("db-1", "service:pg-1", status::passing, "accepting connections");
    // The session's last blocking query, sent at once after the answer that showed "passing", may still reach the
    // server after the session closed; once every connection is gone, none can take the next round's one fault.
    REQUIRE(server.wait_for_open_connections(0, std::chrono::seconds(5)));
  }
}

TEST_CASE("a server that refuses connections shows as a failure") {
  local_fixture agent;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    consul_config cfg;
    cfg.address = consul_address::parse("127.0.0.1:1");  // nothing listens on port 1
    remote_session session(io, agent.state, cfg, remote_fixture::fast());
    check_watch watch(agent.state, "remote-alias", io.get_executor());
    auto def = remote_fixture::remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    for (;;) {
      const auto c = co_await watch.async_next(asio::use_awaitable);
      if (c->output.empty()) continue;  // registered, not yet evaluated
      CHECK(c->status == status::critical);
      CHECK(c->output.rfind("Failure checking aliased node or service: Failed to connect to 127.0.0.1 port 1", 0) == 0);
      break;
    }
    co_await session.close();
  });
}
