#include <coalias/prometheus_metrics.hpp>

#include "raw_http.hpp"
#include "served.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using coalias::status;
using coalias::test::served;

namespace {

// What prometheus_client's parser reads in `exposition`, normalised by exposition.py.
std::string parsed(const std::string& exposition) {
  const auto path = std::filesystem::temp_directory_path() / ("coalias-metrics-" + std::to_string(::getpid()));
  std::ofstream(path) << exposition;
  const std::string command = "/usr/bin/python3 " EXPOSITION_PY " < " + path.string() + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, p)) > 0) out.append(chunk, n);
    out += "exit " + std::to_string(::pclose(p));
  }
  std::filesystem::remove(path);
  return out;
}

}  // namespace

TEST_CASE("GET /metrics serves the exposition that prometheus_client parses, with exact families and values") {
  std::unique_ptr<coalias::prometheus_metrics> metrics;
  coalias::endpoint_options o;
  o.metrics = [&metrics] { return metrics->render(); };
  served s(o);
  metrics = std::make_unique<coalias::prometheus_metrics>(s.state);

  using std::chrono::nanoseconds;
  metrics->on_published("disk", status::warning, nanoseconds(3'906'250));         // 2^-8 s: exact in binary
  metrics->on_published("disk", status::critical, nanoseconds(1'953'125));        // 2^-9 s
  metrics->on_published("web:alive", status::passing, nanoseconds(125'000'000));  // 2^-3 s
  metrics->on_publish_failed("disk", "agent answered 500");
  metrics->on_publish_failed("disk", "agent answered 500");
  static_cast<coalias::remote_observer&>(*metrics).on_query_failed("db-1", "connection refused");

  const auto r = coalias::testing::test::raw_client(s.port()).get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(parsed(r.body) ==
        "family coalias_check_status gauge\n"
        "coalias_check_status{id=\"disk\",status=\"passing\"} 0.0\n"
        "coalias_check_status{id=\"disk\",status=\"warning\"} 1.0\n"
        "coalias_check_status{id=\"disk\",status=\"critical\"} 0.0\n"
        "coalias_check_status{id=\"web:alive\",status=\"passing\"} 1.0\n"
        "coalias_check_status{id=\"web:alive\",status=\"warning\"} 0.0\n"
        "coalias_check_status{id=\"web:alive\",status=\"critical\"} 0.0\n"
        "family coalias_publish_failures counter\n"
        "coalias_publish_failures_total{} 2.0\n"
        "family coalias_publish_latency_seconds histogram\n"
        "coalias_publish_latency_seconds_count{} 3.0\n"
        "coalias_publish_latency_seconds_sum{} 0.130859375\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.0005\"} 0.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.001\"} 0.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.0025\"} 1.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.005\"} 2.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.01\"} 2.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.025\"} 2.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.05\"} 2.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.1\"} 2.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.25\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"0.5\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"1\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"2.5\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"5\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"10\"} 3.0\n"
        "coalias_publish_latency_seconds_bucket{le=\"+Inf\"} 3.0\n"
        "family coalias_publishes counter\n"
        "coalias_publishes_total{} 3.0\n"
        "family coalias_remote_query_failures counter\n"
        "coalias_remote_query_failures_total{} 1.0\n"
        "exit 0");

  // A flip shows in the next scrape.
  s.state.update_check("disk", status::critical, "full");
  const std::string after = parsed(coalias::testing::test::raw_client(s.port()).get("/metrics").body);
  CHECK(after.find("coalias_check_status{id=\"disk\",status=\"critical\"} 1.0\n") != std::string::npos);
  CHECK(after.find("coalias_check_status{id=\"disk\",status=\"warning\"} 0.0\n") != std::string::npos);
  s.shutdown();
}

TEST_CASE("coalias_check_status covers the served checks only") {
  served s;
  coalias::prometheus_metrics metrics(s.state, [](const coalias::health_check& c) { return c.check_id == "disk"; });
  const std::string text = metrics.render();
  CHECK(text.find("id=\"disk\"") != std::string::npos);
  CHECK(text.find("web:alive") == std::string::npos);
}
