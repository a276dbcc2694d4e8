// The two endpoints over real sockets: exact bodies and headers, lookups, errors, keep-alive, ACLs.
#include "fixture.hpp"
#include "raw_http.hpp"

#include <catch2/catch.hpp>

using namespace coalias::testing;
using namespace coalias::testing::test;

TEST_CASE("health/node answers Consul's entries with the checks-table index") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const raw_response r = client.get("/v1/health/node/db-7");
  CHECK(r.status == 200);
  CHECK(r.reason == "OK");
  CHECK(r.body == db7_health_body);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Content-Length") == std::to_string(db7_health_body.size()));
  CHECK(r.header("X-Consul-Index") == "14");
  CHECK(r.header("X-Consul-KnownLeader") == "true");
  CHECK(r.header("X-Consul-LastContact") == "0");
  CHECK(r.header("X-Consul-Effective-Consistency") == "leader");
  CHECK(r.header_count("X-Consul-Index") == 1);
  CHECK_FALSE(r.header("Connection"));
}

TEST_CASE("catalog/node answers the node and its services with the catalog index") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  const raw_response r = client.get("/v1/catalog/node/db-7");
  CHECK(r.status == 200);
  CHECK(r.body == db7_catalog_body);
  CHECK(r.header("X-Consul-Index") == "12");
  CHECK(r.header("Content-Type") == "application/json");
}

TEST_CASE("nodes are found case-insensitively and by ID; unknown nodes are empty, not errors") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  CHECK(client.get("/v1/health/node/DB-7").body == db7_health_body);
  CHECK(client.get(std::string("/v1/health/node/") + db7_id).body == db7_health_body);
  CHECK(client.get("/v1/catalog/node/Db-7").body == db7_catalog_body);

  const raw_response unknown_health = client.get("/v1/health/node/nope");
  CHECK(unknown_health.status == 200);
  CHECK(unknown_health.body == "[]");
  CHECK(unknown_health.header("X-Consul-Index") == "14");
  const raw_response unknown_catalog = client.get("/v1/catalog/node/nope");
  CHECK(unknown_catalog.status == 200);
  CHECK(unknown_catalog.body == "null");
  CHECK(unknown_catalog.header("X-Consul-Index") == "12");
}

TEST_CASE("the node segment is percent-decoded and strings are JSON-escaped") {
  consul_test_server server;
  server.set_check({"web 1/a", "c", "quote\"d", coalias::status::critical, "n<b>", "line1\nline2\t\\", "", "", ""});
  raw_client client(server.port());
  const raw_response r = client.get("/v1/health/node/web%201%2Fa");
  CHECK(r.status == 200);
  CHECK(r.body ==
        R"([{"Node":"web 1/a","CheckID":"c","Name":"quote\"d","Status":"critical","Notes":"n\u003cb\u003e",)"
        R"("Output":"line1\nline2\t\\","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"",)"
        R"("ExposedPort":0,"Definition":{},"CreateIndex":11,"ModifyIndex":11}])");
}

TEST_CASE("one connection serves many requests, also pipelined") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  for (int i = 0; i < 3; ++i) CHECK(client.get("/v1/health/node/db-7").status == 200);
  client.send_raw(request_bytes("GET", "/v1/catalog/node/db-7") + request_bytes("GET", "/v1/health/node/db-7"));
  CHECK(client.read()->body == db7_catalog_body);
  CHECK(client.read()->body == db7_health_body);
  CHECK(server.open_connections() == 1);
  CHECK(server.peak_connections() == 1);
  CHECK(server.total_requests() == 5);
}

TEST_CASE("a request body is skipped, Connection: close and HTTP/1.0 close after the answer") {
  consul_test_server server;
  populate(server);
  SECTION("body") {
    raw_client client(server.port());
    client.send_raw("GET /v1/health/node/db-7 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(client.read()->body == db7_health_body);
    CHECK(client.get("/v1/health/node/db-7").status == 200);
  }
  SECTION("Connection: close") {
    raw_client client(server.port());
    const raw_response r = client.get("/v1/health/node/db-7", {{"Connection", "close"}});
    CHECK(r.status == 200);
    CHECK(r.header("Connection") == "close");
    CHECK(client.closed_by_peer());
  }
  SECTION("HTTP/1.0") {
    raw_client client(server.port());
    client.send_raw("GET /v1/health/node/db-7 HTTP/1.0\r\n\r\n");
    CHECK(client.read()->status == 200);
    CHECK(client.closed_by_peer());
  }
}

TEST_CASE("malformed requests get 400 and a close; oversized heads 431") {
  consul_test_server server;
  const char* bad[] = {"GARBAGE\r\n\r\n", "GET /v1/health/node/x HTTP/1.1\r\n\r\n",
                       "GET /v1/health/node/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
                       "GET /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"};
  for (const char* request : bad) {
    INFO(request);
    raw_client client(server.port());
    client.send_raw(request);
    const auto r = client.read();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->body == "400 Bad Request");
    CHECK(r->header("Connection") == "close");
    CHECK(client.closed_by_peer());
  }
  raw_client client(server.port());  // over Go's DefaultMaxHeaderBytes (1 MiB)
  client.send_raw("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1100000, 'a') + "\r\n\r\n");
  const auto r = client.read();
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(client.closed_by_peer());
}

TEST_CASE("routing and parameter errors use Consul's statuses and bodies") {
  consul_test_server server;
  populate(server);
  raw_client client(server.port());
  auto expect = [&](std::string_view target, int status, std::string_view body) {
    INFO(target);
    const raw_response r = client.get(target);
    CHECK(r.status == status);
    CHECK(r.body == body);
    CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
    CHECK_FALSE(r.header("X-Consul-Index"));
  };
  expect("/v1/kv/foo", 404, "404 page not found\n");
  expect("/v1/health/node", 404, "404 page not found\n");
  expect("/v1/health/node/", 400, "Missing node name");
  expect("/v1/catalog/node/", 400, "Missing node name");
  expect("/v1/health/node/db-7?wait=5", 400, "Invalid wait time");
  expect("/v1/health/node/db-7?wait=abc&index=x", 400, "Invalid wait time");
  expect("/v1/health/node/db-7?index=abc", 400, "Invalid index");
  expect("/v1/health/node/db-7?index=-1", 400, "Invalid index");
  expect("/v1/catalog/node/db-7?index=18446744073709551616", 400, "Invalid index");
  expect("/v1/health/node/db-7?stale&consistent", 400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  expect("/v1/health/node/db-7?dc=dc2", 500, "No path to datacenter");

  client.send("POST", "/v1/health/node/db-7");
  const auto post = client.read();
  CHECK(post->status == 405);
  CHECK(post->header("Allow") == "GET");
  CHECK(post->body == "method POST not allowed");

  // Accepted parameters.
  CHECK(client.get("/v1/health/node/db-7?dc=dc1&ns=default&partition=default").body == db7_health_body);
  CHECK(client.get("/v1/health/node/db-7?dc=DC1").status == 200);
  CHECK(client.get("/v1/health/node/db-7?stale").header("X-Consul-Effective-Consistency") == "stale");
  CHECK(client.get("/v1/health/node/db-7?index=").status == 200);
}

TEST_CASE("a configured datacenter name is the one accepted") {
  server_options options;
  options.datacenter = "east";
  consul_test_server server(options);
  server.add_node("n", "10.0.0.1", "id-1");
  raw_client client(server.port());
  CHECK(client.get("/v1/catalog/node/n?dc=east").status == 200);
  CHECK(client.get("/v1/catalog/node/n?dc=dc1").status == 500);
  CHECK(client.get("/v1/catalog/node/n").body.find(R"("Datacenter":"east")") != std::string::npos);
}

TEST_CASE("X-Consul-Index is never 0") {
  server_options options;
  options.initial_index = 0;
  consul_test_server server(options);
  raw_client client(server.port());
  CHECK(client.get("/v1/health/node/x").header("X-Consul-Index") == "1");
}

TEST_CASE("ACL mode: a missing or wrong token gets 403 ACL not found") {
  server_options options;
  options.acl_token = "s3cret";
  consul_test_server server(options);
  populate(server);
  raw_client client(server.port());
  auto expect_denied = [&](const raw_response& r) {
    CHECK(r.status == 403);
    CHECK(r.body == "ACL not found");
    CHECK_FALSE(r.header("X-Consul-Index"));
  };
  expect_denied(client.get("/v1/health/node/db-7"));
  expect_denied(client.get("/v1/health/node/db-7", {{"X-Consul-Token", "wrong"}}));
  expect_denied(client.get("/v1/catalog/node/db-7", {{"Authorization", "Bearer wrong"}}));
  expect_denied(client.get("/v1/catalog/node/db-7", {{"Authorization", "Basic s3cret"}}));
  CHECK(client.get("/v1/health/node/db-7", {{"X-Consul-Token", "s3cret"}}).body == db7_health_body);
  CHECK(client.get("/v1/health/node/db-7", {{"x-consul-token", "s3cret"}}).status == 200);
  CHECK(client.get("/v1/catalog/node/db-7", {{"Authorization", "Bearer s3cret"}}).body == db7_catalog_body);
  CHECK(client.get("/v1/catalog/node/db-7?token=s3cret").status == 200);
  // ?token= wins over the header, as in Consul.
  expect_denied(client.get("/v1/catalog/node/db-7?token=bad", {{"X-Consul-Token", "s3cret"}}));
}

TEST_CASE("state accessors reflect mutations") {
  consul_test_server server;
  populate(server);
  CHECK(server.indexes().raft == 14);
  CHECK(server.indexes().checks == 14);
  CHECK(server.indexes().catalog == 12);
  REQUIRE(server.find_node("DB-7"));
  CHECK(server.find_node("DB-7")->name == "db-7");
  CHECK(server.find_node("db-7")->address == "10.0.0.7");
  CHECK(server.checks("db-7").size() == 2);
  CHECK(server.update_check_status("db-7", "serfHealth", coalias::status::critical, "gone"));
  CHECK(server.checks("db-7")[0].status == coalias::status::critical);
  CHECK(server.remove_check("db-7", "serfHealth"));
  CHECK_FALSE(server.remove_check("db-7", "serfHealth"));
  CHECK(server.remove_service("db-7", "pg-1"));
  CHECK(server.checks("db-7").empty());
  CHECK(server.remove_node("db-7"));
  CHECK_FALSE(server.find_node("db-7"));
  CHECK(server.address() == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(server.url() == "http://" + server.address());
}
