#include <coalias/alias_registry.hpp>

#include <coalias/error.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <thread>

using namespace coalias;
using namespace coalias::test;

namespace {

// Runs a registry operation and returns the errc it failed with (or success).
template <class Op>
asio::awaitable<std::error_code> failure_of(Op op) {
  auto [e] = co_await op(asio::experimental::as_tuple(asio::use_awaitable));
  if (!e) co_return std::error_code{};
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& error) {
    co_return error.code();
  }
}

}  // namespace

TEST_CASE_METHOD(local_fixture, "add registers the alias's check and evaluates it") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto def = alias_of("web");
    co_await registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    const auto registered = state.check("sidecar-alias");
    CHECK(registered->service_id == "sidecar");
    CHECK(registered->name == "Sidecar alias");
    CHECK(registered->node == "node-1");
    CHECK(registry.size() == 1);
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "add refuses a taken ID, a bad definition and an unknown owning service") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    auto def = alias_of("web");
    co_await registry.async_add(def, asio::use_awaitable);
    const auto taken = co_await failure_of([&](auto token) { return registry.async_add(def, token); });
    CHECK(taken == errc::alias_exists);

    auto empty_id = alias_of("web", "");
    const auto bad = co_await failure_of([&](auto token) { return registry.async_add(empty_id, token); });
    CHECK(bad == errc::invalid_argument);

    auto orphan = alias_of("web", "orphan");
    orphan.service_id = "no-such-sidecar";
    const auto unknown = co_await failure_of([&](auto token) { return registry.async_add(orphan, token); });
    CHECK(unknown == errc::unknown_service);
    CHECK(state.check("orphan") == nullptr);
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "replace switches the target without the check flapping") {
  state.add_check(make_check("web-check", status::passing, "web"));
  state.add_check(make_check("db-check", status::warning, "db", "lagging", "db check"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    check_watch watch(state, "sidecar-alias", io.get_executor());
    auto def = alias_of("web");
    co_await registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");

    auto renamed = alias_of("web");
    renamed.name = "Renamed alias";
    co_await registry.async_replace(renamed, asio::use_awaitable);
    const auto after_rename = state.check("sidecar-alias");
    CHECK(after_rename->name == "Renamed alias");
    CHECK(after_rename->status == status::passing);  // kept, not reset to critical
    CHECK(after_rename->output == "All checks passing.");

    auto to_db = alias_of("db");
    co_await registry.async_replace(to_db, asio::use_awaitable);
    co_await expect_check(watch, status::warning, "Aliased check \"db check\" failing: lagging");
    CHECK(registry.size() == 1);
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "replace of an unknown ID adds it") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    auto def = alias_of("web");
    co_await registry.async_replace(def, asio::use_awaitable);
    CHECK(registry.contains("sidecar-alias"));
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "remove stops the alias and deregisters its check") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    auto def = alias_of("web");
    co_await registry.async_add(def, asio::use_awaitable);
    const bool removed = co_await registry.async_remove("sidecar-alias", asio::use_awaitable);
    CHECK(removed);
    CHECK(state.check("sidecar-alias") == nullptr);
    CHECK(registry.size() == 0);
    const bool again = co_await registry.async_remove("sidecar-alias", asio::use_awaitable);
    CHECK_FALSE(again);
    // The ID is free again.
    co_await registry.async_add(def, asio::use_awaitable);
    CHECK(registry.contains("sidecar-alias"));
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "shutdown stops every alias and refuses new ones") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    for (int i = 0; i < 50; ++i) {
      auto def = alias_of(i % 2 ? "web" : "db", "alias-" + std::to_string(i));
      co_await registry.async_add(def, asio::use_awaitable);
    }
    co_await registry.async_shutdown(asio::use_awaitable);
    CHECK(registry.size() == 0);
    const auto before = state.check("alias-1");
    state.update_check("web-check", status::critical, "down");
    for (int i = 0; i < 20; ++i) co_await asio::post(io, asio::use_awaitable);
    CHECK(state.check("alias-1") == before);  // stopped aliases never write
    auto late = alias_of("web", "late");
    const auto refused = co_await failure_of([&](auto token) { return registry.async_add(late, token); });
    CHECK(refused == errc::shut_down);
  });
}

TEST_CASE_METHOD(local_fixture, "blocking shutdown from a thread outside the executor") {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    alias_registry registry(io.get_executor(), state);
    auto def = alias_of("web");
    registry.async_add(def, asio::use_future).get();
    registry.shutdown();
    CHECK(registry.size() == 0);
  }
  work.reset();
  runner.join();
}
