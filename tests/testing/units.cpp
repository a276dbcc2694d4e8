// Unit tests of the server's pure parts: Go durations, JSON escaping, request-head parsing, query decoding
// and the state store's indexes and bodies.
#include "testing/cluster_state.hpp"
#include "testing/go_duration.hpp"
#include "testing/http_request.hpp"
#include "testing/json_writer.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
namespace d = coalias::testing::detail;

TEST_CASE("Go durations parse as time.ParseDuration does") {
  CHECK(d::parse_go_duration("100ms") == 100ms);
  CHECK(d::parse_go_duration("5s") == 5s);
  CHECK(d::parse_go_duration("1m") == 1min);
  CHECK(d::parse_go_duration("2h45m") == 2h + 45min);
  CHECK(d::parse_go_duration("1.5s") == 1500ms);
  CHECK(d::parse_go_duration(".5s") == 500ms);
  CHECK(d::parse_go_duration("1500us") == 1500us);
  CHECK(d::parse_go_duration("1500\xC2\xB5s") == 1500us);
  CHECK(d::parse_go_duration("7ns") == 7ns);
  CHECK(d::parse_go_duration("0") == 0ns);
  CHECK(d::parse_go_duration("-2s") == -2s);
  CHECK(d::parse_go_duration("+2s") == 2s);
  CHECK(d::parse_go_duration("-1.5h") == -90min);
  CHECK(d::parse_go_duration("-0") == 0ns);
  CHECK(d::parse_go_duration("+0") == 0ns);
  CHECK(d::parse_go_duration("1h2m3s4ms5us6ns") == 1h + 2min + 3s + 4ms + 5us + 6ns);
  CHECK(d::parse_go_duration("9223372036854775807ns") == std::chrono::nanoseconds::max());
  CHECK(d::parse_go_duration("-9223372036854775807ns") == -std::chrono::nanoseconds::max());
  CHECK_FALSE(d::parse_go_duration("-"));
  CHECK_FALSE(d::parse_go_duration("--2s"));  // one sign at most
  CHECK_FALSE(d::parse_go_duration("-+2s"));
  CHECK_FALSE(d::parse_go_duration("+-2s"));
  CHECK_FALSE(d::parse_go_duration("2s-"));
  CHECK_FALSE(d::parse_go_duration("9223372036854775808ns"));
  CHECK_FALSE(d::parse_go_duration(""));
  CHECK_FALSE(d::parse_go_duration("10"));     // a unit is required except for "0"
  CHECK_FALSE(d::parse_go_duration("5 s"));
  CHECK_FALSE(d::parse_go_duration("abc"));
  CHECK_FALSE(d::parse_go_duration(".s"));
  CHECK_FALSE(d::parse_go_duration("1d"));
  CHECK_FALSE(d::parse_go_duration("3000000h"));  // overflows int64 nanoseconds
}

TEST_CASE("JSON strings are escaped as Go's encoding/json does") {
  auto esc = [](std::string_view s) {
    std::string out;
    d::append_json_string(out, s);
    return out;
  };
  CHECK(esc("plain") == R"("plain")");
  CHECK(esc("a\"b\\c") == R"("a\"b\\c")");
  CHECK(esc("l1\nl2\r\t") == R"("l1\nl2\r\t")");
  CHECK(esc(std::string_view("\x01\x1f", 2)) == R"("\u0001\u001f")");
  CHECK(esc("<a&b>") == R"("\u003ca\u0026b\u003e")");
  CHECK(esc("caf\xC3\xA9 \xE2\x82\xAC") == "\"caf\xC3\xA9 \xE2\x82\xAC\"");
  CHECK(esc("\xE2\x80\xA8\xE2\x80\xA9") == R"("\u2028\u2029")");
  CHECK(esc("bad\xFFz") == R"("bad\ufffdz")");
  CHECK(esc("\xC3") == R"("\ufffd")");  // truncated sequence
}

TEST_CASE("request heads parse strictly") {
  SECTION("a normal keep-alive GET") {
    auto r = d::parse_request_head("GET /v1/health/node/a%20b?index=5&wait=1s HTTP/1.1\r\nHost: x\r\nX-Consul-Token:  t1 ");
    REQUIRE(r);
    CHECK(r->method == "GET");
    CHECK(r->target == "/v1/health/node/a%20b?index=5&wait=1s");
    CHECK(r->path == "/v1/health/node/a b");
    CHECK(r->query == "index=5&wait=1s");
    CHECK(r->keep_alive);
    CHECK(r->header("x-consul-token") == "t1");
  }
  SECTION("Connection: close and HTTP/1.0") {
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close")->keep_alive);
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.0")->keep_alive);
    CHECK(d::parse_request_head("GET / HTTP/1.0\r\nConnection: Keep-Alive")->keep_alive);
  }
  SECTION("malformed heads are rejected") {
    CHECK_FALSE(d::parse_request_head(""));
    CHECK_FALSE(d::parse_request_head("GET /"));
    CHECK_FALSE(d::parse_request_head("GET  / HTTP/1.1\r\nHost: x"));
    CHECK_FALSE(d::parse_request_head("GET x HTTP/1.1\r\nHost: x"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/2.0\r\nHost: x"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1"));  // no Host
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost x"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost : x"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\n folded"));
    CHECK_FALSE(d::parse_request_head("GET /%zz HTTP/1.1\r\nHost: x"));
    CHECK_FALSE(d::parse_request_head("GET /%4 HTTP/1.1\r\nHost: x"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2"));
    CHECK_FALSE(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"));
    CHECK_FALSE(d::parse_request_head(std::string_view("GET / HTTP/1.1\r\nHost: x\x01y", 25)));
  }
  SECTION("Content-Length is read") {
    CHECK(d::parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12")->content_length == 12);
  }
}

TEST_CASE("queries decode as url.ParseQuery does") {
  const auto q = d::parse_query("index=12&wait=5s&stale&dc=dc%31&a+b=c+d&bad=%zz&x;y=1");
  REQUIRE(q.size() == 5);
  CHECK(d::find_param(q, "index") == "12");
  CHECK(d::find_param(q, "stale") == "");
  CHECK(d::find_param(q, "dc") == "dc1");
  CHECK(d::find_param(q, "a b") == "c d");
  CHECK_FALSE(d::find_param(q, "bad"));
  CHECK_FALSE(d::find_param(q, "consistent"));
}

TEST_CASE("state indexes follow Consul's tables") {
  d::cluster_state s(10);
  CHECK(s.indexes().raft == 10);
  s.add_node("n1", "10.0.0.1", "");
  CHECK(s.indexes().raft == 11);
  CHECK(s.indexes().catalog == 11);
  CHECK(s.indexes().checks == 10);

  coalias::health_check c{"N1", "c1", "name", coalias::status::passing, "", "ok", "", "", ""};
  s.set_check(c, "ttl");
  CHECK(s.indexes().checks == 12);
  CHECK(s.indexes().catalog == 11);  // node exists (case-insensitively): catalog unchanged

  s.set_check(c, "ttl");  // identical: raft moves, tables do not
  CHECK(s.indexes().raft == 13);
  CHECK(s.indexes().checks == 12);
  CHECK(s.update_check_status("n1", "c1", coalias::status::passing, "ok"));
  CHECK(s.indexes().checks == 12);
  CHECK(s.update_check_status("N1", "c1", coalias::status::critical, "down"));
  CHECK(s.indexes().checks == 15);
  CHECK_FALSE(s.update_check_status("n1", "nope", coalias::status::critical, ""));
  CHECK_FALSE(s.update_check_status("n9", "c1", coalias::status::critical, ""));

  CHECK(s.checks("n1").at(0).node == "n1");  // stored under the node's registered name
  CHECK(s.remove_node("N1"));
  CHECK(s.indexes().checks == s.indexes().raft);
  CHECK(s.indexes().catalog == s.indexes().raft);
  CHECK(s.health_node_json("n1") == "[]");
  CHECK(s.catalog_node_json("n1", "dc1") == "null");
}

TEST_CASE("removing a service removes its checks") {
  d::cluster_state s(1);
  s.set_check({"n", "svc-check", "s", coalias::status::passing, "", "", "web-1", "web", ""}, "");
  s.set_check({"n", "node-check", "n", coalias::status::passing, "", "", "", "", ""}, "");
  REQUIRE(s.checks("n").size() == 2);
  CHECK(s.remove_service("n", "web-1"));
  REQUIRE(s.checks("n").size() == 1);
  CHECK(s.checks("n")[0].check_id == "node-check");
  CHECK_FALSE(s.remove_service("n", "web-1"));
}
