// Adding, removing and shutting down: errors, deregistration and its bound, stops during a request, cancellation
// that completion ignores, and every completion token (callbacks, use_awaitable, use_future).
#include <coalias/ttl_publisher.hpp>

#include <coalias/error.hpp>

#include "coro_test.hpp"
#include "publish_fixture.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <future>
#include <optional>
#include <thread>

using namespace coalias;
using namespace coalias::test;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

TEST_CASE_METHOD(publish_fixture, "add refuses a published ID, an empty ID, and anything after shutdown") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    auto [ok] = co_await publisher.async_add(check("c1"), tuple);
    CHECK_FALSE(ok);
    auto [again] = co_await publisher.async_add(check("c1"), tuple);
    CHECK(again == errc::alias_exists);
    auto [empty] = co_await publisher.async_add(check(""), tuple);
    CHECK(empty == errc::invalid_argument);
    auto [unknown] = co_await publisher.async_remove("nope", false, tuple);
    CHECK(unknown == errc::unknown_check);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
    auto [late] = co_await publisher.async_add(check("c2"), tuple);
    CHECK(late == errc::shut_down);
    auto [gone] = co_await publisher.async_remove("c1", false, tuple);
    CHECK(gone == errc::unknown_check);
    CHECK(publisher.size() == 0);
    co_await publisher.async_shutdown(false, asio::use_awaitable);  // again: harmless
  });
}

TEST_CASE_METHOD(publish_fixture, "a bad ttl or backoff is refused at construction") {
  asio::io_context io;
  auto o = fast();
  o.ttl = 2ms;
  CHECK_THROWS_AS(ttl_publisher(io.get_executor(), state, config(), o), std::system_error);
  o = fast();
  o.backoff_max = 1ms;
  CHECK_THROWS_AS(ttl_publisher(io.get_executor(), state, config(), o), std::system_error);
}

TEST_CASE_METHOD(publish_fixture, "remove with deregistration takes the check off the agent and the catalog") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    co_await publisher.async_remove("c1", true, asio::use_awaitable);
    CHECK_FALSE(publisher.stats("c1"));
    CHECK(server.agent_checks().empty());
    CHECK(server.checks("test-agent").empty());
    CHECK(observer.events().back() == "deregistered c1");
    const auto writes = server.agent_writes();
    state.update_check("c1", status::critical, "after");  // nobody follows it any more
    co_await publisher.async_add(check("c2"), asio::use_awaitable);  // a round trip later...
    co_await until([&] { return agent("c2").has_value(); });
    CHECK_FALSE(agent("c1"));
    CHECK(server.agent_writes() > writes);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "remove without deregistration leaves the check to expire on the agent") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    co_await publisher.async_remove("c1", false, asio::use_awaitable);
    REQUIRE(agent("c1"));
    server.advance_agent_clock(30s);
    CHECK(agent_shows("c1", status::critical, "TTL expired (last output before timeout follows): all good"));
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "deregistration is bounded by deregister_timeout") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto o = fast();
    o.deregister_timeout = 100ms;
    ttl_publisher publisher(io.get_executor(), state, config(), o);
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    server.inject(testing::fault::delayed(10s).on_path("/v1/agent/check/deregister/"));
    const auto start = std::chrono::steady_clock::now();
    co_await publisher.async_remove("c1", true, asio::use_awaitable);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 100ms);
    CHECK(took < 2s);
    CHECK(observer.saw_prefix("failed c1: deregistration failed: "));
    CHECK_FALSE(observer.saw("deregistered c1"));
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a stop during a slow request ends the task at once") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    server.inject(testing::fault::delayed(10s).on_path("/v1/agent/check/update/"));
    state.update_check("c1", status::critical, "slow");
    co_await until([&] { return server.faults_injected() == 1; });
    const auto start = std::chrono::steady_clock::now();
    co_await publisher.async_shutdown(false, asio::use_awaitable);
    CHECK(std::chrono::steady_clock::now() - start < 500ms);
    CHECK(publisher.size() == 0);
  });
}

TEST_CASE_METHOD(publish_fixture, "remove and shutdown ignore cancellation: completion means the task ended") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await publisher.async_add(check("c2"), asio::use_awaitable);
    co_await until([&] { return agent("c1") && agent("c2"); });
    asio::steady_timer at_once(io, 0ms);
    // The timer wins the race and `||` cancels the remove: it still completes only after the task ended.
    co_await (publisher.async_remove("c1", true, asio::use_awaitable) || at_once.async_wait(asio::use_awaitable));
    CHECK_FALSE(publisher.stats("c1"));
    CHECK_FALSE(agent("c1"));

    asio::cancellation_signal cancel;
    bool done = false;
    publisher.async_shutdown(true, asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
                               CHECK_FALSE(ec);
                               done = true;
                             }));
    cancel.emit(asio::cancellation_type::terminal);
    co_await until([&] { return done; });
    CHECK(server.agent_checks().empty());
  });
}

TEST_CASE_METHOD(publish_fixture, "callbacks run on the handler's executor, never inside the initiating call") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    bool added = false, inside = true;
    publisher.async_add(check("c1"), [&](std::error_code ec) {
      CHECK_FALSE(ec);
      CHECK_FALSE(inside);
      added = true;
    });
    inside = false;
    co_await until([&] { return added; });
    bool removed = false;
    publisher.async_remove("c1", true, [&](std::error_code ec) {
      CHECK_FALSE(ec);
      removed = true;
    });
    co_await until([&] { return removed; });
    bool shut = false;
    publisher.async_shutdown(false, [&](std::error_code ec) {
      CHECK_FALSE(ec);
      shut = true;
    });
    co_await until([&] { return shut; });
  });
}

TEST_CASE_METHOD(publish_fixture, "use_future from another thread: add, replace, remove, shutdown") {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    publisher.async_add(check("c1"), asio::use_future).get();
    publisher.async_replace(check("c1", "renamed"), asio::use_future).get();
    publisher.async_add(check("c2"), asio::use_future).get();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!(agent("c1") && agent("c1")->name == "renamed" && agent("c2")) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);  // a wait for a state, bounded: the publisher runs on `runner`
    REQUIRE(agent("c2"));
    publisher.async_remove("c2", true, asio::use_future).get();
    CHECK_FALSE(agent("c2"));
    publisher.async_shutdown(true, asio::use_future).get();
    CHECK(server.agent_checks().empty());
  }
  work.reset();
  runner.join();
}

TEST_CASE_METHOD(publish_fixture, "a removed ID can be published again at once: the new task starts after the old ended") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1", "first"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    bool removed = false;
    publisher.async_remove("c1", false, [&](std::error_code) { removed = true; });
    co_await publisher.async_add(check("c1", "second"), asio::use_awaitable);
    co_await until([&] { return removed && agent("c1") && agent("c1")->name == "second"; });
    co_await until([&] { return publisher.stats("c1") && publisher.stats("c1")->updates == 1; });
    CHECK(publisher.stats("c1")->registrations == 1);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "after shutdown nothing of the publisher waits: its io_context runs dry at once") {
  // A retry waiting out a 10 s backoff, a request in flight and the heartbeat wheel: a timer or a handler left
  // behind would keep io.run() going for seconds.
  asio::io_context io;
  state.add_check(make_check("c2", status::passing, "", "all good"));
  std::optional<ttl_publisher> publisher;
  auto o = fast();
  o.backoff_after = 0;
  o.backoff_base = 10s;
  o.backoff_max = 20s;
  publisher.emplace(io.get_executor(), state, config(), o);
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await publisher->async_add(check("c1"), asio::use_awaitable);
        co_await publisher->async_add(check("c2"), asio::use_awaitable);
        co_await until([&] { return publisher->stats("c1")->updates == 1 && publisher->stats("c2")->updates == 1; });
        server.inject(testing::fault::with_status(500, "boom").on_path("/v1/agent/check/update/c1").persistent());
        server.inject(testing::fault::delayed(10s).on_path("/v1/agent/check/update/c2"));
        state.update_check("c1", status::critical, "down");
        state.update_check("c2", status::critical, "down");
        co_await until([&] { return publisher->stats("c1")->failures == 1 && server.faults_injected() >= 2; });
        co_await publisher->async_shutdown(false, asio::use_awaitable);
        publisher.reset();
        done = true;
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run_for(15s);  // returns early once nothing is left to run
  CHECK(done);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}
