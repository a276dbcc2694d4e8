// Blocking queries as strict as Consul's state store: a held query returns when what it reads changed (or at the
// end of its wait), never because something else did, while X-Consul-Index stays the table's max index.
// A premature return is caught exactly: the first answer read after the relevant change must contain that change.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using coalias::status;

namespace {

// db-7 as in fixture.hpp (indexes 11..14), then node web-3 with service web-1 and its check (15..17).
void populate_two_nodes(consul_test_server& server) {
  populate(server);
  server.add_node("web-3", "10.0.0.3");
  server.add_service("web-3", coalias::service{"web-1", "web"});
  server.set_check({"web-3", "service:web-1", "web http", status::passing, "", "200 OK", "web-1", "web", ""}, "http");
}

// A request on a fresh connection, answered by the server thread after every wake-up posted before it.
void round_trip(const consul_test_server& server) {
  raw_client probe(server.port());
  REQUIRE(probe.get("/v1/catalog/node/db-7").status == 200);
}

}  // namespace

TEST_CASE("a held health/node query stays held while another node's checks change, and returns on its own") {
  consul_test_server server;
  populate_two_nodes(server);
  REQUIRE(server.indexes().checks == 17);
  raw_client client(server.port());
  client.send("GET", "/v1/health/node/db-7?index=17&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));

  REQUIRE(server.update_check_status("web-3", "service:web-1", status::critical, "500"));  // index 18
  REQUIRE(server.update_check_status("web-3", "service:web-1", status::warning, "slow"));  // index 19
  server.set_check({"web-3", "mem", "Memory", status::passing, "", "ok", "", "", ""});             // index 20
  round_trip(server);
  CHECK(server.held_queries() == 1);
  CHECK(client.socket().available() == 0);

  const auto change = clock_type::now();
  REQUIRE(server.update_check_status("db-7", "serfHealth", status::critical, "gone"));  // index 21
  const auto r = client.read();
  CHECK(ms_since(change) < 1000);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("X-Consul-Index") == "21");
  CHECK(r->body.find(R"("Status":"critical","Notes":"","Output":"gone")") != std::string::npos);
  CHECK(server.held_queries() == 0);
}

TEST_CASE("a held health/node query whose node is untouched returns only at its wait, body unchanged") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  client.send("GET", "/v1/health/node/db-7?index=14&wait=300ms");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.set_check({"other", "c", "c", status::passing, "", "", "", "", ""});  // node 15, check 15
  REQUIRE(server.update_check_status("other", "c", status::critical, "x"));  // 16
  const auto r = client.read();
  REQUIRE(r);
  CHECK(ms_since(start) >= 300);
  CHECK(r->status == 200);
  CHECK(r->body == db7_health_body);
  CHECK(r->header("X-Consul-Index") == "16");  // Consul's: the checks table's max, moved by the other node
}

TEST_CASE("X-Consul-Index of health/node is the checks table's max; an index behind it answers at once") {
  consul_test_server server;
  populate_two_nodes(server);
  raw_client client(server.port());
  CHECK(client.get("/v1/health/node/db-7").header("X-Consul-Index") == "17");
  CHECK(client.get("/v1/health/node/web-3").header("X-Consul-Index") == "17");
  CHECK(client.get("/v1/health/node/ghost").header("X-Consul-Index") == "17");
  // db-7's checks last changed at 14, but 14 < 17: Consul answers without holding.
  const auto start = clock_type::now();
  const auto r = client.get("/v1/health/node/db-7?index=14&wait=30s");
  CHECK(ms_since(start) < 1000);
  CHECK(r.header("X-Consul-Index") == "17");
  CHECK(r.body == db7_health_body);
}

TEST_CASE("a held query on an unknown node wakes when that node gets a check, not before") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  client.send("GET", "/v1/health/node/ghost?index=14&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  REQUIRE(server.update_check_status("db-7", "serfHealth", status::critical, "x"));  // 15
  server.add_node("ghost");                                                           // 16: catalog only
  round_trip(server);
  CHECK(server.held_queries() == 1);
  server.set_check({"ghost", "serfHealth", "Serf Health Status", status::passing, "", "alive", "", "", ""});  // 17
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "17");
  CHECK(r->body.find(R"("Node":"ghost","CheckID":"serfHealth")") != std::string::npos);
}

TEST_CASE("a held query on a removed node wakes when the node comes back with checks") {
  consul_test_server server;
  populate(server);
  REQUIRE(server.remove_node("db-7"));  // 15
  raw_client client(server.port());
  client.send("GET", "/v1/health/node/db-7?index=15&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.set_check({"web-3", "c", "c", status::passing, "", "", "", "", ""});  // 16, elsewhere
  round_trip(server);
  CHECK(server.held_queries() == 1);
  server.set_check({"DB-7", "serfHealth", "Serf Health Status", status::passing, "", "back", "", "", ""});  // 17
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "17");
  CHECK(r->body.find(R"("Output":"back")") != std::string::npos);
}

TEST_CASE("a held catalog/node query wakes on its node's services only; its index is the catalog's max") {
  consul_test_server server;
  populate_two_nodes(server);  // catalog: 11, 12, 15, 16
  raw_client client(server.port());
  client.send("GET", "/v1/catalog/node/db-7?index=16&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.add_service("web-3", coalias::service{"web-2", "web"});  // 18
  round_trip(server);
  CHECK(server.held_queries() == 1);
  server.add_service("db-7", coalias::service{"pgbouncer-1", "pgbouncer"});  // 19
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "19");
  CHECK(r->body.find(R"("pgbouncer-1":{"ID":"pgbouncer-1")") != std::string::npos);
}

TEST_CASE("a held health/service query wakes on its service's index only, and reports that index") {
  consul_test_server server;
  populate_two_nodes(server);
  raw_client client(server.port());
  // postgres: registered at 12, its check at 14, db-7's serfHealth at 13.
  const auto first = client.get("/v1/health/service/postgres");
  CHECK(first.header("X-Consul-Index") == "14");
  CHECK(client.get("/v1/health/service/web").header("X-Consul-Index") == "17");

  client.send("GET", "/v1/health/service/postgres?index=14&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  REQUIRE(server.update_check_status("web-3", "service:web-1", status::critical, "500"));  // 18: web only
  server.add_service("web-3", coalias::service{"web-2", "web"});                           // 19: web only
  round_trip(server);
  CHECK(server.held_queries() == 1);
  // A node-level check of a node running postgres is part of every instance there: it wakes the query.
  REQUIRE(server.update_check_status("db-7", "serfHealth", status::critical, "gone"));  // 20
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "20");
  CHECK(r->body.find(R"("Output":"gone")") != std::string::npos);
  CHECK(client.get("/v1/health/service/web").header("X-Consul-Index") == "19");
}

TEST_CASE("health/service of a name without instances reports the catalog and checks max, wakes on registration") {
  consul_test_server server;
  populate_two_nodes(server);
  raw_client client(server.port());
  const auto none = client.get("/v1/health/service/cache");
  CHECK(none.body == "[]");
  CHECK(none.header("X-Consul-Index") == "17");
  client.send("GET", "/v1/health/service/cache?index=17&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  REQUIRE(server.update_check_status("db-7", "serfHealth", status::critical, "x"));  // 18
  round_trip(server);
  CHECK(server.held_queries() == 1);
  server.add_service("web-3", coalias::service{"cache-1", "cache"});  // 19
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->header("X-Consul-Index") == "19");
  CHECK(r->body.find(R"("Service":{"ID":"cache-1","Service":"cache")") != std::string::npos);
}

TEST_CASE("a held health/state query wakes on any check change, its filter applying afterwards") {
  consul_test_server server;
  populate_two_nodes(server);
  raw_client client(server.port());
  const std::string target = "/v1/health/state/any?filter=Node%20%3D%3D%20%22db-7%22";
  const auto before = client.get(target);
  CHECK(before.body == db7_health_body);
  CHECK(before.header("X-Consul-Index") == "17");
  client.send("GET", target + "&index=17&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  const auto change = clock_type::now();
  REQUIRE(server.update_check_status("web-3", "service:web-1", status::critical, "500"));  // 18, filtered out
  const auto r = client.read();
  REQUIRE(r);
  CHECK(ms_since(change) < 1000);
  CHECK(r->header("X-Consul-Index") == "18");
  CHECK(r->body == db7_health_body);  // a return is not proof of change
}

TEST_CASE("a held health/state query ignores catalog-only changes") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto start = clock_type::now();
  client.send("GET", "/v1/health/state/any?index=14&wait=300ms");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  server.add_service("db-7", coalias::service{"web-1", "web"});  // 15: catalog only
  const auto r = client.read();
  REQUIRE(r);
  CHECK(ms_since(start) >= 300);
  CHECK(r->header("X-Consul-Index") == "14");
  CHECK(r->body == db7_health_body);
}
