// Observation (request log, counters, connection gauges), lifetime, and thread safety of the public API.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;

TEST_CASE("the request log keeps method, exact target and headers of recent requests") {
  server_options options;
  options.request_log_capacity = 3;
  consul_test_server server(options);
  populate(server);
  raw_client client(server.port());
  const auto before = std::chrono::system_clock::now();
  client.get("/v1/health/node/db-7?index=1&wait=100ms&stale", {{"X-Consul-Token", "tok-1"}});
  const std::vector<request_record> log = server.recent_requests();
  REQUIRE(log.size() == 1);
  CHECK(log[0].method == "GET");
  CHECK(log[0].target == "/v1/health/node/db-7?index=1&wait=100ms&stale");
  CHECK(log[0].header("x-consul-token") == "tok-1");
  CHECK(log[0].header("Host") == "127.0.0.1");
  CHECK_FALSE(log[0].header("Authorization"));
  CHECK(log[0].time >= before);
  CHECK(log[0].time <= std::chrono::system_clock::now());
  CHECK(log[0].target.find("tok-1") == std::string::npos);  // the kind of assertion a client test makes

  for (int i = 0; i < 4; ++i) client.get("/v1/catalog/node/n" + std::to_string(i));
  const auto bounded = server.recent_requests();
  REQUIRE(bounded.size() == 3);
  CHECK(bounded[0].target == "/v1/catalog/node/n1");
  CHECK(bounded[2].target == "/v1/catalog/node/n3");
  server.clear_request_log();
  CHECK(server.recent_requests().empty());
  CHECK(server.total_requests() == 5);
}

TEST_CASE("requests are counted per endpoint, faults and errors included") {
  consul_test_server server;
  raw_client client(server.port());
  client.get("/v1/health/node/a");
  client.get("/v1/health/node/b?index=x");
  client.get("/v1/catalog/node/a");
  client.get("/v1/status/leader");
  server.inject(fault::no_leader());
  client.get("/v1/health/node/a");
  CHECK(server.total_requests() == 5);
  CHECK(server.requests_to(endpoint::health_node) == 3);
  CHECK(server.requests_to(endpoint::catalog_node) == 1);
  CHECK(server.requests_to(endpoint::other) == 1);
}

TEST_CASE("open and peak connections are tracked; the peak can be reset") {
  consul_test_server server;
  {
    std::vector<std::unique_ptr<raw_client>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(std::make_unique<raw_client>(server.port()));
      clients.back()->get("/v1/health/node/a");  // answered: certainly accepted
    }
    CHECK(server.open_connections() == 3);
    CHECK(server.peak_connections() == 3);
    clients.pop_back();
    CHECK(server.wait_for_open_connections(2, 2s));
    CHECK(server.peak_connections() == 3);
    server.reset_peak_connections();
    CHECK(server.peak_connections() == 2);
  }
  CHECK(server.wait_for_open_connections(0, 2s));
  CHECK(server.peak_connections() == 2);
  server.reset_peak_connections();
  CHECK(server.peak_connections() == 0);
}

TEST_CASE("the public API is safe from many threads while clients poll") {
  consul_test_server server;
  server.set_check({"n", "c0", "c", coalias::status::passing, "", "", "", "", ""});
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&server, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string id = "c" + std::to_string(t) + "-" + std::to_string(i % 5);
        server.set_check({"n", id, "c", coalias::status::warning, "", std::to_string(i), "", "", ""});
        server.update_check_status("N", id, coalias::status::critical, "x" + std::to_string(i));
        if (i % 7 == 0) server.remove_check("n", id);
        if (i % 50 == 0) server.inject(fault::index_zero().on_path("/v1/catalog/"));
        (void)server.indexes();
        (void)server.recent_requests();
        (void)server.open_connections();
      }
    });
  }
  std::atomic<int> bad_answers{0};  // Catch2 assertions are not thread-safe: count, check after join
  std::thread poller([&] {
    raw_client client(server.port());
    std::uint64_t index = 1;
    while (!done.load()) {
      const auto r = client.get("/v1/health/node/n?wait=50ms&index=" + std::to_string(index));
      if (r.status != 200 || !r.header("X-Consul-Index")) ++bad_answers;
      index = std::stoull(r.header("X-Consul-Index").value_or("1"));
      if (client.get("/v1/catalog/node/n").status != 200) ++bad_answers;
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  poller.join();
  CHECK(bad_answers == 0);
  const index_snapshot idx = server.indexes();
  CHECK(idx.raft == 10 + 1 + 3 * (200 * 2 + 29));  // one raft index per mutation call
  CHECK(idx.checks <= idx.raft);
  // Each thread's last pass (i = 195..199) leaves its five IDs but the one removed at i = 196.
  CHECK(server.checks("n").size() == 1 + 3 * 4);
}

TEST_CASE("a stopped server can be destroyed; stop is idempotent and safe from two threads") {
  auto server = std::make_unique<consul_test_server>();
  raw_client client(server->port());
  CHECK(client.get("/v1/health/node/a").status == 200);
  std::thread other([&] { server->stop(); });
  server->stop();
  other.join();
  CHECK(client.closed_by_peer());
  server.reset();
}
