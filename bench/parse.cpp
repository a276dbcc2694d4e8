// Parse throughput of /v1/health/node bodies: the exact bytes of tests/fixtures/health-node-N.json, parsed into
// health checks by one reused `consul_json_parser`, as a long-poll loop does. One JSON object per line:
//   {"bench":"parse_health_node","checks":N,"mb_per_s":X}
// MB is 10^6 bytes of body. Each size runs ~1 s after a warm-up that sizes the parser's buffers.
#include <coalias/consul_json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef COALIAS_SOURCE_DIR
#error "compile with -DCOALIAS_SOURCE_DIR=\"<project source dir>\""
#endif

namespace {

using clock_type = std::chrono::steady_clock;

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return static_cast<bool>(in);
}

}  // namespace

int main() {
  coalias::consul_json_parser parser;
  std::vector<coalias::health_check> checks;
  for (const int n : {1, 10, 100, 1000}) {
    const std::string path = std::string(COALIAS_SOURCE_DIR) + "/tests/fixtures/health-node-" + std::to_string(n) + ".json";
    std::string body;
    if (!read_file(path, body)) {
      std::fprintf(stderr, "bench_parse: cannot read fixture %s\n", path.c_str());
      return 1;
    }
    for (int i = 0; i < 20; ++i) {
      if (auto ec = parser.parse_health_node(body, checks)) {
        std::fprintf(stderr, "bench_parse: %s: %s (%s)\n", path.c_str(), ec.message().c_str(),
                     parser.last_error().c_str());
        return 1;
      }
    }
    if (checks.size() != static_cast<std::size_t>(n)) {
      std::fprintf(stderr, "bench_parse: %s holds %zu checks, expected %d\n", path.c_str(), checks.size(), n);
      return 1;
    }
    // Batches keep clock reads out of the timing for the tiny bodies.
    const std::size_t batch = std::max<std::size_t>(1, 256 * 1024 / body.size());
    std::size_t runs = 0;
    const auto start = clock_type::now();
    auto now = start;
    do {
      for (std::size_t i = 0; i < batch; ++i) (void)parser.parse_health_node(body, checks);
      runs += batch;
      now = clock_type::now();
    } while (now - start < std::chrono::seconds(1));
    const double seconds = std::chrono::duration<double>(now - start).count();
    const double mb_per_s = static_cast<double>(body.size()) * static_cast<double>(runs) / seconds / 1e6;
    std::printf("{\"bench\":\"parse_health_node\",\"checks\":%d,\"mb_per_s\":%.1f}\n", n, mb_per_s);
  }
  return 0;
}
