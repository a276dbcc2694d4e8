// Local alias benches: propagation latency by state size, memory per idle alias, fan-out (one and two io
// threads), stop latency.
// Prints one JSON object per line; no arguments; about half a minute.
#include <coalias/alias_check.hpp>
#include <coalias/alias_registry.hpp>
#include <coalias/local_state.hpp>

#include "support/bench_util.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace coalias;
using namespace coalias::bench;

namespace {

health_check make_check(std::string id, std::string service, status s = status::passing) {
  health_check c;
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.service_id = std::move(service);
  c.status = s;
  return c;
}

alias_definition alias_def(std::string check_id, std::string owner, std::string target) {
  alias_definition def;
  def.check_id = std::move(check_id);
  def.name = "alias";
  def.service_id = std::move(owner);
  def.target.service_id = std::move(target);
  def.refresh = std::chrono::hours(1);
  return def;
}

// An agent with services web (one passing check) and sidecar, and a registry on a single-threaded io_context;
// the destructor shuts the registry down and lets every task end before anything is destroyed.
struct bench_agent {
  local_state state{"bench-node"};
  asio::io_context io;
  alias_registry registry{io.get_executor(), state};

  bench_agent() {
    state.add_service({"web", "web"});
    state.add_service({"sidecar", "sidecar"});
    state.add_check(make_check("web-check", "web"));
  }
  ~bench_agent() {
    registry.async_shutdown([](std::error_code) {});
    io.restart();
    io.run();
  }
};

// Registers `count` aliases of `target`, each owned by the one "sidecar" service, and lets them settle.
void add_aliases(asio::io_context& io, alias_registry& registry, int count, const std::string& target) {
  for (int i = 0; i < count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "alias-%07d", i);  // zero-padded: appends keep the service's index sorted
    registry.async_add(alias_def(id, "sidecar", target), [](std::error_code ec) {
      if (ec) throw std::system_error(ec, "adding an alias");
    });
  }
  io.restart();
  while (io.poll() > 0) {
  }
}

void local_propagation(int total_checks) {
  bench_agent agent;
  auto& [state, io, registry] = agent;
  // Filler: other services' checks, ten per service.
  for (int i = 0; state.check_count() < static_cast<std::size_t>(total_checks - 1); ++i) {
    const std::string svc = "svc-" + std::to_string(i / 10);
    if (i % 10 == 0) state.add_service({svc, svc});
    state.add_check(make_check("filler-" + std::to_string(i), svc));
  }
  add_aliases(io, registry, 1, "web");

  std::vector<double> samples;
  constexpr int rounds = 20000;
  samples.reserve(rounds);
  for (int i = 0; i < rounds; ++i) {
    const auto before = state.check("alias-0000000");
    const auto t0 = clock::now();
    state.update_check("web-check", i % 2 ? status::passing : status::critical, i % 2 ? "up" : "down");
    while (state.check("alias-0000000") == before) io.run_one();
    samples.push_back(micros(clock::now() - t0));
  }
  emit("local_propagation", "\"total_checks\":" + std::to_string(state.check_count()) +
                                ",\"p50_us\":" + num(percentile(samples, 0.5)) +
                                ",\"p99_us\":" + num(percentile(samples, 0.99)));
}

void local_memory(int aliases) {
  bench_agent agent;
  auto& [state, io, registry] = agent;
  const long before = resident_bytes();
  add_aliases(io, registry, aliases, "web");
  const long after = resident_bytes();
  emit("local_memory", "\"alias_checks\":" + std::to_string(aliases) +
                           ",\"bytes_per_alias\":" + num(static_cast<double>(after - before) / aliases));
}

// One flip of the aliased check reaching `aliases` aliases, with `threads` threads running the io_context: the
// time from the write until every alias shows the new status. The main thread watches the aliases' own checks
// in order (the same cost for any thread count), so the figure also proves that every alias followed.
void local_fanout(int aliases, int threads) {
  bench_agent agent;
  auto& [state, io, registry] = agent;
  add_aliases(io, registry, aliases, "web");
  std::vector<std::string> ids;
  for (const auto& c : state.snapshot("sidecar").checks) ids.push_back(c->check_id);

  io.restart();
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int t = 0; t < threads; ++t) runners.emplace_back([&io] { io.run(); });

  std::vector<double> samples;
  for (int round = 0; round < 10; ++round) {
    const bool fail = round % 2 == 0;
    const status want = fail ? status::critical : status::passing;
    const auto t0 = clock::now();
    state.update_check("web-check", want, fail ? "down" : "up");
    for (const auto& id : ids) {
      const auto deadline = t0 + std::chrono::seconds(10);
      while (state.check(id)->status != want) {
        if (clock::now() > deadline) {
          std::fprintf(stderr, "local_fanout: alias %s did not follow\n", id.c_str());
          std::exit(1);
        }
        // Sleep between reads rather than spin: on a two-core machine a spinning reader shares a core with
        // whichever io thread runs the lane, and two io threads would measure the reader's place, not the lane.
        std::this_thread::sleep_for(std::chrono::microseconds(1));
      }
    }
    samples.push_back(micros(clock::now() - t0) / 1000.0);
  }
  work.reset();
  io.stop();
  for (auto& t : runners) t.join();
  emit("local_fanout", "\"alias_checks\":" + std::to_string(aliases) + ",\"threads\":" + std::to_string(threads) +
                           ",\"ms\":" + num(percentile(samples, 0.5)));
}

void stop_latency(int aliases) {
  asio::io_context io;
  local_state state("bench-node");
  state.add_service({"web", "web"});
  state.add_service({"sidecar", "sidecar"});
  state.add_check(make_check("web-check", "web"));
  std::vector<alias_check> running;
  for (int i = 0; i < aliases; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "alias-%07d", i);
    state.add_check(make_check(id, "sidecar"));
    running.push_back(alias_check::start_local(io.get_executor(), state, alias_def(id, "sidecar", "web")));
  }
  while (io.poll() > 0) {
  }
  std::vector<double> samples;
  for (auto& alias : running) {
    bool done = false;
    const auto t0 = clock::now();
    alias.async_stop([&](std::error_code) { done = true; });
    while (!done) io.run_one();
    samples.push_back(micros(clock::now() - t0));
  }
  emit("stop_latency", "\"state\":\"idle\",\"p50_us\":" + num(percentile(samples, 0.5)) +
                           ",\"p99_us\":" + num(percentile(samples, 0.99)));
}

}  // namespace

int main() {
  for (const int k : {10, 1000, 10000, 100000}) local_propagation(k);
  local_memory(100000);
  for (const int threads : {1, 2}) local_fanout(10000, threads);
  stop_latency(10000);
}
