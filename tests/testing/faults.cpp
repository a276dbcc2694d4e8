// Fault injection: each kind's exact wire effect, counts, path prefixes, persistence and ordering.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;

namespace {

struct populated_server {
  populated_server() { populate(server); }
  consul_test_server server;
};

}  // namespace

TEST_CASE_METHOD(populated_server, "status faults answer their status and body once, then normal answers resume") {
  raw_client client(server.port());
  server.inject(fault::no_leader());
  const raw_response r = client.get("/v1/health/node/db-7");
  CHECK(r.status == 500);
  CHECK(r.reason == "Internal Server Error");
  CHECK(r.body == "No cluster leader");
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK_FALSE(r.header("X-Consul-Index"));
  CHECK(client.get("/v1/health/node/db-7").body == db7_health_body);  // same connection still usable
  CHECK(server.faults_injected() == 1);

  server.inject(fault::too_many_connections());
  server.inject(fault::permission_denied());
  server.inject(fault::with_status(503, "rate limit exceeded, try again later"));
  const raw_response limited = client.get("/v1/health/node/db-7");
  CHECK(limited.status == 429);
  CHECK(limited.body == "Your IP is issuing too many concurrent connections, please rate limit your calls");
  const raw_response denied = client.get("/v1/health/node/db-7");
  CHECK(denied.status == 403);
  CHECK(denied.body == "Permission denied");
  CHECK(client.get("/v1/health/node/db-7").status == 503);
  CHECK(client.get("/v1/health/node/db-7").status == 200);
  CHECK(server.faults_injected() == 4);
}

TEST_CASE_METHOD(populated_server, "faults can be limited to a path prefix and a number of hits") {
  raw_client client(server.port());
  server.inject(fault::no_leader().on_path("/v1/catalog/").times(2));
  CHECK(client.get("/v1/health/node/db-7").status == 200);
  CHECK(client.get("/v1/catalog/node/db-7").status == 500);
  CHECK(client.get("/v1/health/node/db-7").status == 200);
  CHECK(client.get("/v1/catalog/node/db-7").status == 500);
  CHECK(client.get("/v1/catalog/node/db-7").status == 200);
  CHECK(server.faults_injected() == 2);
}

TEST_CASE_METHOD(populated_server, "a persistent fault stays until cleared") {
  raw_client client(server.port());
  server.inject(fault::no_leader().persistent());
  for (int i = 0; i < 5; ++i) CHECK(client.get("/v1/health/node/db-7").status == 500);
  server.clear_faults();
  CHECK(client.get("/v1/health/node/db-7").status == 200);
  CHECK(server.faults_injected() == 5);
}

TEST_CASE_METHOD(populated_server, "malformed JSON is a 200 with a broken body") {
  raw_client client(server.port());
  server.inject(fault::malformed_json());
  const raw_response r = client.get("/v1/health/node/db-7");
  CHECK(r.status == 200);
  CHECK(r.body == R"([{"Node":"broken","CheckID":}])");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("X-Consul-Index") == "14");

  fault custom = fault::malformed_json();
  custom.body = "{oops";
  server.inject(custom);
  CHECK(client.get("/v1/health/node/db-7").body == "{oops");
}

TEST_CASE_METHOD(populated_server, "truncated JSON sends a valid prefix with a matching Content-Length") {
  raw_client client(server.port());
  server.inject(fault::truncated_json());
  const raw_response r = client.get("/v1/health/node/db-7");
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.body == db7_health_body.substr(0, db7_health_body.size() / 2));
  CHECK(r.header("Content-Length") == std::to_string(db7_health_body.size() / 2));
  CHECK(client.get("/v1/health/node/db-7").body == db7_health_body);

  server.inject(fault::truncated_json());
  CHECK(client.get("/v1/health/node/nope").body == "[");
}

TEST_CASE_METHOD(populated_server, "a lying Content-Length claims more than is sent, then the connection closes") {
  raw_client client(server.port());
  server.inject(fault::lying_content_length());
  const auto r = client.get("/v1/health/node/db-7");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Length") == std::to_string(db7_health_body.size() + 100));
  CHECK_FALSE(r.complete);
  CHECK(r.body == db7_health_body);
  CHECK(server.wait_for_open_connections(0, 2s));
}

TEST_CASE_METHOD(populated_server, "a delay holds the answer, and a client giving up is seen") {
  {
    raw_client client(server.port());
    server.inject(fault::delayed(150ms));
    const auto start = std::chrono::steady_clock::now();
    CHECK(client.get("/v1/health/node/db-7").body == db7_health_body);
    CHECK(ms_since(start) >= 150);
    CHECK(ms_since(start) < 1000);
  }
  CHECK(server.wait_for_open_connections(0, 2s));
  raw_client client(server.port());
  server.inject(fault::delayed(std::chrono::minutes(5)));
  client.send("GET", "/v1/health/node/db-7");
  REQUIRE(server.wait_for_open_connections(1, 2s));
  client.close();  // a client timeout
  CHECK(server.wait_for_open_connections(0, 2s));
}

TEST_CASE_METHOD(populated_server, "index faults: regress below the last index sent, and a literal 0") {
  raw_client client(server.port());
  CHECK(client.get("/v1/health/node/db-7").header("X-Consul-Index") == "14");
  server.inject(fault::index_regress());
  const raw_response regressed = client.get("/v1/health/node/db-7");
  CHECK(regressed.header("X-Consul-Index") == "7");
  CHECK(regressed.body == db7_health_body);
  server.inject(fault::index_regress(3));
  CHECK(client.get("/v1/health/node/db-7").header("X-Consul-Index") == "3");
  server.inject(fault::index_zero());
  const raw_response zero = client.get("/v1/catalog/node/db-7");
  CHECK(zero.header("X-Consul-Index") == "0");
  CHECK(zero.body == db7_catalog_body);
  CHECK(client.get("/v1/health/node/db-7").header("X-Consul-Index") == "14");
  CHECK(server.faults_injected() == 3);
}

TEST_CASE_METHOD(populated_server, "a dropped connection closes without any answer") {
  raw_client client(server.port());
  server.inject(fault::drop_connection());
  client.send("GET", "/v1/health/node/db-7");
  CHECK_FALSE(client.read());
  CHECK(server.faults_injected() == 1);
  raw_client again(server.port());
  CHECK(again.get("/v1/health/node/db-7").status == 200);
}

TEST_CASE_METHOD(populated_server, "faults apply in injection order, each to its first matching request") {
  raw_client client(server.port());
  server.inject(fault::with_status(502, "a"));
  server.inject(fault::with_status(504, "b"));
  CHECK(client.get("/v1/kv/x").status == 502);  // unknown paths count too
  CHECK(client.get("/v1/health/node/db-7").status == 504);
  CHECK(client.get("/v1/kv/x").status == 404);
}
