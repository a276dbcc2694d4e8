// Overload bench: 100,000 local aliases and 10,000 remote aliases (over 100 nodes of the in-process Consul test
// server) in one process at once. Prints one JSON line; no arguments; well within two minutes.
//
//  - memory: resident bytes of the whole process, and the growth from adding every alias divided by their number;
//  - local propagation: update_check on an aliased local check until that alias's own check changed, the rest
//    idle (each local service is aliased 10 times; a round waits for all 10 before the next);
//  - remote propagation: a check flip on one server node until every one of that node's 100 aliases was updated
//    (a round starts once every watch's blocking query is held again, so the loop is in its steady state);
//  - correct: after the measurements every alias shows the truth (`coalias::aggregator` over the final state);
//    exit 1 otherwise.
//
// The client io_context runs on one thread; the test server runs on its own thread. Local aliases use a one-hour
// refresh so the measurements are not disturbed by 100,000 refresh timers firing; remote options are Consul's
// defaults. OVERLOAD_DEBUG=1 dumps the server's request log if a remote round times out.
#include <coalias/alias_registry.hpp>
#include <coalias/local_state.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include "support/bench_util.hpp"
#include "support/soak_util.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace coalias;
using namespace coalias::bench;
using namespace std::chrono_literals;

namespace {

constexpr int local_aliases = 100000;
constexpr int local_services = 10000;  // 10 aliases each
constexpr int remote_aliases = 10000;
constexpr int nodes = 100;             // 100 aliases each: half of the node, half of its service
constexpr int local_rounds = 2000;
constexpr int remote_rounds = 100;

const std::string local_node = "agent-1";
const std::set<std::string> node_services = {"svc"};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_overload: %s\n", what.c_str());
  std::exit(1);
}

std::string fmt(const char* pattern, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, pattern, i);
  return buf;
}
std::string node_name(int i) { return fmt("node-%03d", i); }
std::string service_name(int i) { return fmt("s-%05d", i); }
std::string service_check(int i) { return fmt("c-%05d", i); }
std::string local_alias_id(int i) { return fmt("l-%07d", i); }  // zero-padded: appends keep the index sorted
std::string remote_alias_id(int i) { return fmt("r-%07d", i); }

alias_definition make_def(const std::string& id, alias_target target) {
  alias_definition def;
  def.check_id = id;
  def.name = "alias";
  def.service_id = "sidecar";
  def.target = std::move(target);
  def.refresh = 1h;
  return def;
}

alias_definition local_def(int i) { return make_def(local_alias_id(i), {"", service_name(i % local_services)}); }
alias_definition remote_def(int i) {
  const int node = i % nodes;
  return make_def(remote_alias_id(i), {node_name(node), (i / nodes) % 2 ? "svc" : ""});
}

health_check server_check(const std::string& node, const std::string& id, const std::string& service) {
  health_check c;
  c.node = node;
  c.check_id = id;
  c.name = service.empty() ? "Serf Health Status" : service + " check";
  c.service_id = service;
  c.service_name = service;
  c.status = status::passing;
  c.output = "up";
  return c;
}

// Adds aliases in batches of 1,000 (a batch's coroutines in flight at once), failing on any error.
template <class MakeDef>
void add_all(alias_registry& registry, int count, MakeDef make) {
  constexpr int batch = 1000;
  for (int start = 0; start < count; start += batch) {
    std::vector<std::future<void>> pending;
    pending.reserve(batch);
    for (int i = start; i < std::min(count, start + batch); ++i) pending.push_back(registry.async_add(make(i), asio::use_future));
    for (auto& f : pending) {
      try {
        f.get();
      } catch (const std::exception& e) {
        fail(std::string("add: ") + e.what());
      }
    }
  }
}

}  // namespace

int main() {
  const auto t_start = clock::now();

  testing::consul_test_server server;
  for (int n = 0; n < nodes; ++n) {
    const auto node = node_name(n);
    server.add_node(node);
    server.add_service(node, {"svc", "svc"});
    server.set_check(server_check(node, "serfHealth", ""));
    server.set_check(server_check(node, "service:svc", "svc"));
  }

  local_state state(local_node);
  state.add_service({"sidecar", "sidecar"});
  for (int s = 0; s < local_services; ++s) {
    state.add_service({service_name(s), service_name(s)});
    health_check c;
    c.check_id = service_check(s);
    c.name = c.check_id;
    c.service_id = service_name(s);
    c.status = status::passing;
    c.output = "up";
    state.add_check(std::move(c));
  }

  asio::io_context io(1);
  consul_config config;
  config.address = consul_address::parse(server.address());
  auto hub = std::make_unique<remote_hub>(io.get_executor(), config);  // Consul's timings
  auto registry = std::make_unique<alias_registry>(io.get_executor(), state, *hub);
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  const long rss_before = resident_bytes();
  add_all(*registry, local_aliases, local_def);
  add_all(*registry, remote_aliases, remote_def);
  // Every alias evaluated at least once: local ones at start; remote ones once their watch answered.
  const auto ready_deadline = clock::now() + 30s;
  for (int i = 0; i < remote_aliases;) {
    const auto c = state.check(remote_alias_id(i));
    if (c && !c->output.empty()) {
      ++i;
      continue;
    }
    if (clock::now() > ready_deadline) fail("remote alias " + remote_alias_id(i) + " never evaluated");
    std::this_thread::sleep_for(1ms);
  }
  const long rss_after = resident_bytes();
  const int total = local_aliases + remote_aliases;
  std::fprintf(stderr, "bench_overload: %d aliases added and evaluated in %.1f s; %zu watches\n", total,
               std::chrono::duration<double>(clock::now() - t_start).count(), hub->watch_count());

  // ---- local propagation ----
  std::vector<status> service_status(local_services, status::passing);
  std::vector<double> local_us;
  local_us.reserve(local_rounds);
  for (int round = 0; round < local_rounds; ++round) {
    const int alias = static_cast<int>((static_cast<long>(round) * 7919) % local_aliases);
    const int svc = alias % local_services;
    std::vector<std::shared_ptr<const health_check>> before;
    for (int a = svc; a < local_aliases; a += local_services) before.push_back(state.check(local_alias_id(a)));
    const auto measured = state.check(local_alias_id(alias));
    const status next = service_status[static_cast<std::size_t>(svc)] == status::passing ? status::critical : status::passing;
    service_status[static_cast<std::size_t>(svc)] = next;
    const auto t0 = clock::now();
    state.update_check(service_check(svc), next, next == status::passing ? "up" : "down");
    while (state.check(local_alias_id(alias)) == measured) {
      if (clock::now() - t0 > 10s) fail("local alias " + local_alias_id(alias) + " did not follow within 10 s");
    }
    local_us.push_back(micros(clock::now() - t0));
    // Let the service's other aliases finish too, so the next round starts idle.
    std::size_t k = 0;
    for (int a = svc; a < local_aliases; a += local_services, ++k) {
      while (state.check(local_alias_id(a)) == before[k]) std::this_thread::yield();
    }
  }

  // ---- remote propagation ----
  // The hub holds at most config.max_connections - 1 blocking queries (8 connections by default, one kept for
  // catalog look-ups): with 100 watched nodes, that many group queries on /v1/health/state/any cover them all, and
  // a flip anywhere wakes every group. A round starts once as many queries as can be held are held.
  const std::size_t held_target = std::min<std::size_t>(nodes, config.max_connections - 1);
  std::vector<double> remote_ms;
  std::vector<bool> node_failing(nodes, false);
  int rounds_not_all_held = 0;
  for (int round = 0; round < remote_rounds; ++round) {
    const int node = round % nodes;
    if (!server.wait_for_held_queries(held_target, 5s)) {
      ++rounds_not_all_held;
      std::fprintf(stderr, "bench_overload: round %d: %zu queries held after 5 s, not %zu\n", round,
                   server.held_queries(), held_target);
    }
    std::vector<std::string> ids;
    std::vector<std::shared_ptr<const health_check>> before;
    for (int a = node; a < remote_aliases; a += nodes) {
      ids.push_back(remote_alias_id(a));
      before.push_back(state.check(ids.back()));
    }
    const bool fail_now = !node_failing[static_cast<std::size_t>(node)];  // a real change: a no-op moves no index
    node_failing[static_cast<std::size_t>(node)] = fail_now;
    const auto t0 = clock::now();
    // serfHealth is node-level: it counts for the node's aliases and for its service's aliases alike (a service
    // check would not count for a node alias: Consul skips checks of other services, and a node alias names none).
    server.update_check_status(node_name(node), "serfHealth", fail_now ? status::critical : status::passing,
                               fail_now ? "down" : "up");
    for (std::size_t k = 0; k < ids.size(); ++k) {
      while (state.check(ids[k]) == before[k]) {
        if (clock::now() - t0 > 20s) {
          if (std::getenv("OVERLOAD_DEBUG")) {
            for (const auto& r : server.recent_requests())
              std::fprintf(stderr, "  %lld %s\n",
                           static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      r.time.time_since_epoch()).count() % 1000000),
                           r.target.c_str());
          }
          const auto c = state.check(ids[k]);
          fail("remote alias " + ids[k] + " did not follow within 20 s (it shows " +
               (c ? describe_result({c->status, c->output}) : std::string("nothing")) + "; the server holds " +
               std::to_string(server.held_queries()) + " queries on " + std::to_string(server.open_connections()) +
               " connections, " + std::to_string(server.total_requests()) + " requests so far)");
        }
        std::this_thread::sleep_for(100us);
      }
    }
    remote_ms.push_back(micros(clock::now() - t0) / 1000.0);
  }
  if (rounds_not_all_held)
    std::fprintf(stderr, "bench_overload: %d of %d remote rounds started without %zu queries held\n",
                 rounds_not_all_held, remote_rounds, held_target);

  // ---- correctness ----
  auto count_wrong = [&](bool report) {
    int wrong = 0;
    auto check = [&](const alias_definition& def, const check_result& truth) {
      const auto shown = state.check(def.check_id);
      if (shown && shown->status == truth.status && shown->output == truth.output) return;
      if (report && wrong < 20)
        std::fprintf(stderr, "bench_overload: MISMATCH %s (%s): shows %s, truth %s\n", def.check_id.c_str(),
                     describe_def(def).c_str(),
                     shown ? describe_result({shown->status, shown->output}).c_str() : "nothing",
                     describe_result(truth).c_str());
      ++wrong;
    };
    for (int i = 0; i < local_aliases; ++i) {
      const auto def = local_def(i);
      check(def, local_truth(state, def));
    }
    for (int i = 0; i < remote_aliases; ++i) {
      const auto def = remote_def(i);
      check(def, remote_truth(server, local_node, def, node_services));
    }
    return wrong;
  };
  int wrong = count_wrong(false);
  const auto settle_deadline = clock::now() + 10s;
  while (wrong > 0 && clock::now() < settle_deadline) {
    std::this_thread::sleep_for(100ms);
    wrong = count_wrong(false);
  }
  if (wrong > 0) wrong = count_wrong(true);
  const bool correct = wrong == 0 && registry->size() == static_cast<std::size_t>(total);
  const long rss = resident_bytes();

  emit("overload", "\"local_aliases\":" + std::to_string(local_aliases) +
                       ",\"remote_aliases\":" + std::to_string(remote_aliases) + ",\"rss_bytes\":" + std::to_string(rss) +
                       ",\"bytes_per_alias\":" + num(static_cast<double>(rss_after - rss_before) / total) +
                       ",\"local_propagation_p50_us\":" + num(percentile(local_us, 0.5)) +
                       ",\"local_propagation_p99_us\":" + num(percentile(local_us, 0.99)) +
                       ",\"remote_propagation_p50_ms\":" + num(percentile(remote_ms, 0.5)) +
                       ",\"remote_propagation_p99_ms\":" + num(percentile(remote_ms, 0.99)) +
                       ",\"correct\":" + (correct ? "true" : "false"));

  registry->async_shutdown(asio::use_future).get();
  hub->async_shutdown(asio::use_future).get();
  registry.reset();
  hub.reset();
  work.reset();
  io_thread.join();
  std::fprintf(stderr, "bench_overload: %.1f s in all\n", std::chrono::duration<double>(clock::now() - t_start).count());
  return correct ? 0 : 1;
}
