// The agent endpoints over real sockets: registration, updates, Consul's exact errors, TTL expiry, truncation,
// ACLs, restart and faults, and the catalog view (/v1/health/node) that aliases read.
#include "raw_http.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <catch2/catch.hpp>

using namespace coalias;
using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;

namespace {

raw_response put(raw_client& client, std::string_view target, std::string_view body, header_pairs headers = {}) {
  std::string bytes = std::string("PUT ") + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) bytes += k + ": " + v + "\r\n";
  bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  client.send_raw(bytes);
  auto r = client.read();
  if (!r) throw std::runtime_error("connection closed without a response");
  return *r;
}

const char* ttl_check = R"({"ID":"web:alias","Name":"web alias","Notes":"mirrors web","TTL":"30s","Status":"critical",)"
                        R"("Output":"not evaluated yet"})";

std::string node_body(raw_client& client) { return client.get("/v1/health/node/test-agent").body; }

std::string entry(std::string_view status, std::string_view output, int create, int modify,
                  std::string_view type = "ttl") {
  return std::string(R"({"Node":"test-agent","CheckID":"web:alias","Name":"web alias","Status":")") +
         std::string(status) + R"(","Notes":"mirrors web","Output":")" + std::string(output) +
         R"(","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":")" + std::string(type) +
         R"(","ExposedPort":0,"Definition":{},"CreateIndex":)" + std::to_string(create) +
         ",\"ModifyIndex\":" + std::to_string(modify) + "}";
}

}  // namespace

TEST_CASE("agent/self names the agent's node and datacenter") {
  server_options o;
  o.agent_node = "node-a";
  o.datacenter = "east";
  consul_test_server server(o);
  raw_client client(server.port());
  const auto r = client.get("/v1/agent/self");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == R"({"Config":{"Datacenter":"east","NodeName":"node-a","Server":true,"Version":"1.15.4"},)"
                  R"("Member":{"Name":"node-a","Addr":"127.0.0.1","Port":8301,"Status":1},"Meta":{}})");
  const auto wrong = put(client, "/v1/agent/self", "");
  CHECK(wrong.status == 405);
  CHECK(wrong.body == "method PUT not allowed");
  CHECK(wrong.header("Allow") == "GET");
}

TEST_CASE("a registered TTL check is critical without output, in the catalog on the agent's node") {
  consul_test_server server;  // initial index 10
  raw_client client(server.port());
  const auto r = put(client, "/v1/agent/check/register", ttl_check);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  // Node created at 11, check at 11 too (one raft index per mutation).
  CHECK(node_body(client) == "[" + entry("critical", "", 11, 11) + "]");
  const auto checks = server.agent_checks();
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].check_id == "web:alias");
  CHECK(checks[0].type == "ttl");
  CHECK(checks[0].ttl == 30s);
  CHECK(checks[0].status == status::critical);
  CHECK(checks[0].output.empty());  // Consul ignores Output at registration
}

TEST_CASE("an update sets status and output; an unchanged one moves no index") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  const auto r = put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing","Output":"all good"})");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(node_body(client) == "[" + entry("passing", "all good", 11, 12) + "]");
  const auto index = client.get("/v1/health/node/test-agent").header("X-Consul-Index");
  CHECK(index == "12");
  REQUIRE(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing","Output":"all good"})").status == 200);
  CHECK(client.get("/v1/health/node/test-agent").header("X-Consul-Index") == index);
}

TEST_CASE("an update wakes a query held on the agent's node") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  raw_client watcher(server.port());
  watcher.send("GET", "/v1/health/node/test-agent?index=11&wait=30s");
  REQUIRE(server.wait_for_held_queries(1, 5s));
  REQUIRE(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"warning","Output":"slow"})").status == 200);
  const auto woken = watcher.read();
  REQUIRE(woken);
  CHECK(woken->header("X-Consul-Index") == "12");
  CHECK(woken->body == "[" + entry("warning", "slow", 11, 12) + "]");
}

TEST_CASE("updates and deregistrations of unknown checks are 404 with Consul's text") {
  consul_test_server server;
  raw_client client(server.port());
  auto r = put(client, "/v1/agent/check/update/nope", R"({"Status":"passing"})");
  CHECK(r.status == 404);
  CHECK(r.body == R"(Unknown check ID "nope". Ensure that the check ID is passed, not the check name.)");
  r = put(client, "/v1/agent/check/deregister/nope", "");
  CHECK(r.status == 404);
  CHECK(r.body == R"(Unknown check ID "nope". Ensure that the check ID is passed, not the check name.)");
}

TEST_CASE("a catalog check the agent did not register is unknown to the agent") {
  consul_test_server server;
  server.set_check({"test-agent", "web:alias", "web alias", status::passing, "", "", "", "", ""}, "ttl");
  raw_client client(server.port());
  CHECK(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})").status == 404);
}

TEST_CASE("updating a check that is not a TTL check is 500 with Consul's text") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", R"({"ID":"a1","Name":"a1","AliasNode":"db-7"})").status == 200);
  REQUIRE(put(client, "/v1/agent/check/register",
              R"({"ID":"h1","Name":"h1","HTTP":"http://x/","Interval":"10s"})").status == 200);
  auto r = put(client, "/v1/agent/check/update/a1", R"({"Status":"passing"})");
  CHECK(r.status == 500);
  CHECK(r.body == R"(CheckID "a1" does not have associated TTL)");
  CHECK(put(client, "/v1/agent/check/update/h1", R"({"Status":"passing"})").body ==
        R"(CheckID "h1" does not have associated TTL)");
  const auto checks = server.agent_checks();
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].type == "alias");
  CHECK(checks[1].type == "http");
}

TEST_CASE("registration errors are Consul's, in Consul's order") {
  consul_test_server server;
  raw_client client(server.port());
  auto expect = [&](std::string_view body, int status, std::string_view text) {
    const auto r = put(client, "/v1/agent/check/register", body);
    CHECK(r.status == status);
    CHECK(r.body == text);
  };
  expect("", 400, "Request decode failed: EOF");
  expect(R"({"ID":"x","TTL":"30s"})", 400, "Missing check name");
  expect(R"({"Name":"x","TTL":"30s","Status":"ok"})", 400, "Bad check status");
  expect(R"({"Name":"x"})", 400, "Invalid check: TTL must be > 0 for TTL checks");
  expect(R"({"Name":"x","TTL":"30s","Interval":"10s"})", 400, "Invalid check: Interval and TTL cannot both be specified");
  expect(R"({"Name":"x","AliasNode":"n","TTL":"30s"})", 400, "Invalid check: TTL must be not be set for Alias checks");
  expect(R"({"Name":"x","TTL":"soon"})", 400, R"(Request decode failed: time: invalid duration "soon")");
  expect(R"({"Name":5,"TTL":"30s"})", 400,
         "Request decode failed: json: cannot unmarshal non-string into Go struct field CheckDefinition.Name of type string");
  expect(R"({"Name":"x","TTL":"30s","ServiceID":"web"})", 404, R"(ServiceID "web" does not exist)");
  CHECK(server.agent_checks().empty());
  CHECK(server.checks("test-agent").empty());
}

TEST_CASE("a check of a registered service carries the service in the catalog") {
  consul_test_server server;
  raw_client client(server.port());
  CHECK(put(client, "/v1/agent/service/register", R"({"Name":"web"})").status == 200);
  CHECK(put(client, "/v1/agent/service/register", R"({"ID":"x"})").body == "Missing service name");
  REQUIRE(put(client, "/v1/agent/check/register", R"({"Name":"web alias","ServiceID":"web","TTL":"10s"})").status == 200);
  const auto checks = server.checks("test-agent");
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].check_id == "web alias");  // no ID: the name, as Consul does
  CHECK(checks[0].service_id == "web");
  CHECK(checks[0].service_name == "web");
}

TEST_CASE("update errors: bad status, and the wrong method") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  auto r = put(client, "/v1/agent/check/update/web:alias", R"({"Status":"ok"})");
  CHECK(r.status == 400);
  CHECK(r.body == "Invalid check status: 'ok'");
  r = client.get("/v1/agent/check/update/web:alias");
  CHECK(r.status == 405);
  CHECK(r.body == "method GET not allowed");
  CHECK(r.header("Allow") == "PUT");
}

TEST_CASE("an output over 4,096 bytes is cut there with Consul's note") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  const std::string output(5000, 'x');
  REQUIRE(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing","Output":")" + output + "\"}").status == 200);
  CHECK(server.agent_checks()[0].output == std::string(4096, 'x') + " ... (captured 4096 of 5000 bytes)");
  CHECK(server.checks("test-agent")[0].output == std::string(4096, 'x') + " ... (captured 4096 of 5000 bytes)");
  REQUIRE(put(client, "/v1/agent/check/update/web:alias",
              R"({"Status":"passing","Output":")" + std::string(4096, 'y') + "\"}").status == 200);
  CHECK(server.agent_checks()[0].output == std::string(4096, 'y'));
}

TEST_CASE("a TTL check without updates expires with Consul's output, on the agent's clock") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  server.advance_agent_clock(29s);
  CHECK(server.agent_checks()[0].output.empty());
  server.advance_agent_clock(1s);
  CHECK(server.agent_checks()[0].status == status::critical);
  CHECK(server.agent_checks()[0].output == "TTL expired");
  CHECK(server.checks("test-agent")[0].output == "TTL expired");

  REQUIRE(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing","Output":"fine"})").status == 200);
  server.advance_agent_clock(20s);
  CHECK(server.agent_checks()[0].status == status::passing);  // the update renewed the TTL
  server.advance_agent_clock(10s);
  CHECK(server.agent_checks()[0].status == status::critical);
  CHECK(server.agent_checks()[0].output == "TTL expired (last output before timeout follows): fine");
}

TEST_CASE("a short TTL expires in real time and wakes the node's held query") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", R"({"ID":"c","Name":"c","TTL":"50ms","Status":"passing"})").status == 200);
  raw_client watcher(server.port());
  watcher.send("GET", "/v1/health/node/test-agent?index=11&wait=20s");  // returns when the check changes
  const auto woken = watcher.read();
  REQUIRE(woken);
  CHECK(woken->body.find(R"("Status":"critical","Notes":"","Output":"TTL expired")") != std::string::npos);
}

TEST_CASE("deregistration removes the check from the agent and the catalog") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  CHECK(put(client, "/v1/agent/check/deregister/web:alias", "").status == 200);
  CHECK(server.agent_checks().empty());
  CHECK(node_body(client) == "[]");
}

TEST_CASE("an agent restart forgets its checks and services; updates are then 404") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/service/register", R"({"ID":"web","Name":"web"})").status == 200);
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  server.restart_agent();
  CHECK(server.agent_checks().empty());
  CHECK(node_body(client) == "[]");
  CHECK(client.get("/v1/catalog/node/test-agent").body.find("\"Services\":{}") != std::string::npos);
  CHECK(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})").status == 404);
  CHECK(put(client, "/v1/agent/check/register", R"({"Name":"x","TTL":"1s","ServiceID":"web"})").status == 404);
}

TEST_CASE("under ACLs every agent endpoint wants the token") {
  server_options o;
  o.acl_token = "s3cr3t";
  consul_test_server server(o);
  raw_client client(server.port());
  CHECK(client.get("/v1/agent/self").status == 403);
  CHECK(client.get("/v1/agent/self").body == "ACL not found");
  CHECK(put(client, "/v1/agent/service/register", R"({"Name":"web"})").status == 403);
  auto r = put(client, "/v1/agent/check/register", ttl_check, {{"X-Consul-Token", "wrong"}});
  CHECK(r.status == 403);
  CHECK(r.body == "ACL not found");
  CHECK(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})").status == 403);
  CHECK(put(client, "/v1/agent/check/deregister/web:alias", "").status == 403);
  CHECK(server.agent_checks().empty());

  const header_pairs token{{"X-Consul-Token", "s3cr3t"}};
  CHECK(client.get("/v1/agent/self", token).status == 200);
  CHECK(put(client, "/v1/agent/check/register", ttl_check, token).status == 200);
  CHECK(put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})", token).status == 200);
  CHECK(put(client, "/v1/agent/check/deregister/web:alias", "", token).status == 200);
}

TEST_CASE("faults hit agent PUTs before they change anything") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);

  server.inject(fault::with_status(500, "rpc error").on_path("/v1/agent/check/update/"));
  auto r = put(client, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})");
  CHECK(r.status == 500);
  CHECK(r.body == "rpc error");
  CHECK(server.agent_checks()[0].status == status::critical);

  server.inject(fault::drop_connection().on_path("/v1/agent/check/update/"));
  client.send_raw("PUT /v1/agent/check/update/web:alias HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
                  R"({"Status":"passing"})");
  CHECK_FALSE(client.read());
  CHECK(server.agent_checks()[0].status == status::critical);

  raw_client again(server.port());
  server.inject(fault::delayed(50ms).on_path("/v1/agent/check/update/"));
  const auto start = std::chrono::steady_clock::now();
  CHECK(put(again, "/v1/agent/check/update/web:alias", R"({"Status":"passing"})").status == 200);
  CHECK(ms_since(start) >= 50);
  CHECK(server.agent_checks()[0].status == status::passing);
}

TEST_CASE("the agent request log keeps bodies and statuses; writes are counted") {
  consul_test_server server;
  raw_client client(server.port());
  REQUIRE(put(client, "/v1/agent/check/register", ttl_check).status == 200);
  REQUIRE(put(client, "/v1/agent/check/update/nope", R"({"Status":"passing"})").status == 404);
  client.get("/v1/agent/self");
  const auto log = server.agent_requests();
  REQUIRE(log.size() == 3);
  CHECK(log[0].method == "PUT");
  CHECK(log[0].path == "/v1/agent/check/register");
  CHECK(log[0].body == ttl_check);
  CHECK(log[0].status == 200);
  CHECK(log[1].path == "/v1/agent/check/update/nope");
  CHECK(log[1].status == 404);
  CHECK(log[2].method == "GET");
  CHECK(server.agent_writes() == 2);
}
