// coalias-watch end to end: the built binary as a subprocess against an in-process Consul test server.
#include <coalias/testing/consul_test_server.hpp>

#include "child_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#ifndef COALIAS_WATCH
#error "COALIAS_WATCH must name the coalias-watch binary"
#endif

using namespace coalias;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using testing::consul_test_server;

using coalias::test::closed_port;
using coalias::test::lines_of;

namespace {

// One run of coalias-watch.
class watch_process : public coalias::test::child_process {
 public:
  watch_process(std::vector<std::string> args, std::vector<std::string> env)
      : child_process(COALIAS_WATCH, std::move(args), std::move(env)) {}
};

health_check check(std::string node, std::string id, status s, std::string service, std::string output,
                   std::string name) {
  health_check c;
  c.node = std::move(node);
  c.check_id = std::move(id);
  c.status = s;
  c.service_id = std::move(service);
  c.service_name = c.service_id.empty() ? "" : "postgres";
  c.output = std::move(output);
  c.name = std::move(name);
  return c;
}

// Node db-1 with service pg-1 (check "pg port") and serfHealth, as in the remote tests.
struct cli_fixture {
  consul_test_server server;

  cli_fixture() : cli_fixture(testing::server_options()) {}
  explicit cli_fixture(testing::server_options o) : server(std::move(o)) {
    server.add_node("db-1");
    server.add_service("db-1", {"pg-1", "postgres"});
    server.set_check(check("db-1", "serfHealth", status::passing, "", "Agent alive and reachable", "Serf Health Status"));
    server.set_check(check("db-1", "service:pg-1", status::passing, "pg-1", "accepting connections", "pg port"));
  }

  std::vector<std::string> env() const { return {"CONSUL_HTTP_ADDR=" + server.address()}; }
  /// For runs whose exit is timed: under ASan, LeakSanitizer's exit scan alone takes about 60 ms (the untimed
  /// runs, and the sanitizer CI step, check the same exit paths for leaks).
  std::vector<std::string> timed_env() const {
    auto e = env();
    e.push_back("ASAN_OPTIONS=detect_leaks=0");
    return e;
  }
  std::string index() const { return std::to_string(server.indexes().checks); }
};

}  // namespace

TEST_CASE_METHOD(cli_fixture, "--once prints the first evaluation and exits 0 / 1 / 2") {
  SECTION("passing") {
    watch_process p({"--node", "db-1", "--service", "pg-1", "--once"}, env());
    REQUIRE(p.wait() == 0);
    CHECK(p.rest_of_stdout() == "passing   All checks passing.  (index " + index() + ")\n");
    CHECK(p.all_stderr().empty());
  }
  SECTION("warning") {
    server.update_check_status("db-1", "serfHealth", status::warning, "flaky");
    watch_process p({"--node", "db-1", "--service", "pg-1", "--once"}, env());
    REQUIRE(p.wait() == 1);
    CHECK(p.rest_of_stdout() ==
          "warning   Aliased check \"Serf Health Status\" failing: flaky  (index " + index() + ")\n");
  }
  SECTION("critical") {
    server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
    watch_process p({"--node", "db-1", "--service", "pg-1", "--once"}, env());
    REQUIRE(p.wait() == 2);
    CHECK(p.rest_of_stdout() ==
          "critical  Aliased check \"pg port\" failing: connection refused  (index " + index() + ")\n");
  }
  SECTION("a node alias counts the node's own checks only, as Consul's does") {
    server.update_check_status("db-1", "service:pg-1", status::critical, "down");
    server.update_check_status("db-1", "serfHealth", status::warning, "slow");
    watch_process p({"--node", "db-1", "--once"}, env());
    REQUIRE(p.wait() == 1);
    CHECK(p.rest_of_stdout() == "warning   Aliased check \"Serf Health Status\" failing: slow  (index " + index() + ")\n");
  }
  SECTION("a missing service") {
    watch_process p({"--node", "db-1", "--service", "nope", "--once"}, env());
    REQUIRE(p.wait() == 2);
    CHECK(p.rest_of_stdout().rfind("critical  Service nope could not be found on node db-1  (index ", 0) == 0);
  }
}

TEST_CASE_METHOD(cli_fixture, "--json --once prints one escaped JSON object") {
  server.update_check_status("db-1", "service:pg-1", status::critical, "refused \"hard\"\n\tretry\x01");
  watch_process p({"--node", "db-1", "--service", "pg-1", "--json", "--once"}, env());
  REQUIRE(p.wait() == 2);
  CHECK(p.rest_of_stdout() ==
        R"({"node":"db-1","service":"pg-1","status":"critical","output":"Aliased check \"pg port\" failing: refused \"hard\"\n\tretry\u0001","index":)" +
            index() + "}\n");
  CHECK(p.all_stderr().empty());
}

TEST_CASE_METHOD(cli_fixture, "streaming: one line per change, then SIGTERM exits 0") {
  watch_process p({"--node", "db-1", "--service", "pg-1"}, env());
  CHECK(p.read_line() == "passing   All checks passing.  (index " + index() + ")");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
  CHECK(p.read_line() == "critical  Aliased check \"pg port\" failing: connection refused  (index " + index() + ")");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  // A change that leaves status and output alone prints nothing; the next real one does.
  server.update_check_status("db-1", "serfHealth", status::passing, "Agent alive and reachable");
  server.set_check(check("db-1", "other", status::passing, "", "", "other"));
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "service:pg-1", status::passing, "ok");
  CHECK(p.read_line() == "passing   All checks passing.  (index " + index() + ")");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(p.rest_of_stdout().empty());
  CHECK(p.all_stderr().empty());
}

TEST_CASE_METHOD(cli_fixture, "--json streaming follows changes") {
  watch_process p({"--node", "db-1", "--json"}, env());
  CHECK(p.read_line() ==
        R"({"node":"db-1","service":"","status":"passing","output":"All checks passing.","index":)" + index() + "}");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "serfHealth", status::critical, "Agent not live or unreachable");
  CHECK(p.read_line() ==
        R"({"node":"db-1","service":"","status":"critical","output":"Aliased check \"Serf Health Status\" failing: Agent not live or unreachable","index":)" +
            index() + "}");
  const auto [st, took] = p.signal_and_wait(SIGINT);
  CHECK(st == 0);
}

TEST_CASE_METHOD(cli_fixture, "SIGTERM and SIGINT end a blocking request in flight within 100 ms, exit 0") {
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    watch_process p({"--node", "db-1", "--service", "pg-1"}, timed_env());
    REQUIRE(p.read_line().has_value());
    REQUIRE(server.wait_for_held_queries(1, 10s));
    const auto [st, took] = p.signal_and_wait(sig);
    CHECK(st == 0);
    CHECK(took < 100ms);
    WARN("exit took " << took.count() << " ms");  // shown with -s
    CHECK(server.wait_for_held_queries(0, 5s));   // the held query was abandoned, not left behind
  }
}

TEST_CASE("SIGTERM during start-up, before any answer, exits 0") {
  testing::server_options o;
  cli_fixture f(o);
  f.server.inject(testing::fault::delayed(10s).on_path("/v1/health/node"));
  watch_process p({"--node", "db-1"}, f.timed_env());
  REQUIRE(f.server.wait_for_open_connections(1, 10s));
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(took < 100ms);
  CHECK(p.rest_of_stdout().empty());
}

TEST_CASE("usage errors exit 64 with one line on stderr and nothing on stdout") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "coalias-watch: missing --node (see --help)\n"},
      {{"--node", "n", "--frobnicate"}, "coalias-watch: unknown option \"--frobnicate\"\n"},
      {{"--node"}, "coalias-watch: --node: missing value\n"},
      {{"--node", ""}, "coalias-watch: --node: empty value\n"},
      {{"--node", "n", "--wait", "10"}, "coalias-watch: --wait: invalid duration \"10\"\n"},
      {{"--node", "n", "--addr", "ftp://x"}, ""},  // message from consul_address::parse, checked for shape below
      {{"--demo", "--once"}, "coalias-watch: --demo cannot be combined with other options\n"},
  };
  for (const auto& [args, expected] : cases) {
    watch_process p(args, {});
    REQUIRE(p.wait() == 64);
    const auto err = p.all_stderr();
    INFO(err);
    if (!expected.empty()) CHECK(err == expected);
    CHECK(err.rfind("coalias-watch: ", 0) == 0);
    CHECK(lines_of(err).size() == 1);
    CHECK(err.back() == '\n');
    CHECK(p.rest_of_stdout().empty());
  }
}

TEST_CASE("a bad CONSUL_* environment is a usage error too") {
  watch_process p({"--node", "n"}, {"CONSUL_CLIENT_CERT=/tmp/c.pem"});
  REQUIRE(p.wait() == 64);
  CHECK(p.all_stderr() == "coalias-watch: environment: CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY\n");
  CHECK(p.rest_of_stdout().empty());
}

TEST_CASE("--help prints the usage on stdout and exits 0") {
  watch_process p({"--help"}, {});
  REQUIRE(p.wait() == 0);
  const auto out = p.rest_of_stdout();
  CHECK(out.rfind("usage: coalias-watch --node NODE", 0) == 0);
  CHECK(out.find("--demo") != std::string::npos);
  CHECK(p.all_stderr().empty());
}

TEST_CASE("a Consul that is down shows the alias critical, not an error") {
  watch_process p({"--node", "db-1", "--service", "pg-1", "--once", "--addr",
                   "127.0.0.1:" + std::to_string(closed_port())},
                  {});
  REQUIRE(p.wait() == 2);
  const auto out = p.rest_of_stdout();
  INFO(out);
  CHECK(out.rfind("critical  Failure checking aliased node or service: ", 0) == 0);
  CHECK(out.find("  (index 0)\n") != std::string::npos);
  CHECK(lines_of(out).size() == 1);
  CHECK(p.all_stderr().empty());
}

TEST_CASE("--dc is sent on every request") {
  cli_fixture f;
  SECTION("the server's datacenter") {
    watch_process p({"--node", "db-1", "--dc", "dc1", "--once"}, f.env());
    REQUIRE(p.wait() == 0);
    const auto reqs = f.server.recent_requests();
    REQUIRE_FALSE(reqs.empty());
    for (const auto& r : reqs) CHECK(r.target.find("dc=dc1") != std::string::npos);
  }
  SECTION("an unknown datacenter: the server's 500 turns the alias critical") {
    watch_process p({"--node", "db-1", "--dc", "nowhere", "--once"}, f.env());
    REQUIRE(p.wait() == 2);
    CHECK(p.rest_of_stdout().rfind("critical  Failure checking aliased node or service: ", 0) == 0);
  }
}

TEST_CASE("the token is sent as X-Consul-Token and never printed or put in a URL") {
  const std::string secret = "b3f1c2a4-7e9d-4c21-9a55-0d1e2f3a4b5c";
  testing::server_options o;
  o.acl_token = secret;
  cli_fixture f(o);
  auto check_secrecy = [&](watch_process& p, const std::string& out) {
    const auto err = p.all_stderr();
    CHECK(out.find(secret) == std::string::npos);
    CHECK(err.find(secret) == std::string::npos);
    for (const auto& r : f.server.recent_requests()) {
      CHECK(r.target.find(secret) == std::string::npos);
      CHECK(r.header("X-Consul-Token") == secret);
    }
  };
  SECTION("from --token") {
    watch_process p({"--node", "db-1", "--service", "pg-1", "--once", "--token", secret}, f.env());
    REQUIRE(p.wait() == 0);
    const auto out = p.rest_of_stdout();
    CHECK(out.rfind("passing   All checks passing.", 0) == 0);
    check_secrecy(p, out);
  }
  SECTION("from CONSUL_HTTP_TOKEN, with --json") {
    auto env = f.env();
    env.push_back("CONSUL_HTTP_TOKEN=" + secret);
    watch_process p({"--node", "db-1", "--json", "--once"}, env);
    REQUIRE(p.wait() == 0);
    check_secrecy(p, p.rest_of_stdout());
  }
  SECTION("a wrong token: critical, and neither token printed") {
    auto env = f.env();
    env.push_back("CONSUL_HTTP_TOKEN=" + secret);
    const std::string wrong = "wrong-" + secret;
    watch_process p({"--node", "db-1", "--once", "--token", wrong}, env);
    REQUIRE(p.wait() == 2);
    const auto out = p.rest_of_stdout();
    CHECK(out.rfind("critical  Failure checking aliased node or service: ", 0) == 0);
    CHECK(out.find(wrong) == std::string::npos);
    CHECK(out.find(secret) == std::string::npos);
    CHECK(p.all_stderr().find(secret) == std::string::npos);
  }
  SECTION("usage errors do not echo it") {
    watch_process p({"--token", secret, "--node", "n", "--wait", "x"}, {});
    REQUIRE(p.wait() == 64);
    CHECK(p.all_stderr().find(secret) == std::string::npos);
    watch_process q({"--tokn=" + secret}, {});
    REQUIRE(q.wait() == 64);
    CHECK(q.all_stderr() == "coalias-watch: unknown option \"--tokn\"\n");
  }
}

TEST_CASE("--demo runs one round of flaps and exits 0") {
  watch_process p({"--demo"}, {});
  REQUIRE(p.wait(60s) == 0);
  const auto out = p.rest_of_stdout();
  INFO(out);
  CHECK(p.all_stderr().empty());
  std::vector<std::string> transitions;
  for (const auto& l : lines_of(out))
    if (!l.empty() && l[0] != '#') transitions.push_back(l.substr(0, l.find("  (index ")));
  const std::vector<std::string> expected = {
      "passing   All checks passing.",
      "warning   Aliased check \"web HTTP health\" failing: HTTP GET /health: 429 Too Many Requests",
      "critical  Aliased check \"web HTTP health\" failing: HTTP GET /health: 503 Service Unavailable",
      "passing   All checks passing.",
      "critical  Aliased check \"Service Maintenance Mode\" failing: Maintenance mode is enabled for this service",
      "passing   All checks passing.",
      "critical  Aliased check \"Serf Health Status\" failing: Agent not live or unreachable",
      "passing   All checks passing.",
  };
  CHECK(transitions == expected);
  CHECK(lines_of(out).back() == "# demo done");
}

TEST_CASE("--demo ends early on SIGINT, exit 0") {
  // Timed: without LeakSanitizer's exit scan under ASan (see cli_fixture::timed_env).
  watch_process p({"--demo"}, {"ASAN_OPTIONS=detect_leaks=0"});
  REQUIRE(p.read_line().has_value());  // the header
  REQUIRE(p.read_line().has_value());  // the first evaluation
  const auto [st, took] = p.signal_and_wait(SIGINT);
  CHECK(st == 0);
  CHECK(took < 100ms);
}
