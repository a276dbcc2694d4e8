// Consul #5876, race 3, as a stress test: the aliased checks flap on three threads while the alias is replaced
// 10,000 times on an io_context run by two threads. If an old task could write after its replacement started,
// a stale status would stick: the refresh period is an hour, so nothing else would repair it.
#include <coalias/alias_registry.hpp>

#include "local_fixture.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

using namespace coalias;
using namespace coalias::test;
using namespace asio::experimental::awaitable_operators;

namespace {

check_result truth(local_state& state, const alias_definition& def) {
  const alias_target target{state.node_name(), def.target.service_id};
  const check_key self{state.node_name(), def.check_id};
  const auto view = state.snapshot(target.service_id);
  aggregator agg(target, self);
  for (const auto& c : view.checks) agg.add(*c);
  return agg.finish(view.service_exists ? presence::present : presence::service_missing);
}

// Waits, on the io_context, until the alias shows `expected`; false if it does not within `limit`.
asio::awaitable<bool> converges(local_state& state, std::string check_id, check_result expected,
                                std::chrono::seconds limit) {
  const auto ex = co_await asio::this_coro::executor;
  check_watch watch(state, check_id, ex);
  auto matches = [&]() -> asio::awaitable<void> {
    for (;;) {
      const auto c = co_await watch.async_next(asio::use_awaitable);
      if (c && c->status == expected.status && c->output == expected.output) co_return;
    }
  };
  asio::steady_timer deadline(ex, limit);
  auto waiting = matches();
  const auto r = co_await (std::move(waiting) || deadline.async_wait(asio::use_awaitable));
  co_return r.index() == 0;
}

}  // namespace

TEST_CASE("an alias replaced 10,000 times under flapping checks ends equal to the final aggregate") {
  constexpr int replacements = 10'000;
  constexpr int flappers = 3;
  local_fixture agent;
  local_state& state = agent.state;
  for (int t = 0; t < flappers; ++t)
    state.add_check(make_check("web-" + std::to_string(t), status::passing, "web", "", "web " + std::to_string(t)));
  state.add_check(make_check("serfHealth", status::passing, "", "alive", "Serf Health Status"));

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });

  alias_registry registry(io.get_executor(), state);
  const auto def = alias_of("web");

  std::atomic<bool> flapping{true};
  std::atomic<long> flips{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < flappers; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      const std::string id = t == 0 ? "serfHealth" : "web-" + std::to_string(t);
      for (long i = 0; flapping.load(std::memory_order_relaxed); ++i) {
        const auto s = static_cast<status>(rng() % 3);
        state.update_check(id, s, "flip " + std::to_string(i));
        flips.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  for (int i = 0; i < replacements; ++i) registry.async_replace(def, asio::use_future).get();
  flapping = false;
  for (auto& w : writers) w.join();

  const auto expected = truth(state, def);
  const bool settled =
      asio::co_spawn(io, converges(state, def.check_id, expected, std::chrono::seconds(10)), asio::use_future).get();
  CHECK(settled);
  const auto final_check = state.check(def.check_id);
  CHECK(final_check->status == expected.status);
  CHECK(final_check->output == expected.output);
  CHECK(flips.load() > 0);
  CHECK(registry.size() == 1);

  registry.async_shutdown(asio::use_future).get();
  work.reset();
  for (auto& r : runners) r.join();
}
