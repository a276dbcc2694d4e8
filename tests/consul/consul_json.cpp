#include <coalias/consul_json.hpp>

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <string>

// Counts every allocation in this program so a test can show that steady-state parsing makes none. Not under
// Not under a sanitizer: ASan's and TSan's runtimes define operator new themselves (ASan would pair its new with
// this delete across libsimdjson; TSan's static runtime makes the definitions collide at link time).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COALIAS_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define COALIAS_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef COALIAS_COUNT_ALLOCATIONS
#define COALIAS_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<std::size_t> allocations{0};
}
#if COALIAS_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

using coalias::errc;
using coalias::health_check;
using coalias::status;

namespace {

std::string fixture(int n) {
  const std::string path = std::string(COALIAS_FIXTURES) + "/health-node-" + std::to_string(n) + ".json";
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

health_check check(std::string check_id, status st, std::string output, std::string service_id = "",
                   std::string service_name = "", std::string name = "", std::string notes = "",
                   std::string type = "") {
  health_check c;
  c.node = "node-01";
  c.check_id = std::move(check_id);
  c.name = std::move(name);
  c.status = st;
  c.notes = std::move(notes);
  c.output = std::move(output);
  c.service_id = std::move(service_id);
  c.service_name = std::move(service_name);
  c.type = std::move(type);
  return c;
}

// Parses and returns the error code with the detail text for assertions.
std::pair<std::error_code, std::string> health_error(std::string_view body, std::size_t max = coalias::default_max_body) {
  coalias::consul_json_parser p(max);
  std::vector<health_check> out;
  const auto ec = p.parse_health_node(body, out);
  return {ec, p.last_error()};
}

std::pair<std::error_code, std::string> catalog_error(std::string_view body) {
  coalias::consul_json_parser p;
  coalias::catalog_node out;
  const auto ec = p.parse_catalog_node(body, out);
  return {ec, p.last_error()};
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<health_check> {
  static std::string convert(const health_check& c) {
    return "{" + c.node + "|" + c.check_id + "|" + c.name + "|" + std::string(coalias::to_string(c.status)) + "|" +
           c.notes + "|" + c.output + "|" + c.service_id + "|" + c.service_name + "|" + c.type + "}";
  }
};
}  // namespace Catch

TEST_CASE("the fixtures parse to the exact checks they hold") {
  const auto one = coalias::parse_health_node(fixture(1));
  REQUIRE(one.size() == 1);
  CHECK(one[0] == check("service:web", status::passing,
                        "HTTP GET http://10.55.237.169:8750/health: 200 OK Output: {\"status\":\"ok\"}", "web", "web",
                        "Service 'web' check", "", "http"));

  const auto ten = coalias::parse_health_node(fixture(10));
  REQUIRE(ten.size() == 10);
  CHECK(ten[0] == check("serfHealth", status::passing, "Agent alive and reachable", "", "", "Serf Health Status"));
  CHECK(ten[1] == one[0]);
  CHECK(ten[3] == check("service:billing", status::passing, "TTL check passed by billing worker pid 17828", "billing",
                        "billing", "Service 'billing' check",
                        "Application heartbeat; the service must call /v1/agent/check/pass every 30s.", "ttl"));
  CHECK(ten[9].check_id == "service:kafka");

  CHECK(coalias::parse_health_node(fixture(100)).size() == 100);

  const auto thousand = coalias::parse_health_node(fixture(1000));
  REQUIRE(thousand.size() == 1000);
  CHECK(thousand[499] == check("service:kafka-49", status::passing, "TTL check passed by kafka worker pid 48841",
                               "kafka-49", "kafka", "Service 'kafka' check",
                               "Application heartbeat; the service must call /v1/agent/check/pass every 30s.", "ttl"));
  CHECK(thousand[999] == check("service:kafka-99", status::passing,
                               "gRPC check 10.55.237.169:8979/grpc.health.v1.Health: success", "kafka-99", "kafka",
                               "Service 'kafka' check", "", "grpc"));
  for (const auto& c : thousand) CHECK(c.node == "node-01");
}

TEST_CASE("statuses, escapes, unknown fields and missing optional fields") {
  const auto checks = coalias::parse_health_node(R"([
    {"Node":"db-7","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"",
     "Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"",
     "ExposedPort":0,"Definition":{},"CreateIndex":12,"ModifyIndex":12},
    {"Node":"db-7","CheckID":"service:pg-1","Name":"pg port","Status":"warning","Notes":"",
     "Output":"slow connect","ServiceID":"pg-1","ServiceName":"postgres","ServiceTags":["primary"],"Type":"tcp",
     "Interval":"10s","Timeout":"2s","ExposedPort":0,
     "Definition":{"TCP":"10.0.0.7:5432","Interval":"10s","Nested":{"Status":"bogus","Node":1}},
     "CreateIndex":40,"ModifyIndex":913},
    {"Status":"critical","Output":"line1\nline2 \"q\" \u00e9 \ud83d\ude00 \\ /","Unknown":[1,{"a":null},true]},
    {"ServiceTags":null,"Status":"passing","Node":"x","Node":"dup-last-wins"}
  ])");
  REQUIRE(checks.size() == 4);
  CHECK(checks[0].status == status::passing);
  CHECK(checks[1].status == status::warning);
  CHECK(checks[1].service_id == "pg-1");
  CHECK(checks[1].service_name == "postgres");
  CHECK(checks[1].node == "db-7");  // the nested Definition.Node was skipped, not read
  CHECK(checks[2].status == status::critical);
  CHECK(checks[2].output == "line1\nline2 \"q\" \xC3\xA9 \xF0\x9F\x98\x80 \\ /");
  CHECK(checks[2].node.empty());
  CHECK(checks[2].check_id.empty());
  CHECK(checks[3].node == "dup-last-wins");
  CHECK(coalias::parse_health_node("[]").empty());
  CHECK(coalias::parse_health_node(" \n[ ]\n ").empty());
}

TEST_CASE("each health error class has its code and a detail that locates it") {
  struct row {
    std::string body;
    errc code;
    const char* detail;
  };
  const row rows[] = {
      {"null", errc::unexpected_json, "not an array"},
      {"{}", errc::unexpected_json, "not an array"},
      {R"({"Node":"n"})", errc::unexpected_json, "not an array"},
      {"\"passing\"", errc::unexpected_json, "not an array"},
      {"42", errc::unexpected_json, "not an array"},
      {"[1]", errc::unexpected_json, "entry 0 is not an object"},
      {R"([{"Status":"passing"},[]])", errc::unexpected_json, "entry 1 is not an object"},
      {R"([{"Status":"passing"},{"Status":"passing","Node":7}])", errc::unexpected_json, "entry 1: \"Node\" is not a string"},
      {R"([{"Status":"passing","CheckID":null}])", errc::unexpected_json, "\"CheckID\" is not a string"},
      {R"([{"Status":"passing","Name":["x"]}])", errc::unexpected_json, "\"Name\" is not a string"},
      {R"([{"Status":"passing","Notes":{}}])", errc::unexpected_json, "\"Notes\" is not a string"},
      {R"([{"Status":"passing","Output":true}])", errc::unexpected_json, "\"Output\" is not a string"},
      {R"([{"Status":"passing","ServiceID":1.5}])", errc::unexpected_json, "\"ServiceID\" is not a string"},
      {R"([{"Status":"passing","ServiceName":false}])", errc::unexpected_json, "\"ServiceName\" is not a string"},
      {R"([{"Status":1}])", errc::unexpected_json, "\"Status\" is not a string"},
      {R"([{"Node":"n"}])", errc::unexpected_json, "entry 0: \"Status\" is missing"},
      {R"([{"Status":"passing"},{"Status":"maintenance"}])", errc::bad_status, "entry 1: \"Status\" is \"maintenance\""},
      {R"([{"Status":"Passing"}])", errc::bad_status, "not passing, warning or critical"},
      {R"([{"Status":""}])", errc::bad_status, "\"Status\" is \"\""},
      {"", errc::malformed_json, ""},
      {"   ", errc::malformed_json, ""},
      {"[", errc::malformed_json, ""},
      {R"([{"Status":"passing"})", errc::malformed_json, ""},
      {R"([{"Status":"pass)", errc::malformed_json, ""},
      {R"([{"Status":"passing",}])", errc::malformed_json, ""},
      {R"([{"Status" "passing"}])", errc::malformed_json, ""},
      {R"([{"Status":"passing"}] [])", errc::malformed_json, "trailing content"},
      {R"([{"Status":"passing"}]x)", errc::malformed_json, ""},
      {"[{\"Status\":\"passing\",\"Output\":\"\xff\"}]", errc::malformed_json, ""},
      {"[{\"Status\":\"passing\",\"Output\":\"a\x01\"}]", errc::malformed_json, ""},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    const auto [ec, detail] = health_error(r.body);
    CHECK(ec == r.code);
    CHECK_THAT(detail, Catch::Contains(r.detail));
    CHECK(detail.size() < 200);
  }
}

TEST_CASE("a truncated fixture is malformed JSON at every cut point") {
  const std::string body = fixture(10);
  coalias::consul_json_parser p;
  std::vector<health_check> out;
  for (std::size_t cut = 0; cut < body.size(); cut += 7) {
    INFO("cut at " << cut);
    const auto ec = p.parse_health_node(std::string_view(body).substr(0, cut), out);
    CHECK(ec == errc::malformed_json);
    CHECK(p.last_error().size() < 200);
  }
  CHECK_FALSE(p.parse_health_node(body, out));
  CHECK(out.size() == 10);
  CHECK(p.last_error().empty());
}

TEST_CASE("a body over the cap is refused before parsing") {
  const std::string body = fixture(10);
  const auto [ec, detail] = health_error(body, body.size() - 1);
  CHECK(ec == errc::body_too_large);
  CHECK(detail == "body is 4863 bytes, over the 4862-byte limit");
  CHECK_FALSE(health_error(body, body.size()).first);
  // The default cap is 16 MiB; the check happens before the (invalid) content is looked at.
  CHECK(health_error(std::string((16u << 20) + 1, 'x')).first == errc::body_too_large);
  coalias::consul_json_parser p;
  CHECK(p.max_body() == 16u << 20);
  p.set_max_body(3);
  std::vector<health_check> out;
  CHECK(p.parse_health_node("[ ]", out) == std::error_code{});
  CHECK(p.parse_health_node("[  ]", out) == errc::body_too_large);
}

TEST_CASE("error details never echo a large body") {
  const std::string huge_status(100000, 'z');
  const auto [ec, detail] = health_error("[{\"Status\":\"" + huge_status + "\"}]");
  CHECK(ec == errc::bad_status);
  CHECK(detail.size() < 200);
  try {
    (void)coalias::parse_health_node("[{\"Status\":\"" + huge_status + "\"}]");
    FAIL("accepted");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::bad_status);
    CHECK(std::string(e.what()).size() < 300);
  }
}

TEST_CASE("a reused parser overwrites in place and keeps string capacity") {
  coalias::consul_json_parser p;
  std::vector<health_check> out;
  const std::string big = fixture(100);
  REQUIRE_FALSE(p.parse_health_node(big, out));
  REQUIRE(out.size() == 100);
  const auto* first_output = out[0].output.data();
  const auto cap = out[0].output.capacity();
  const auto* elements = out.data();

  REQUIRE_FALSE(p.parse_health_node(big, out));
  CHECK(out.data() == elements);                // no reallocation of the vector
  CHECK(out[0].output.data() == first_output);  // nor of a string that fits
  CHECK(out[0].output.capacity() == cap);

  // Fewer entries: the tail is dropped; stale fields never leak from the previous parse.
  REQUIRE_FALSE(p.parse_health_node(R"([{"Status":"critical","CheckID":"only"}])", out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].check_id == "only");
  CHECK(out[0].node.empty());
  CHECK(out[0].output.empty());
  CHECK(out[0].status == status::critical);
  CHECK(out.data() == elements);
}

TEST_CASE("steady-state parsing allocates nothing") {
  if (!COALIAS_COUNT_ALLOCATIONS) {
    WARN("allocation counting is off in sanitizer builds");
    return;
  }
  coalias::consul_json_parser p;
  std::vector<health_check> out;
  coalias::catalog_node node;
  const std::string body = fixture(1000);
  const std::string catalog = R"({"Node":{"Node":"n"},"Services":{"web-1":{},"db-1":{}}})";
  REQUIRE_FALSE(p.parse_health_node(body, out));
  REQUIRE_FALSE(p.parse_catalog_node(catalog, node));
  const auto before = allocations.load();
  for (int i = 0; i < 5; ++i) {
    REQUIRE_FALSE(p.parse_health_node(body, out));
    REQUIRE_FALSE(p.parse_catalog_node(catalog, node));
  }
  CHECK(allocations.load() == before);
  CHECK(out.size() == 1000);
  CHECK(node.service_ids.size() == 2);
}

TEST_CASE("catalog node bodies give existence and service IDs") {
  SECTION("null body: unknown node") {
    const auto n = coalias::parse_catalog_node("null");
    CHECK_FALSE(n.found);
    CHECK(n.service_ids.empty());
  }
  SECTION("Services map keyed by service ID") {
    const auto n = coalias::parse_catalog_node(R"({"Node":{"ID":"40e4a748","Node":"db-7","Address":"10.0.0.7",
      "Datacenter":"dc1","TaggedAddresses":{"lan":"10.0.0.7"},"Meta":{},"CreateIndex":5,"ModifyIndex":5},
      "Services":{"pg-1":{"ID":"pg-1","Service":"postgres","Tags":["primary"],"Port":5432,"Weights":{"Passing":1}},
                  "web\/2":{"ID":"web/2","Service":"web","Tags":[],"Port":80}}})");
    CHECK(n.found);
    CHECK(n.service_ids == std::vector<std::string>{"pg-1", "web/2"});
  }
  SECTION("node-services list form with ID") {
    const auto n = coalias::parse_catalog_node(
        R"({"Services":[{"ID":"a","Service":"x"},{"Service":"y","ID":"b"}],"Node":{"Node":"db-7"}})");
    CHECK(n.found);
    CHECK(n.service_ids == std::vector<std::string>{"a", "b"});
  }
  SECTION("node-services form for an unknown node: Node null") {
    const auto n = coalias::parse_catalog_node(R"({"Node":null,"Services":null})");
    CHECK_FALSE(n.found);
    CHECK(n.service_ids.empty());
  }
  SECTION("a node without services") {
    const auto n = coalias::parse_catalog_node(R"({"Node":{"Node":"n"},"Services":{}})");
    CHECK(n.found);
    CHECK(n.service_ids.empty());
    CHECK(coalias::parse_catalog_node(R"({"Node":{"Node":"n"}})").found);
  }
}

TEST_CASE("a reused catalog parser drops stale IDs") {
  coalias::consul_json_parser p;
  coalias::catalog_node n;
  REQUIRE_FALSE(p.parse_catalog_node(R"({"Node":{},"Services":{"a":{},"b":{},"c":{}}})", n));
  CHECK(n.service_ids.size() == 3);
  REQUIRE_FALSE(p.parse_catalog_node(R"({"Node":{},"Services":{"z":{}}})", n));
  CHECK(n.service_ids == std::vector<std::string>{"z"});
  REQUIRE_FALSE(p.parse_catalog_node("null", n));
  CHECK_FALSE(n.found);
  CHECK(n.service_ids.empty());
}

TEST_CASE("each catalog error class has its code") {
  struct row {
    std::string body;
    errc code;
    const char* detail;
  };
  const row rows[] = {
      {"[]", errc::unexpected_json, "neither an object nor null"},
      {"\"x\"", errc::unexpected_json, "neither an object nor null"},
      {"{}", errc::unexpected_json, "\"Node\" is missing"},
      {R"({"Node":"db-7"})", errc::unexpected_json, "\"Node\" is neither"},
      {R"({"Node":{},"Services":"x"})", errc::unexpected_json, "\"Services\" is neither"},
      {R"({"Node":{},"Services":[{"Service":"x"}]})", errc::unexpected_json, "\"Services\" entry 0: \"ID\" is missing"},
      {R"({"Node":{},"Services":[{"ID":1}]})", errc::unexpected_json, "\"Services\" entry 0"},
      {R"({"Node":{},"Services":[1]})", errc::unexpected_json, "\"Services\" entry 0"},
      {"", errc::malformed_json, ""},
      {"nul", errc::malformed_json, ""},
      {"null x", errc::malformed_json, ""},
      {R"({"Node":{},"Services":{"a":{})", errc::malformed_json, ""},
      {R"({"Node":{}} {})", errc::malformed_json, "trailing"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    const auto [ec, detail] = catalog_error(r.body);
    CHECK(ec == r.code);
    CHECK_THAT(detail, Catch::Contains(r.detail));
  }
  coalias::consul_json_parser small(4);
  coalias::catalog_node n;
  CHECK(small.parse_catalog_node("null ", n) == errc::body_too_large);
}
