// Blocking queries: hold until the watched table's index passes ?index= or the wait ends; never block others.
// Timing bounds are wide upper bounds around exact lower bounds; syncing uses wait_for_held_queries, not sleeps.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST_CASE("a blocking query with no change returns after its wait, with the same index") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  const raw_response r = client.get("/v1/health/node/db-7?index=14&wait=100ms");
  const auto elapsed = ms_since(start);
  CHECK(elapsed >= 100);
  CHECK(elapsed < 1000);
  CHECK(r.status == 200);
  CHECK(r.header("X-Consul-Index") == "14");
  CHECK(r.body == db7_health_body);
  CHECK(server.held_queries() == 0);
}

TEST_CASE("an index already passed answers at once") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  CHECK(client.get("/v1/health/node/db-7?index=13&wait=10s").header("X-Consul-Index") == "14");
  CHECK(client.get("/v1/health/node/db-7?index=0&wait=10s").header("X-Consul-Index") == "14");
  CHECK(ms_since(start) < 1000);
}

TEST_CASE("a change wakes a held query at once") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  client.send("GET", "/v1/health/node/db-7?index=14&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  const auto start = clock_type::now();
  REQUIRE(server.update_check_status("db-7", "serfHealth", coalias::status::critical, "gone"));
  const auto r = client.read();
  CHECK(ms_since(start) < 1000);
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "15");
  CHECK(r->body.find(R"("Status":"critical","Notes":"","Output":"gone")") != std::string::npos);
  CHECK(server.held_queries() == 0);
}

TEST_CASE("the checks index is cluster-wide: a change on another node moves it without waking the query") {
  consul_test_server server;
  populate(server);
  server.add_node("other");  // catalog only: index 15, checks stays 14
  raw_client client(server.port());
  const auto start = clock_type::now();
  client.send("GET", "/v1/health/node/db-7?index=14&wait=200ms");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.set_check({"other", "c", "c", coalias::status::passing, "", "", "", "", ""});
  const auto r = client.read();
  REQUIRE(r);
  CHECK(ms_since(start) >= 200);  // held to the end of its wait, as Consul holds it
  CHECK(r->header("X-Consul-Index") == "16");
  CHECK(r->body == db7_health_body);  // a return is not proof of change
}

TEST_CASE("tables are separate: a check change does not wake a catalog query, a service change does") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  client.send("GET", "/v1/catalog/node/db-7?index=12&wait=300ms");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.update_check_status("db-7", "serfHealth", coalias::status::critical, "x");
  const auto r = client.read();
  CHECK(ms_since(start) >= 300);
  CHECK(r->header("X-Consul-Index") == "12");

  client.send("GET", "/v1/catalog/node/db-7?index=12&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  const auto change = clock_type::now();
  server.add_service("db-7", coalias::service{"web-1", "web"});
  const auto woken = client.read();
  CHECK(ms_since(change) < 1000);
  CHECK(woken->header("X-Consul-Index") == "16");
}

TEST_CASE("a no-op update moves no table index and wakes nobody") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  client.send("GET", "/v1/health/node/db-7?index=14&wait=200ms");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.update_check_status("db-7", "serfHealth", coalias::status::passing, "Agent alive and reachable");
  const auto r = client.read();
  CHECK(ms_since(start) >= 200);
  CHECK(r->header("X-Consul-Index") == "14");
  CHECK(server.indexes().raft == 15);
}

TEST_CASE("held queries do not block other connections") {
  consul_test_server server;
  populate(server);
  raw_client a(server.port());
  raw_client b(server.port());
  a.send("GET", "/v1/health/node/db-7?index=14&wait=30s");
  b.send("GET", "/v1/catalog/node/db-7?index=12&wait=30s");
  REQUIRE(server.wait_for_held_queries(2, 5s));
  raw_client c(server.port());
  const auto start = clock_type::now();
  CHECK(c.get("/v1/health/node/db-7").status == 200);
  CHECK(ms_since(start) < 1000);
  CHECK(server.held_queries() == 2);
  server.remove_node("db-7");  // moves both tables
  CHECK(a.read()->body == "[]");
  CHECK(b.read()->body == "null");
}

TEST_CASE("an index ahead of the server (after a regress) holds until the wait ends") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  CHECK(client.get("/v1/health/node/db-7?index=500&wait=100ms").header("X-Consul-Index") == "14");
  CHECK(ms_since(start) >= 100);
}

TEST_CASE("default and maximum waits apply") {
  server_options options;
  options.default_wait = 150ms;
  options.max_wait = 250ms;
  consul_test_server server(options);
  populate(server);
  raw_client client(server.port());
  for (const char* target : {"/v1/health/node/db-7?index=14", "/v1/health/node/db-7?index=14&wait=0s",
                             "/v1/health/node/db-7?index=14&wait=-1s"}) {
    INFO(target);
    const auto start = clock_type::now();
    CHECK(client.get(target).status == 200);
    CHECK(ms_since(start) >= 150);
    CHECK(ms_since(start) < 1000);
  }
  const auto start = clock_type::now();
  CHECK(client.get("/v1/health/node/db-7?index=14&wait=1h").status == 200);
  CHECK(ms_since(start) >= 250);
  CHECK(ms_since(start) < 1000);
}

TEST_CASE("a client hanging up during a hold is seen at once") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  client.send("GET", "/v1/health/node/db-7?index=14&wait=5m");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  CHECK(server.open_connections() == 1);
  client.close();
  CHECK(server.wait_for_open_connections(0, 2s));
  CHECK(server.held_queries() == 0);
}

TEST_CASE("stop ends held queries and idle connections promptly") {
  consul_test_server server;
  populate(server);
  raw_client held(server.port());
  raw_client idle(server.port());
  held.send("GET", "/v1/health/node/db-7?index=14&wait=5m");
  CHECK(idle.get("/v1/health/node/db-7").status == 200);
  REQUIRE(server.wait_for_held_queries(1, 5s));
  const auto start = clock_type::now();
  server.stop();
  CHECK(ms_since(start) < 1000);
  CHECK(server.open_connections() == 0);
  CHECK_FALSE(held.read());
  CHECK(idle.closed_by_peer());
  server.stop();  // idempotent
  CHECK_THROWS(raw_client(server.port()));
}
