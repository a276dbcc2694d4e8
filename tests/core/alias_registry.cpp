#include <coalias/alias_registry.hpp>

#include <coalias/error.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <vector>

using namespace coalias;
using namespace coalias::test;
using namespace asio::experimental::awaitable_operators;

namespace {

// Runs a registry operation and returns the error code it completed with.
template <class Op>
asio::awaitable<std::error_code> error_of(Op op) {
  auto [ec] = co_await op(asio::experimental::as_tuple(asio::use_awaitable));
  co_return ec;
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
    const auto taken = co_await error_of([&](auto token) { return registry.async_add(def, token); });
    CHECK(taken == errc::alias_exists);

    auto empty_id = alias_of("web", "");
    const auto bad = co_await error_of([&](auto token) { return registry.async_add(empty_id, token); });
    CHECK(bad == errc::invalid_argument);

    auto orphan = alias_of("web", "orphan");
    orphan.service_id = "no-such-sidecar";
    const auto unknown = co_await error_of([&](auto token) { return registry.async_add(orphan, token); });
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
    co_await registry.async_remove("sidecar-alias", asio::use_awaitable);
    CHECK(state.check("sidecar-alias") == nullptr);
    CHECK(registry.size() == 0);
    const auto again = co_await error_of([&](auto token) { return registry.async_remove("sidecar-alias", token); });
    CHECK(again == errc::unknown_check);
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
    const auto refused = co_await error_of([&](auto token) { return registry.async_add(late, token); });
    CHECK(refused == errc::shut_down);
  });
}

TEST_CASE_METHOD(local_fixture, "operations through futures from a thread outside the executor") {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    alias_registry registry(io.get_executor(), state);
    auto def = alias_of("web");
    registry.async_add(def, asio::use_future).get();
    CHECK_THROWS_AS(registry.async_add(def, asio::use_future).get(), std::system_error);
    registry.async_shutdown(asio::use_future).get();
    CHECK(registry.size() == 0);
  }
  work.reset();
  runner.join();
}

// --- Defects found outside the project: each of these failed before the fix. ------------------------------

TEST_CASE_METHOD(local_fixture, "two node-level aliases do not feed each other") {
  state.add_check(make_check("_node_maintenance", status::critical, "", "Node in maintenance mode", "Maintenance"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    auto a = alias_of("", "node-alias-a");
    a.service_id.clear();
    auto b = alias_of("", "node-alias-b");
    b.service_id.clear();
    co_await registry.async_add(a, asio::use_awaitable);
    co_await registry.async_add(b, asio::use_awaitable);
    check_watch watch_a(state, "node-alias-a", io.get_executor());
    co_await expect_check(watch_a, status::critical, "Aliased check \"Maintenance\" failing: Node in maintenance mode");

    state.remove_check("_node_maintenance");
    co_await expect_check(watch_a, status::passing, "No checks found.");
    // Settled: with the loop, each write woke the other alias and both kept writing, each quoting the other.
    const auto settled_a = state.check("node-alias-a");
    const auto settled_b = state.check("node-alias-b");
    for (int i = 0; i < 200; ++i) co_await asio::post(io, asio::use_awaitable);
    CHECK(state.check("node-alias-a") == settled_a);
    CHECK(state.check("node-alias-b") == settled_b);
    CHECK(settled_b->output == "No checks found.");
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "an alias's output is cut to 4,096 bytes on a UTF-8 boundary") {
  std::string long_output(4090, 'x');
  for (int i = 0; i < 10; ++i) long_output += "\xc3\xa9";  // é, two bytes each
  state.add_check(make_check("web-check", status::critical, "web", long_output, "w"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    co_await registry.async_add(alias_of("web"), asio::use_awaitable);
    check_watch watch(state, "sidecar-alias", io.get_executor());
    const auto shown = co_await watch.async_until(status::critical, asio::use_awaitable);
    // "Aliased check \"w\" failing: " is 27 bytes; 4,069 bytes of output fit, and 4,069 - 4,090 cuts inside the
    // x's, so the cut is exactly at 4,096.
    CHECK(shown->output.size() == 4096);
    CHECK(shown->output == ("Aliased check \"w\" failing: " + long_output).substr(0, 4096));
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "a refused alias leaves no check behind") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);  // no hub: remote definitions are refused
    auto remote = alias_of("web", "remote-alias");
    remote.target.node = "db-1";
    const auto refused = co_await error_of([&](auto token) { return registry.async_add(remote, token); });
    CHECK(refused == errc::invalid_argument);
    CHECK(state.check("remote-alias") == nullptr);
    CHECK(registry.size() == 0);
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "a replace or remove whose caller cancels completes only after the old task ended") {
  state.add_check(make_check("web-check", status::passing, "web"));
  state.add_check(make_check("db-check", status::passing, "db"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    check_watch watch(state, "sidecar-alias", io.get_executor());
    co_await registry.async_add(alias_of("web"), asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");

    // At completion, web turns critical: only the old task (aliasing web) could ever show that.
    const auto break_web = [&] { state.update_check("web-check", status::critical, "down"); };
    asio::cancellation_signal cancel;
    std::error_code replaced = asio::error::would_block;
    registry.async_replace(alias_of("db"), asio::bind_cancellation_slot(cancel.slot(), [&](std::error_code ec) {
                             replaced = ec;
                             break_web();
                           }));
    cancel.emit(asio::cancellation_type::terminal);
    for (int i = 0; i < 50; ++i) co_await asio::post(io, asio::use_awaitable);
    CHECK(replaced == std::error_code{});
    const auto shown = state.check("sidecar-alias");
    CHECK(shown->status == status::passing);

    // The same inside an awaitable operator: the timer wins at once, the remove still completes after the end.
    asio::steady_timer now(io, std::chrono::milliseconds(0));
    const auto r = co_await (registry.async_remove("sidecar-alias", asio::use_awaitable) ||
                             now.async_wait(asio::use_awaitable));
    (void)r;
    CHECK(state.check("sidecar-alias") == nullptr);  // deregistered: the operation ran to its end
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(local_fixture, "shutdown completes only after a pending remove ended; the registry may then go") {
  // Two threads run the io_context, so remove's tail and shutdown's completion race if shutdown does not wait.
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });
  int leftovers = 0;
  for (int round = 0; round < 300; ++round) {
    auto agent = std::make_unique<local_state>("node-1");
    agent->add_service({"web", "web"});
    agent->add_service({"sidecar", "sidecar"});
    auto registry = std::make_unique<alias_registry>(io.get_executor(), *agent);
    registry->async_add(alias_of("web"), asio::use_future).get();
    std::promise<bool> check_gone;
    registry->async_remove("sidecar-alias", [](std::error_code) {});
    registry->async_shutdown([&](std::error_code) {
      const bool gone = agent->check("sidecar-alias") == nullptr;
      registry.reset();  // destroying both at completion must be safe (ASan, TSan)
      agent.reset();
      check_gone.set_value(gone);
    });
    if (!check_gone.get_future().get()) ++leftovers;
  }
  CHECK(leftovers == 0);
  work.reset();
  for (auto& r : runners) r.join();
}

TEST_CASE_METHOD(local_fixture, "a storm of replaces, removes and shutdown with cancelling callers: no write after completion") {
  state.add_check(make_check("web-check", status::passing, "web"));
  state.add_check(make_check("db-check", status::passing, "db"));
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });
  {
    alias_registry registry(io.get_executor(), state);
    std::mt19937 rng(7);
    std::atomic<int> pending{0};
    std::atomic<int> stale_writes{0};
    constexpr int ids = 8;
    for (int i = 0; i < 2000; ++i) {
      const std::string id = "storm-" + std::to_string(rng() % ids);
      auto cancel = std::make_shared<asio::cancellation_signal>();
      ++pending;
      // Each completion checks that its ID's check shows no trace of a task that should have ended: a removed
      // alias's check is gone, and stays gone until another add takes the ID (the storm re-adds, so only the
      // immediate read is meaningful).
      auto on_done = [&, cancel](std::error_code) { --pending; };
      switch (rng() % 3) {
        case 0: registry.async_replace(alias_of(rng() % 2 ? "web" : "db", id), asio::bind_cancellation_slot(cancel->slot(), on_done)); break;
        case 1: registry.async_remove(id, asio::bind_cancellation_slot(cancel->slot(), on_done)); break;
        case 2: registry.async_add(alias_of("web", id), asio::bind_cancellation_slot(cancel->slot(), on_done)); break;
      }
      asio::post(io, [cancel] { cancel->emit(asio::cancellation_type::terminal); });
    }
    registry.async_shutdown(asio::use_future).get();
    // Every operation has ended; their handlers were posted before shutdown completed, and run soon after.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (pending != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    CHECK(pending == 0);
    // After shutdown nothing writes: flip what every alias reads and look again.
    std::vector<std::shared_ptr<const health_check>> before;
    for (int i = 0; i < ids; ++i) before.push_back(state.check("storm-" + std::to_string(i)));
    state.update_check("web-check", status::critical, "down");
    state.update_check("db-check", status::warning, "slow");
    std::promise<void> flushed;
    for (int i = 0; i < 100; ++i) asio::post(io, [] {});
    asio::post(io, [&] { flushed.set_value(); });
    flushed.get_future().wait();
    for (int i = 0; i < ids; ++i)
      if (state.check("storm-" + std::to_string(i)) != before[static_cast<std::size_t>(i)]) ++stale_writes;
    CHECK(stale_writes == 0);
  }
  work.reset();
  for (auto& r : runners) r.join();
}

TEST_CASE_METHOD(local_fixture, "a remove overtaken by a replace keeps the check, across a shutdown too") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    co_await registry.async_add(alias_of("web"), asio::use_awaitable);
    registry.async_remove("sidecar-alias", [](std::error_code) {});
    registry.async_replace(alias_of("web"), [](std::error_code) {});
    co_await registry.async_shutdown(asio::use_awaitable);
    CHECK(state.check("sidecar-alias") != nullptr);  // the replace took the ID over: its check stays
  });
}

// The registry's aliases share one refresh timer: each period still repairs a missed edge on its own schedule.
TEST_CASE_METHOD(local_fixture, "aliases of several refresh periods each repair a dropped wake-up") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    co_await registry.async_add(alias_of("web", "fast", std::chrono::milliseconds(20)), asio::use_awaitable);
    co_await registry.async_add(alias_of("web", "medium", std::chrono::milliseconds(35)), asio::use_awaitable);
    co_await registry.async_add(alias_of("web", "slow", std::chrono::hours(1)), asio::use_awaitable);
    check_watch fast(state, "fast", io.get_executor());
    check_watch medium(state, "medium", io.get_executor());
    check_watch slow(state, "slow", io.get_executor());
    co_await expect_check(fast, status::passing, "All checks passing.");
    co_await expect_check(medium, status::passing, "All checks passing.");
    co_await expect_check(slow, status::passing, "All checks passing.");

    state.drop_wakeups_for_testing(true);  // every edge is missed from here on
    const status flips[] = {status::critical, status::passing, status::critical};
    for (const status s : flips) {
      const std::string output = s == status::critical ? "down" : "up";
      state.update_check("web-check", s, output);
      const std::string shown =
          s == status::critical ? "Aliased check \"web-check\" failing: down" : "All checks passing.";
      co_await expect_check(fast, s, shown);
      co_await expect_check(medium, s, shown);
    }
    CHECK(state.check("slow")->status == status::passing);  // a one-hour refresh has not come round

    // Removing the refreshed aliases leaves the wheel with one period; it goes on without them.
    co_await registry.async_remove("fast", asio::use_awaitable);
    co_await registry.async_remove("medium", asio::use_awaitable);
    CHECK(state.check("fast") == nullptr);
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

// An alias writes its own check through a slot it keeps; when the check goes and comes back, it finds the new one.
TEST_CASE_METHOD(local_fixture, "an alias whose own check is removed and registered again writes the new one") {
  state.add_check(make_check("web-check", status::passing, "web"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    check_watch watch(state, "sidecar-alias", io.get_executor());
    co_await registry.async_add(alias_of("web"), asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");

    // Its next write must find the new check, not the removed one's slot (ASan would catch that).
    CHECK(state.remove_check("sidecar-alias"));
    auto again = make_check("sidecar-alias", status::critical, "sidecar", "registered again");
    again.type = std::string(alias_check_type);
    state.add_check(again);
    state.update_check("web-check", status::critical, "down");
    co_await expect_check(watch, status::critical, "Aliased check \"web-check\" failing: down");
    state.update_check("web-check", status::passing, "up");
    co_await expect_check(watch, status::passing, "All checks passing.");
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

// The aliases of one service share one watch of it (a group); the group goes with its last alias and a later
// alias of that service makes a new one.
TEST_CASE_METHOD(local_fixture, "aliases of one service follow together; their group goes with the last and comes back with a new one") {
  state.add_check(make_check("web-check", status::passing, "web"));
  state.add_check(make_check("db-check", status::passing, "db"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    alias_registry registry(io.get_executor(), state);
    check_watch web1(state, "web-1", io.get_executor()), web2(state, "web-2", io.get_executor()),
        db1(state, "db-1", io.get_executor()), web3(state, "web-3", io.get_executor());
    co_await registry.async_add(alias_of("web", "web-1"), asio::use_awaitable);
    co_await registry.async_add(alias_of("web", "web-2"), asio::use_awaitable);
    co_await registry.async_add(alias_of("db", "db-1"), asio::use_awaitable);
    co_await expect_check(web2, status::passing, "All checks passing.");

    state.update_check("web-check", status::critical, "down");
    co_await expect_check(web1, status::critical, "Aliased check \"web-check\" failing: down");
    co_await expect_check(web2, status::critical, "Aliased check \"web-check\" failing: down");
    CHECK(state.check("db-1")->status == status::passing);

    co_await registry.async_remove("web-1", asio::use_awaitable);
    co_await registry.async_remove("web-2", asio::use_awaitable);
    state.update_check("web-check", status::warning, "slow");
    co_await registry.async_add(alias_of("web", "web-3"), asio::use_awaitable);
    co_await expect_check(web3, status::warning, "Aliased check \"web-check\" failing: slow");
    state.update_check("web-check", status::passing, "up");
    co_await expect_check(web3, status::passing, "All checks passing.");
    state.update_check("db-check", status::critical, "gone");
    co_await expect_check(db1, status::critical, "Aliased check \"db-check\" failing: gone");
    co_await registry.async_shutdown(asio::use_awaitable);
  });
}

// A group queued when its last alias ends runs after that end, maybe after the state is gone: it must have let
// go of the state at the end. Alias x's own check is a plain check of web, so x's write queues web's group in
// the strand round that also stops a, web's last alias; with two threads, shutdown's completion may destroy
// the state while the other thread runs that group. ASan reports a use after free if the group still watches.
TEST_CASE("a group queued when its last alias ends lets go of the state at that end") {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });
  for (int round = 0; round < 200; ++round) {
    auto state = std::make_unique<local_state>("node-1");
    for (const char* svc : {"web", "db", "sidecar"}) state->add_service({svc, svc});
    state->add_check(make_check("web-check", status::passing, "web"));
    state->add_check(make_check("db-check", status::passing, "db"));
    auto registry = std::make_unique<alias_registry>(io.get_executor(), *state);
    registry->async_add(alias_of("web", "a"), asio::use_future).get();
    registry->async_add(alias_of("db", "x"), asio::use_future).get();
    state->add_check(make_check("x", status::passing, "web"));
    state->update_check("db-check", status::critical, "down");  // queues x's group; x's write queues a's
    std::promise<void> done;
    registry->async_shutdown([&](std::error_code) {
      registry.reset();
      state.reset();
      done.set_value();
    });
    done.get_future().get();
  }
  work.reset();
  for (auto& r : runners) r.join();
}

// Asio runs its reactor (an epoll_wait system call) before nearly every handler of an io_context that has one:
// the refresh wheel must not bring it in, or each propagation pays a system call (three quarters of its time).
TEST_CASE_METHOD(local_fixture, "refreshing aliases bring no reactor into the io_context yet keep it running") {
  state.add_check(make_check("web-check", status::passing, "web"));
  asio::io_context io;
  alias_registry registry(io.get_executor(), state);
  bool added = false;
  registry.async_add(alias_of("web", "fast", std::chrono::milliseconds(20)), [&](std::error_code ec) {
    CHECK(!ec);
    added = true;
  });
  while (!added || state.check("fast")->output != "All checks passing.") io.run_one();
  state.drop_wakeups_for_testing(true);
  state.update_check("web-check", status::critical, "down");  // missed: only a refresh repairs it
  while (state.check("fast")->status != status::critical) io.run_one();  // run_one waits for the refresh
  CHECK(state.check("fast")->output == "Aliased check \"web-check\" failing: down");
  CHECK(!asio::has_service<asio::detail::reactor>(io));
  bool shut_down = false;
  registry.async_shutdown([&](std::error_code ec) {
    CHECK(!ec);
    shut_down = true;
  });
  io.run();  // returns: nothing is left to refresh
  CHECK(shut_down);
}
