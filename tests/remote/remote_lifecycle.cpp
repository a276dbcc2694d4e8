// Timing and lifetime of remote aliases: backoff, request rate, stop in every state, shared watches.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <thread>

using namespace coalias;
using namespace coalias::test;
using testing::fault;
using std::chrono::milliseconds;

namespace {

std::vector<std::chrono::system_clock::time_point> health_request_times(const testing::consul_test_server& server) {
  std::vector<std::chrono::system_clock::time_point> times;
  for (const auto& r : server.recent_requests())
    if (r.target.rfind("/v1/health/node/", 0) == 0) times.push_back(r.time);
  return times;
}

}  // namespace

TEST_CASE_METHOD(remote_fixture, "a failing server is retried at once, then with exponential backoff up to the cap") {
  auto options = fast();
  options.min_request_spacing = milliseconds(30);
  options.backoff_base = milliseconds(80);
  options.backoff_max = milliseconds(320);
  server.inject(fault::no_leader().on_path("/v1/health/node").persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), options);
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await yield_until(io, [&] { return health_request_times(server).size() >= 9; });
    co_await session.close();
  });
  const auto t = health_request_times(server);
  // Gaps after failures 1..8: the spacing only up to the third failure, then 80, 160, 320, 320, 320 ms (+ <= 20%
  // jitter). The server stamps arrivals, which lag the client's sends by a few ms on a loaded machine (the first
  // request also connects), so each gap is checked to within 10 ms below, and the first one not at all.
  const std::vector<long> expected{30, 30, 30, 80, 160, 320, 320, 320};
  for (std::size_t i = 1; i < expected.size(); ++i) {
    const auto gap = std::chrono::duration_cast<milliseconds>(t[i + 1] - t[i]).count();
    INFO("gap after failure " << i + 1 << ": " << gap << " ms");
    CHECK(gap >= expected[i] - 10);
    CHECK(gap <= expected[i] * 6 / 5 + 60);
  }
  // Never a hot loop: the nine requests took at least the sum of the gaps.
  CHECK(std::chrono::duration_cast<milliseconds>(t[8] - t[0]).count() >= 30 * 3 + 80 + 160 + 320 * 3 - 20);
}

TEST_CASE_METHOD(remote_fixture, "a server that answers at once cannot cause a hot loop") {
  auto options = fast();
  options.min_request_spacing = milliseconds(20);
  server.inject(fault::index_zero().on_path("/v1/health/node").persistent());  // never blocks
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), options);
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    asio::steady_timer window(io, milliseconds(300));
    co_await window.async_wait(asio::use_awaitable);
    co_await session.close();
  });
  const auto n = health_request_times(server).size();
  CHECK(n >= 5);    // it keeps polling...
  CHECK(n <= 17);   // ...at no more than one request per 20 ms (300 ms / 20 ms + the first)
}

TEST_CASE_METHOD(remote_fixture, "stop completes at once with a blocking request in flight") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await yield_until(io, [&] { return server.held_queries() == 1; });
    const auto t0 = std::chrono::steady_clock::now();
    co_await session.registry.async_remove("remote-alias", asio::use_awaitable);
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(state.check("remote-alias") == nullptr);
    CHECK(took < milliseconds(50));  // the bench measures it; this only rules out waiting for the query
    co_await session.hub.async_shutdown(asio::use_awaitable);
    CHECK(server.wait_for_held_queries(0, std::chrono::seconds(5)));  // the in-flight request was aborted
    CHECK(session.hub.watch_count() == 0);
  });
}

TEST_CASE_METHOD(remote_fixture, "stop completes at once during backoff") {
  auto options = fast();
  options.backoff_after = 1;
  options.backoff_base = std::chrono::seconds(30);
  options.backoff_max = std::chrono::seconds(30);
  server.inject(fault::no_leader().persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), options);
    check_watch watch(state, "remote-alias", io.get_executor());
    auto def = remote_alias("db-1", "pg-1");
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::critical,
                          "Failure checking aliased node or service: Unexpected response code: 500 (No cluster leader)");
    const auto t0 = std::chrono::steady_clock::now();
    co_await session.registry.async_shutdown(asio::use_awaitable);
    co_await session.hub.async_shutdown(asio::use_awaitable);  // the watch sleeps 30 s: its timer must be cancelled, not waited out
    CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(100));
  });
}

TEST_CASE_METHOD(remote_fixture, "stop completes at once during a catalog look-up") {
  server.inject(fault::delayed(std::chrono::seconds(30)).on_path("/v1/catalog/node").persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    auto def = remote_alias("db-1", "not-there");  // no check of it: the watch asks the catalog
    co_await session.registry.async_add(def, asio::use_awaitable);
    co_await yield_until(io, [&] { return server.requests_to(testing::endpoint::catalog_node) >= 1; });
    const auto t0 = std::chrono::steady_clock::now();
    co_await session.close();
    CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(100));
  });
}

TEST_CASE_METHOD(remote_fixture, "aliases of one node and token share one watch; it ends with its last alias") {
  for (int n = 2; n <= 4; ++n) {
    const auto node = "db-" + std::to_string(n);
    server.add_node(node);
    server.add_service(node, {"pg-1", "postgres"});
    server.set_check(remote_check(node, "service:pg-1", status::passing, "pg-1", "ok", "pg port"));
  }
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, config(), fast());
    for (int i = 0; i < 40; ++i) {
      auto def = remote_alias("db-" + std::to_string(1 + i % 4), "pg-1", "alias-" + std::to_string(i));
      co_await session.registry.async_add(def, asio::use_awaitable);
    }
    co_await yield_until(io, [&] { return session.hub.watch_count() == 4; });
    CHECK(session.hub.watch_count() == 4);
    co_await yield_until(io, [&] { return server.held_queries() == 4; });
    CHECK(server.open_connections() <= 4 + 1);  // one blocking query per node (+ a pooled idle connection)

    for (int i = 0; i < 40; i += 4) co_await session.registry.async_remove("alias-" + std::to_string(i), asio::use_awaitable);
    CHECK(session.hub.watch_count() == 3);  // db-1's aliases are gone, and so is its watch
    auto again = remote_alias("db-1", "pg-1", "alias-0");
    co_await session.registry.async_add(again, asio::use_awaitable);
    // An alias begins (and subscribes) on the registry's lane after async_add completed, not inside it.
    co_await yield_until(io, [&] { return session.hub.watch_count() == 4; });
    CHECK(session.hub.watch_count() == 4);

    auto other_token = remote_alias("db-1", "pg-1", "alias-other-token");
    other_token.token = "another-token";
    co_await session.registry.async_add(other_token, asio::use_awaitable);
    co_await yield_until(io, [&] { return session.hub.watch_count() != 4; });
    CHECK(session.hub.watch_count() == 5);  // a different token never shares a query
    co_await session.close();
  });
}

TEST_CASE_METHOD(remote_fixture, "shared watches under churn from several threads stay correct") {
  for (int n = 2; n <= 5; ++n) {
    const auto node = "db-" + std::to_string(n);
    server.add_node(node);
    server.add_service(node, {"pg-1", "postgres"});
    server.set_check(remote_check(node, "service:pg-1", status::passing, "pg-1", "ok", "pg port"));
  }
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });
  {
    remote_session session(io, state, config(), fast());
    std::vector<std::thread> churners;
    for (int t = 0; t < 3; ++t) {
      churners.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t + 7));
        for (int i = 0; i < 150; ++i) {
          const auto id = "alias-" + std::to_string(t) + "-" + std::to_string(rng() % 10);
          auto def = remote_alias("db-" + std::to_string(1 + rng() % 5), "pg-1", id);
          if (rng() % 3 == 0)
            session.registry.async_remove(id, [](std::error_code) {});  // unknown_check when already gone
          else
            session.registry.async_replace(def, asio::use_future).get();
          if (i % 25 == 0)
            server.update_check_status("db-" + std::to_string(1 + rng() % 5), "service:pg-1",
                                       rng() % 2 ? status::passing : status::critical, "flip");
        }
      });
    }
    for (auto& c : churners) c.join();
    for (int n = 1; n <= 5; ++n)
      server.update_check_status("db-" + std::to_string(n), "service:pg-1", status::warning, "final");
    // Every remaining alias converges to the final state; the watches are exactly the nodes still aliased.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto settled = [&] {
      for (const auto& c : state.snapshot("sidecar").checks)
        if (c->status != status::warning || c->output != "Aliased check \"pg port\" failing: final") return false;
      return true;
    };
    while (!settled() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    CHECK(settled());
    CHECK(session.registry.size() == state.snapshot("sidecar").checks.size());
    CHECK(session.hub.watch_count() <= 5);
    session.registry.async_shutdown(asio::use_future).get();
    session.hub.async_shutdown(asio::use_future).get();
    CHECK(session.hub.watch_count() == 0);
  }
  work.reset();
  for (auto& r : runners) r.join();
}

TEST_CASE_METHOD(remote_fixture, "more watched nodes than connections: queries queue for a slot, never time out") {
  for (int n = 2; n <= 4; ++n) {
    const auto node = "db-" + std::to_string(n);
    server.add_node(node);
    server.add_service(node, {"pg-1", "postgres"});
    server.set_check(remote_check(node, "service:pg-1", status::passing, "pg-1", "ok", "pg port"));
  }
  auto cfg = config();
  cfg.max_connections = 2;  // one blocking query at a time, one connection kept for catalog look-ups
  cfg.wait = milliseconds(300);
  auto options = fast();
  options.request_timeout = milliseconds(200);  // shorter than a held query: time spent queued would fail it
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, state, cfg, options);
    for (int n = 1; n <= 4; ++n) {
      auto def = remote_alias("db-" + std::to_string(n), "pg-1", "alias-" + std::to_string(n));
      co_await session.registry.async_add(def, asio::use_awaitable);
    }
    // Over several rounds of held queries on a quiet cluster, no alias ever shows a failure.
    const auto until = std::chrono::steady_clock::now() + milliseconds(1500);
    bool all_passing_seen = false;
    while (std::chrono::steady_clock::now() < until) {
      bool all_passing = true;
      for (int n = 1; n <= 4; ++n) {
        const auto c = state.check("alias-" + std::to_string(n));
        INFO(c->output);
        CHECK(c->output.find("Failure checking") == std::string::npos);
        all_passing = all_passing && c->status == status::passing;
      }
      all_passing_seen = all_passing_seen || all_passing;
      asio::steady_timer tick(io, milliseconds(20));
      co_await tick.async_wait(asio::use_awaitable);
    }
    CHECK(all_passing_seen);
    CHECK(server.peak_connections() <= 2);
    co_await session.close();
  });
}
