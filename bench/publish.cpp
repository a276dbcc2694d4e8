// bench_publish: the TTL publisher against the test server's agent, default settings.
//   publish_propagation: a flip in the local_state until a blocking query on /v1/health/node/<agent node> answers
//                        with it, with 1 and 1,000 published checks (each answer then carries every check).
//   publish_flapping:    10,000 flips per second for 2 s over 100 checks; the updates sent are bounded by round
//                        trips, not flips, and every check's last state arrives.
//   health_endpoint:     keep-alive GETs against a health_endpoint (bench/health_endpoint.cpp).
//   agent_memory:        coalias-agent's resident bytes per running check at 10,000 (bench/agent_memory.cpp).
// One JSON object per line; no arguments.
#include <coalias/coalias.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include "support/bench_util.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "http/client.hpp"

using namespace coalias;
using namespace std::chrono_literals;
namespace bench = coalias::bench;

namespace {

// An io_context on its own thread for the publisher (and the bench's own HTTP reads).
struct io_runner {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~io_runner() {
    work.reset();
    thread.join();
  }
};

std::string id_of(int i) { return "check-" + std::to_string(i); }

consul_config config_for(const testing::consul_test_server& server) {
  consul_config c;
  c.address = consul_address::parse(server.address());
  return c;
}

// Waits (bounded) until the agent shows every check as the local state has it.
bool converged(const testing::consul_test_server& server, const local_state& state, int n,
               std::chrono::seconds guard = 30s) {
  const auto deadline = bench::clock::now() + guard;
  for (;;) {
    const auto checks = server.agent_checks();
    int same = 0;
    for (const auto& c : checks) {
      const auto local = state.check(c.check_id);
      if (local && local->status == c.status && local->output == c.output) ++same;
    }
    if (same == n) return true;
    if (bench::clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // bounded wait for a state
  }
}

// The test server, `n` passing checks in a local state, all published with default settings and on the agent.
struct published_set {
  testing::consul_test_server server;
  local_state state{"bench-node"};
  io_runner runner;
  ttl_publisher publisher{runner.io.get_executor(), state, config_for(server)};

  explicit published_set(int n) {
    for (int i = 0; i < n; ++i) state.add_check({"", id_of(i), "", status::passing, "", "up", "", "", ""});
    for (int i = 0; i < n; ++i) {
      published_check c;
      c.check_id = id_of(i);
      publisher.async_add(c, asio::use_future).get();
    }
    if (!converged(server, state, n)) std::fprintf(stderr, "bench_publish: %d checks did not converge\n", n);
  }
  ~published_set() { publisher.async_shutdown(false, asio::use_future).get(); }
};

void propagation(int n) {
  published_set set(n);
  auto& [server, state, runner, publisher] = set;

  http::client reader(runner.io.get_executor());
  const std::string url = server.url() + "/v1/health/node/test-agent";
  http::request first;
  first.url = url;
  std::string index = std::string(reader.async_get(first, asio::use_future).get().header("X-Consul-Index").value_or("1"));

  std::mt19937 rng(42);
  std::vector<double> samples;
  const int flips = 300;
  for (int k = 1; k <= flips; ++k) {
    const std::string id = id_of(static_cast<int>(rng() % static_cast<unsigned>(n)));
    const std::string output = "flip " + std::to_string(k);
    http::request held;
    held.url = url + "?index=" + index + "&wait=10s";
    auto answer = reader.async_get(held, asio::use_future);
    server.wait_for_held_queries(1, 5s);
    const auto start = bench::clock::now();
    state.update_check(id, k % 2 ? status::critical : status::passing, output);
    auto r = answer.get();
    // The answer must carry the flip (the only change on that node since `index`).
    while (r.body.find("\"Output\":\"" + output + "\"") == std::string::npos) {
      index = std::string(r.header("X-Consul-Index").value_or(index));
      held.url = url + "?index=" + index + "&wait=10s";
      r = reader.async_get(held, asio::use_future).get();
    }
    samples.push_back(bench::micros(bench::clock::now() - start) / 1000.0);
    index = std::string(r.header("X-Consul-Index").value_or(index));
  }
  bench::emit("publish_propagation", "\"checks\":" + std::to_string(n) + ",\"p50_ms\":" +
                                         bench::num(bench::percentile(samples, 0.5)) + ",\"p99_ms\":" +
                                         bench::num(bench::percentile(samples, 0.99)));
}

void flapping() {
  constexpr int n = 100;
  constexpr int rate = 10000;  // flips per second
  constexpr auto duration = 2s;
  published_set set(n);
  auto& [server, state, runner, publisher] = set;
  std::uint64_t before = 0;
  for (int i = 0; i < n; ++i) before += publisher.stats(id_of(i))->updates;

  std::mt19937 rng(7);
  const auto start = bench::clock::now();
  long flips = 0;
  while (bench::clock::now() - start < duration) {
    const auto due = start + std::chrono::microseconds(flips * 1000000 / rate);
    if (bench::clock::now() < due) std::this_thread::sleep_until(due);
    const auto s = static_cast<status>(rng() % 3);
    state.update_check(id_of(static_cast<int>(flips % n)), s, "flip " + std::to_string(flips));
    ++flips;
  }
  const bool correct = converged(server, state, n);
  std::uint64_t after = 0;
  for (int i = 0; i < n; ++i) after += publisher.stats(id_of(i))->updates;
  bench::emit("publish_flapping", "\"checks\":" + std::to_string(n) + ",\"flips\":" + std::to_string(flips) +
                                      ",\"updates_sent\":" + std::to_string(after - before) +
                                      ",\"final_state_correct\":" + (correct ? "true" : "false"));
}

}  // namespace

void bench_health_endpoint();  // bench/health_endpoint.cpp
void bench_agent_memory();     // bench/agent_memory.cpp

int main() {
  propagation(1);
  propagation(1000);
  flapping();
  bench_health_endpoint();
  bench_agent_memory();
}
