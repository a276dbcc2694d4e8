#include <coalias/check_watch.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <array>
#include <thread>

using namespace coalias;
using namespace coalias::test;
using namespace asio::experimental::awaitable_operators;

// Note: never co_await inside a CHECK: Catch's temporaries in that full-expression trip g++ 12's miscompile.

TEST_CASE_METHOD(local_fixture, "next returns the current version first, then each new one") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "c", io.get_executor());
    const auto first = co_await watch.async_next(asio::use_awaitable);
    CHECK(first == state.check("c"));
    state.update_check("c", status::critical, "down");
    state.update_check("c", status::warning, "slow");  // coalesced with the one before
    const auto second = co_await watch.async_next(asio::use_awaitable);
    CHECK(second->status == status::warning);
    CHECK(second->output == "slow");
    state.remove_check("c");
    const auto removed = co_await watch.async_next(asio::use_awaitable);
    CHECK(removed == nullptr);
  });
}

TEST_CASE_METHOD(local_fixture, "until waits for a status, ignoring other versions") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "c", io.get_executor());
    asio::steady_timer later(io, std::chrono::milliseconds(1));
    later.async_wait([&](std::error_code) {
      state.add_check(make_check("c", status::critical, "web", "booting"));
      state.update_check("c", status::passing, "up");
    });
    const auto c = co_await watch.async_until(status::passing, asio::use_awaitable);
    CHECK(c->output == "up");
  });
}

TEST_CASE_METHOD(local_fixture, "a cancelled next leaves the watch usable") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "c", io.get_executor());
    (void)co_await watch.async_next(asio::use_awaitable);
    asio::steady_timer timeout(io, std::chrono::milliseconds(5));
    const auto r = co_await (watch.async_next(asio::use_awaitable) || timeout.async_wait(asio::use_awaitable));
    CHECK(r.index() == 1);  // nothing changed, the timer won
    state.update_check("c", status::critical, "down");
    const auto changed = co_await watch.async_next(asio::use_awaitable);
    CHECK(changed->status == status::critical);
  });
}

TEST_CASE_METHOD(local_fixture, "async_next works with callbacks, futures, deferred and parallel_group") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  asio::io_context io;
  check_watch watch(state, "c", io.get_executor());

  std::error_code callback_ec = asio::error::would_block;
  check_watch::version callback_version;
  watch.async_next([&](std::error_code ec, check_watch::version v) {
    callback_ec = ec;
    callback_version = std::move(v);
  });
  CHECK(callback_version == nullptr);  // never completes inside the initiating call
  io.run();
  CHECK_FALSE(callback_ec);
  CHECK(callback_version == state.check("c"));

  io.restart();
  auto deferred = watch.async_next(asio::experimental::deferred);  // nothing starts until it is launched
  state.update_check("c", status::warning, "slow");
  check_watch::version deferred_version;
  std::move(deferred)([&](std::error_code, check_watch::version v) { deferred_version = std::move(v); });
  io.run();
  REQUIRE(deferred_version);
  CHECK(deferred_version->status == status::warning);

  io.restart();
  std::thread runner([&] {
    auto guard = asio::make_work_guard(io);
    io.run_for(std::chrono::seconds(5));
  });
  auto future = watch.async_next(asio::use_future);
  state.update_check("c", status::critical, "down");
  const auto from_future = future.get();
  io.stop();
  runner.join();
  CHECK(from_future->status == status::critical);

  io.restart();
  asio::steady_timer never(io, std::chrono::hours(1));
  std::size_t winner = 9;
  asio::experimental::make_parallel_group(watch.async_until(status::passing, asio::experimental::deferred),
                                          never.async_wait(asio::experimental::deferred))
      .async_wait(asio::experimental::wait_for_one(),
                  [&](std::array<std::size_t, 2> order, std::error_code ec, check_watch::version v, std::error_code) {
                    winner = order[0];
                    CHECK_FALSE(ec);
                    CHECK(v->status == status::passing);
                  });
  state.update_check("c", status::passing, "back");
  io.run();
  CHECK(winner == 0);
}

TEST_CASE_METHOD(local_fixture, "a cancelled async_next completes with operation_aborted") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  asio::io_context io;
  check_watch watch(state, "c", io.get_executor());
  watch.async_next([](std::error_code, check_watch::version) {});
  io.run();
  io.restart();
  asio::cancellation_signal cancel;
  std::error_code result;
  check_watch::version version = state.check("c");
  watch.async_next(asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec, check_watch::version v) {
    result = ec;
    version = std::move(v);
  }));
  io.poll();
  cancel.emit(asio::cancellation_type::total);
  io.run();
  CHECK(result == asio::error::operation_aborted);
  CHECK(version == nullptr);
}
