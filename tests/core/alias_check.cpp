#include <coalias/alias_check.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <future>
#include <thread>

using namespace coalias;
using namespace coalias::test;
using std::chrono::milliseconds;

namespace {

// Registers the alias's own check, as a registry would, and starts the alias.
alias_check start(asio::io_context& io, local_state& state, const alias_definition& def) {
  state.add_check(make_check(def.check_id, status::critical, def.service_id));
  return alias_check::start_local(io.get_executor(), state, def);
}

// Lets every queued handler run a few rounds, so a task that was (wrongly) still alive would act.
asio::awaitable<void> drain(asio::io_context& io) {
  for (int i = 0; i < 20; ++i) co_await asio::post(io, asio::use_awaitable);
}

}  // namespace

TEST_CASE_METHOD(local_fixture, "an alias evaluates at once, without any change") {
  state.add_check(make_check("web-check", status::critical, "web", "down", "web check"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("web"));
    co_await expect_check(watch, status::critical, "Aliased check \"web check\" failing: down");
    co_await alias.async_stop(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "an alias of a missing service is critical until the service appears") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("api"));
    co_await expect_check(watch, status::critical, "Service api could not be found on node node-1");
    state.add_service({"api", "api"});
    co_await expect_check(watch, status::passing, "No checks found.");
    state.add_check(make_check("api-check", status::warning, "api", "slow", "api check"));
    co_await expect_check(watch, status::warning, "Aliased check \"api check\" failing: slow");
    state.remove_service("api");
    co_await expect_check(watch, status::critical, "Service api could not be found on node node-1");
    co_await alias.async_stop(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "node-level checks wake service aliases at once") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("web"));  // refresh: one hour
    co_await expect_check(watch, status::passing, "All checks passing.");
    state.add_check(make_check("serfHealth", status::critical, "", "Agent not live or unreachable", "Serf Health Status"));
    co_await expect_check(watch, status::critical,
                          "Aliased check \"Serf Health Status\" failing: Agent not live or unreachable");
    state.update_check("serfHealth", status::passing, "Agent alive and reachable");
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await alias.async_stop(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "an alias never counts its own check") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto def = alias_of("web");
    def.service_id.clear();  // a node-level alias check: it would otherwise count for itself, critical at start
    check_watch watch(state, def.check_id, io.get_executor());
    auto alias = start(io, state, def);
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await alias.async_stop(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "the refresh timer repairs a dropped wake-up") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch refreshed(state, "fast", io.get_executor());
    auto fast = start(io, state, alias_of("web", "fast", milliseconds(20)));
    auto slow = start(io, state, alias_of("web", "slow", std::chrono::hours(1)));
    co_await expect_check(refreshed, status::passing, "All checks passing.");
    check_watch control(state, "slow", io.get_executor());
    co_await expect_check(control, status::passing, "All checks passing.");

    state.drop_wakeups_for_testing(true);  // the edge is missed
    state.update_check("web-check", status::critical, "down");
    co_await expect_check(refreshed, status::critical, "Aliased check \"web-check\" failing: down");
    CHECK(state.check("slow")->status == status::passing);  // without a refresh the missed edge stays missed

    co_await fast.async_stop(asio::use_awaitable);
    co_await slow.async_stop(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "stop before the task ever ran: it never writes") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto alias = start(io, state, alias_of("web"));
    const auto registered = state.check("sidecar-alias");
    co_await alias.async_stop(asio::use_awaitable);
    co_await drain(io);
    CHECK(state.check("sidecar-alias") == registered);
  });
}

TEST_CASE_METHOD(local_fixture, "stop while idle: completes, and the task never writes again") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("web"));
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await alias.async_stop(asio::use_awaitable);
    state.update_check("web-check", status::critical, "down");
    co_await drain(io);
    CHECK(state.check("sidecar-alias")->output == "All checks passing.");
  });
}

TEST_CASE_METHOD(local_fixture, "stop with a wake-up pending, twice, and after the end") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("web"));
    co_await expect_check(watch, status::passing, "All checks passing.");
    state.update_check("web-check", status::critical, "down");  // wake-up queued, not yet handled
    std::error_code first = asio::error::would_block, second = asio::error::would_block;
    alias.async_stop([&](std::error_code ec) { first = ec; });
    co_await alias.async_stop(asio::use_awaitable);
    second = {};
    co_await drain(io);
    CHECK_FALSE(first);
    CHECK_FALSE(second);
    co_await alias.async_stop(asio::use_awaitable);  // already ended: completes at once
  });
}

TEST_CASE_METHOD(local_fixture, "stop through a future from another thread while the io_context runs") {
  state.add_check(make_check("web-check", status::passing, "web"));
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto alias = start(io, state, alias_of("web"));
  alias.async_stop(asio::use_future).get();
  const auto after = state.check("sidecar-alias");
  state.update_check("web-check", status::critical, "down");
  // A round trip through the io_context: anything the task could still do would have been queued before it.
  std::promise<void> flushed;
  asio::post(io, [&] { flushed.set_value(); });
  flushed.get_future().wait();
  CHECK(state.check("sidecar-alias") == after);
  work.reset();
  runner.join();
}

TEST_CASE_METHOD(local_fixture, "a stop whose caller cancels still completes only after the task ended") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto alias = start(io, state, alias_of("web"));
    co_await expect_check(watch, status::passing, "All checks passing.");
    asio::cancellation_signal cancel;
    bool completed = false;
    std::error_code result = asio::error::would_block;
    alias.async_stop(asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
      completed = true;
      result = ec;
    }));
    for (const auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                            asio::cancellation_type::total})
      cancel.emit(type);
    co_await drain(io);
    CHECK(completed);
    CHECK(result == std::error_code{});  // not operation_aborted: the stop happened
    const auto after = state.check("sidecar-alias");
    state.update_check("web-check", status::critical, "down");
    co_await drain(io);
    CHECK(state.check("sidecar-alias") == after);
  });
}

TEST_CASE_METHOD(local_fixture, "a start_local with a remote target or no ID is refused") {
  asio::io_context io;
  auto remote = alias_of("web");
  remote.target.node = "elsewhere";
  CHECK_THROWS_AS(alias_check::start_local(io.get_executor(), state, remote), std::system_error);
  CHECK_THROWS_AS(alias_check::start_local(io.get_executor(), state, alias_of("web", "")), std::system_error);
}
