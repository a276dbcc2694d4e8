// The endpoints that cover many targets: /v1/health/service/<name> and /v1/health/state/<state>, exact bodies,
// Consul's `filter` in the subset the test server supports, and a 400 naming what it does not support.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

using namespace coalias::testing;
using namespace coalias::testing::test;
using coalias::status;

namespace {

const std::string db7_node_json =
    R"({"ID":"a1b2c3d4-0000-4000-8000-000000000007","Node":"db-7","Address":"10.0.0.7","Datacenter":"dc1",)"
    R"("TaggedAddresses":{},"Meta":{},"CreateIndex":11,"ModifyIndex":11})";
const std::string pg1_service_json =
    R"({"ID":"pg-1","Service":"postgres","Tags":["primary"],"Address":"","TaggedAddresses":{},"Meta":{},)"
    R"("Port":5432,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"CreateIndex":12,"ModifyIndex":12})";

// The check rows of db7_health_body, one by one (the array without its brackets, split at "},{").
std::string serf_json() { return db7_health_body.substr(1, db7_health_body.find("},{") ); }
std::string pg_check_json() {
  const auto at = db7_health_body.find("},{") + 2;
  return db7_health_body.substr(at, db7_health_body.size() - 1 - at);
}

// db-7 (11..14), then db-8 with a second postgres instance pg-2 and a critical check (15..18).
void populate_two_instances(consul_test_server& server) {
  populate(server);
  server.add_node("db-8", "10.0.0.8", "a1b2c3d4-0000-4000-8000-000000000008");
  server.add_service("db-8", coalias::service{"pg-2", "postgres"}, {}, 5432);
  server.set_check({"db-8", "serfHealth", "Serf Health Status", status::passing, "", "alive", "", "", ""});
  server.set_check({"db-8", "service:pg-2", "pg port", status::critical, "", "refused", "pg-2", "postgres", ""}, "tcp");
}

// populate_two_instances, and web-3 with only serfHealth (19).
void populate_three_nodes(consul_test_server& server) {
  populate_two_instances(server);
  server.set_check({"web-3", "serfHealth", "Serf Health Status", status::passing, "", "alive", "", "", ""});
}

std::string encode(std::string_view filter) {
  std::string out;
  for (char c : filter) {
    switch (c) {
      case ' ': out += "%20"; break;
      case '"': out += "%22"; break;
      case '=': out += "%3D"; break;
      case '!': out += "%21"; break;
      case '(': out += "%28"; break;
      case ')': out += "%29"; break;
      case '`': out += "%60"; break;
      default: out += c;
    }
  }
  return out;
}

std::string check_ids(const std::string& body) {
  std::string ids;
  for (auto at = body.find("\"Node\":\""); at != std::string::npos; at = body.find("\"Node\":\"", at + 1)) {
    const auto node_end = body.find('"', at + 8);
    const auto id_at = body.find("\"CheckID\":\"", at);
    if (id_at != node_end + 2) continue;  // a Node object, not a check row
    const auto id_end = body.find('"', id_at + 11);
    if (!ids.empty()) ids += ' ';
    ids += body.substr(at + 8, node_end - at - 8) + '/' + body.substr(id_at + 11, id_end - id_at - 11);
  }
  return ids;
}

}  // namespace

TEST_CASE("health/service answers Consul's entries: the node, the instance, its checks and the node's") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const auto r = client.get("/v1/health/service/postgres");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "[{\"Node\":" + db7_node_json + ",\"Service\":" + pg1_service_json + ",\"Checks\":" +
                      db7_health_body + "}]");
  CHECK(client.get("/v1/health/service/nope").body == "[]");
  CHECK(client.get("/v1/health/service/").status == 400);
  CHECK(client.get("/v1/health/service/").body == "Missing service name");
  CHECK(server.requests_to(endpoint::health_service) == 4);
}

TEST_CASE("health/service?passing drops instances with any non-passing check; filters pick instances") {
  consul_test_server server;
  populate_two_instances(server);
  raw_client client(server.port());
  CHECK(check_ids(client.get("/v1/health/service/postgres").body) ==
        "db-7/serfHealth db-7/service:pg-1 db-8/serfHealth db-8/service:pg-2");
  // db-7's pg check is warning: ?passing leaves nothing.
  CHECK(client.get("/v1/health/service/postgres?passing").body == "[]");
  REQUIRE(server.update_check_status("db-7", "service:pg-1", status::passing, "ok"));
  CHECK(check_ids(client.get("/v1/health/service/postgres?passing=1").body) == "db-7/serfHealth db-7/service:pg-1");

  const std::string base = "/v1/health/service/postgres?filter=";
  CHECK(check_ids(client.get(base + encode(R"(Node.Node == "db-8")")).body) == "db-8/serfHealth db-8/service:pg-2");
  CHECK(check_ids(client.get(base + encode(R"(Service.ID == "pg-1")")).body) == "db-7/serfHealth db-7/service:pg-1");
  CHECK(check_ids(client.get(base + encode(R"(Node.Node == "db-7" or Node.Node == "db-8")")).body) ==
        "db-7/serfHealth db-7/service:pg-1 db-8/serfHealth db-8/service:pg-2");
  CHECK(client.get(base + encode(R"(Node.Node == "DB-8")")).body == "[]");  // bexpr compares exactly
  // As in Consul, `Node` is an object on this endpoint: comparing it to a string is not a valid filter.
  const auto bad = client.get(base + encode(R"(Node == "db-7")"));
  CHECK(bad.status == 400);
  CHECK(bad.body == "Failed to create boolean expression evaluator: Selector \"Node\" is not valid");
  CHECK_FALSE(bad.header("X-Consul-Index"));
}

TEST_CASE("health/state answers every check in a state, sorted by node then check ID") {
  consul_test_server server;
  populate_two_instances(server);
  raw_client client(server.port());
  const auto any = client.get("/v1/health/state/any");
  CHECK(any.status == 200);
  CHECK(any.header("X-Consul-Index") == "18");
  CHECK(check_ids(any.body) == "db-7/serfHealth db-7/service:pg-1 db-8/serfHealth db-8/service:pg-2");
  CHECK(any.body.substr(0, 1 + serf_json().size()) == "[" + serf_json());
  CHECK(check_ids(client.get("/v1/health/state/passing").body) == "db-7/serfHealth db-8/serfHealth");
  CHECK(client.get("/v1/health/state/warning").body == "[" + pg_check_json() + "]");
  CHECK(check_ids(client.get("/v1/health/state/critical").body) == "db-8/service:pg-2");
  CHECK(client.get("/v1/health/state/").body == "Missing check state");
  CHECK(server.requests_to(endpoint::health_state) == 5);
}

TEST_CASE("filters on check rows: Node equality, or-chains, ServiceID, and/!= and parentheses") {
  consul_test_server server;
  populate_three_nodes(server);
  raw_client client(server.port());
  const std::string base = "/v1/health/state/any?filter=";
  CHECK(client.get(base + encode(R"(Node == "db-7")")).body == db7_health_body);
  CHECK(check_ids(client.get(base + encode(R"(Node == "db-7" or Node == "web-3" or Node == "x")")).body) ==
        "db-7/serfHealth db-7/service:pg-1 web-3/serfHealth");
  CHECK(check_ids(client.get(base + encode(R"(ServiceID == "pg-2")")).body) == "db-8/service:pg-2");
  CHECK(check_ids(client.get(base + encode(R"(ServiceID == `pg-2`)")).body) == "db-8/service:pg-2");
  CHECK(check_ids(client.get(base + encode(R"((Node == "db-7" or Node == "db-8") and ServiceID != "")")).body) ==
        "db-7/service:pg-1 db-8/service:pg-2");
  CHECK(check_ids(client.get(base + encode(R"(Node == "db-8" and Status == "critical")")).body) == "db-8/service:pg-2");
  // health/node takes the same filter on its rows.
  CHECK(check_ids(client.get("/v1/health/node/db-7?filter=" + encode(R"(ServiceID == "pg-1")")).body) ==
        "db-7/service:pg-1");
}

TEST_CASE("a filter naming only nodes is answered from the node index exactly as by testing every row") {
  consul_test_server server;
  populate_three_nodes(server);
  raw_client client(server.port());
  const std::string base = "/v1/health/state/any?filter=";
  // The same rows through the index (an `or` of Node ==) and through a scan (the `and` defeats the index).
  const auto indexed = [&] {
    return client.get(base + encode(R"(Node == "web-3" or Node == "db-7" or Node == "DB-8")"));
  };
  const auto scanned = [&] {
    return client.get(base + encode(R"((Node == "web-3" or Node == "db-7" or Node == "DB-8") and Node != "")"));
  };
  CHECK(check_ids(indexed().body) == "db-7/serfHealth db-7/service:pg-1 web-3/serfHealth");  // exact: not DB-8
  CHECK(indexed().body == scanned().body);
  CHECK(indexed().header("X-Consul-Index") == scanned().header("X-Consul-Index"));
  CHECK(client.get(base + encode(R"(Node == "db-8")")).body ==
        client.get(base + encode(R"(Node == "db-8" and Node != "")")).body);
  // Every change to what a node's rows show is seen through the index: a status, a service's tags, a node's
  // spelling, a removed check.
  server.update_check_status("db-7", "service:pg-1", status::critical, "refused");
  CHECK(indexed().body.find(R"("Output":"refused")") != std::string::npos);
  CHECK(indexed().body == scanned().body);
  server.add_service("db-7", coalias::service{"pg-1", "postgres"}, {"replica"}, 5432);
  CHECK(indexed().body.find(R"("ServiceTags":["replica"])") != std::string::npos);
  CHECK(indexed().body == scanned().body);
  server.add_node("WEB-3", "10.0.0.3", "");
  CHECK(check_ids(indexed().body) == "db-7/serfHealth db-7/service:pg-1");  // now spelled WEB-3
  CHECK(indexed().body == scanned().body);
  server.remove_check("db-7", "serfHealth");
  CHECK(check_ids(indexed().body) == "db-7/service:pg-1");
  CHECK(indexed().body == scanned().body);
}

TEST_CASE("filter syntax the test server does not support is a 400 that says so") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const std::string prefix = "Failed to create boolean expression evaluator: ";
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"(Node matches "^db")", "the 'matches' operator is not supported by the test server"},
      {R"(not Node == "db-7")", "the 'not' operator is not supported by the test server"},
      {R"(Node in "db-7")", "the 'in' operator is not supported by the test server"},
      {R"(Node == db-7)", "expected a quoted value after Node"},
      {R"(Node == "db-7)", "unterminated string"},
      {R"((Node == "db-7")", "missing ')'"},
      {R"(Node == "db-7" or)", "unexpected end of the expression"},
      {R"(Nodes == "db-7")", "Selector \"Nodes\" is not valid"},
      {R"(Node == "a\nb")", "only \\\" and \\\\ escapes are supported by the test server"},
  };
  for (const auto& [filter, why] : cases) {
    INFO(filter);
    for (const char* endpoint : {"/v1/health/state/any", "/v1/health/node/db-7"}) {
      const auto r = client.get(std::string(endpoint) + "?filter=" + encode(filter));
      CHECK(r.status == 400);
      CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
      CHECK(r.body == prefix + why);
    }
  }
}
