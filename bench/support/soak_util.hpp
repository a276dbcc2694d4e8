// Helpers shared by bench_soak and bench_overload: the truth an alias must show (the library's aggregation rule
// applied to the final local or server state, with presence decided as the library decides it), process resource
// counters (/proc/self/fd entries, peak resident set) and a small thread-safe random source.
#pragma once

#include <coalias/aggregate.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace coalias::bench {

/// What a local alias must show: `local_alias::evaluate` over the final local state. The alias's own check is
/// identified by (agent node, check ID), as the library does.
inline check_result local_truth(const local_state& state, const alias_definition& def) {
  const auto view = state.snapshot(def.target.service_id);
  const alias_target target{state.node_name(), def.target.service_id};
  const check_key self{state.node_name(), def.check_id};
  aggregator agg(target, self);
  for (const auto& c : view.checks) agg.add(*c);
  return agg.finish(view.service_exists ? presence::present : presence::service_missing);
}

/// What a remote alias must show once its watch has a good answer and a good catalog look-up: the rule over the
/// server's checks of the node (sorted by check ID, the order /v1/health/node answers in), and, when nothing of
/// the aliased subject was found, presence from the server's catalog. `services_of_node` lists the service IDs the
/// bench registered on the node (the test server has no public service listing; the benches never remove a
/// service, so this list is exact).
inline check_result remote_truth(const testing::consul_test_server& server, const std::string& local_node,
                                 const alias_definition& def, const std::set<std::string>& services_of_node) {
  const check_key self{local_node, def.check_id};
  const auto checks = server.checks(def.target.node);
  aggregator agg(def.target, self);
  for (const auto& c : checks) agg.add(c);
  presence p = presence::present;
  if (agg.needs_presence()) {
    if (!server.find_node(def.target.node))
      p = presence::node_missing;
    else if (!def.target.service_id.empty() && !services_of_node.contains(def.target.service_id))
      p = presence::service_missing;
  }
  return agg.finish(p);
}

/// Entries of /proc/self/fd (not counting the descriptor used to read the directory).
inline long count_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  long n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the DIR's own descriptor
}

/// Peak resident set size (VmHWM), in bytes.
inline long peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      long kb = 0;
      std::sscanf(line.c_str() + 6, "%ld", &kb);
      return kb * 1024;
    }
  }
  return -1;
}

/// A per-thread random source with a fixed seed per stream, so runs are comparable.
class rng {
 public:
  explicit rng(std::uint64_t seed) : gen_(seed) {}
  /// Uniform in [0, n).
  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(gen_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(gen_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  std::mt19937_64 gen_;
};

inline std::string describe_result(const check_result& r) {
  return std::string(to_string(r.status)) + " \"" + r.output + "\"";
}

inline std::string describe_def(const alias_definition& def) {
  std::string s = def.target.node.empty() ? "local" : "remote node=" + def.target.node;
  s += " service=" + (def.target.service_id.empty() ? std::string("<node>") : def.target.service_id);
  return s;
}

}  // namespace coalias::bench
