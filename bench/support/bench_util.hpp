// Small helpers shared by the bench programs: percentiles, resident memory, JSON-line output.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace coalias::bench {

using clock = std::chrono::steady_clock;

inline double micros(clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// The q-th quantile (0..1) of `samples`, nearest rank.
inline double percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(rank, samples.size() - 1)];
}

/// Resident set size of this process, in bytes.
inline long resident_bytes() {
  long pages_total = 0, pages_resident = 0;
  std::ifstream statm("/proc/self/statm");
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

/// Prints one JSON object per line; `fields` is the inner text, e.g. "\"p50_us\":1.20".
inline void emit(const std::string& bench, const std::string& fields) {
  std::printf("{\"bench\":\"%s\",%s}\n", bench.c_str(), fields.c_str());
  std::fflush(stdout);
}

inline std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace coalias::bench
