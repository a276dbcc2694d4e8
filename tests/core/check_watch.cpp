#include <coalias/check_watch.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;
using namespace asio::experimental::awaitable_operators;

// Note: never co_await inside a CHECK: Catch's temporaries in that full-expression trip g++ 12's miscompile.

TEST_CASE_METHOD(local_fixture, "next returns the current version first, then each new one") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "c", io.get_executor());
    const auto first = co_await watch.next();
    CHECK(first == state.check("c"));
    state.update_check("c", status::critical, "down");
    state.update_check("c", status::warning, "slow");  // coalesced with the one before
    const auto second = co_await watch.next();
    CHECK(second->status == status::warning);
    CHECK(second->output == "slow");
    state.remove_check("c");
    const auto removed = co_await watch.next();
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
    const auto c = co_await watch.until(status::passing);
    CHECK(c->output == "up");
  });
}

TEST_CASE_METHOD(local_fixture, "a cancelled next leaves the watch usable") {
  state.add_check(make_check("c", status::passing, "web", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    check_watch watch(state, "c", io.get_executor());
    (void)co_await watch.next();
    asio::steady_timer timeout(io, std::chrono::milliseconds(5));
    const auto r = co_await (watch.next() || timeout.async_wait(asio::use_awaitable));
    CHECK(r.index() == 1);  // nothing changed, the timer won
    state.update_check("c", status::critical, "down");
    const auto changed = co_await watch.next();
    CHECK(changed->status == status::critical);
  });
}
