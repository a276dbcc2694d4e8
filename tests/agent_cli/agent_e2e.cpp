// coalias-agent end to end: the built binary as a subprocess against an in-process Consul test server, one test
// per bullet of the contract (issue 9), plus SIGHUP reload and the exit paths.
#include <coalias/testing/consul_test_server.hpp>

#include "child_process.hpp"
#include "remote_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#ifndef COALIAS_AGENT
#error "COALIAS_AGENT must name the coalias-agent binary"
#endif

using namespace coalias;
using namespace std::chrono_literals;
using coalias::test::closed_port;
using coalias::test::lines_of;
using coalias::test::remote_check;
using testing::consul_test_server;
namespace fs = std::filesystem;

namespace {

class agent_process : public coalias::test::child_process {
 public:
  agent_process(std::vector<std::string> args, std::vector<std::string> env)
      : child_process(COALIAS_AGENT, std::move(args), std::move(env)) {}

  /// The next stderr line that is not a status line of another check... simply the next line.
  std::string next_err(std::chrono::milliseconds timeout = 10s) { return read_err_line(timeout).value_or("(none)"); }
};

// A fresh folder for check-definition files, removed at the end.
struct config_dir {
  fs::path path;
  config_dir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("coalias-agent-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~config_dir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    // Written aside and renamed: a reload never reads half a file.
    const auto tmp = path / (name + ".tmp");
    std::ofstream(tmp) << text;
    fs::rename(tmp, path / name);
    return (path / name).string();
  }
};

// db-1 with pg-1 ("pg port") and serfHealth; db-2 with pg-2 critical.
struct agent_fixture {
  consul_test_server server;
  config_dir dir;

  agent_fixture() : agent_fixture(testing::server_options()) {}
  explicit agent_fixture(testing::server_options o) : server(std::move(o)) {
    server.add_node("db-1");
    server.add_service("db-1", {"pg-1", "postgres"});
    server.set_check(remote_check("db-1", "serfHealth", status::passing, "", "Agent alive and reachable", "Serf Health Status"));
    server.set_check(remote_check("db-1", "service:pg-1", status::passing, "pg-1", "accepting connections", "pg port"));
    server.add_node("db-2");
    server.add_service("db-2", {"pg-2", "postgres"});
    server.set_check(remote_check("db-2", "service:pg-2", status::critical, "pg-2", "connection refused", "pg port"));
  }

  std::vector<std::string> env() const { return {"CONSUL_HTTP_ADDR=" + server.address()}; }
  /// For runs whose exit is timed: under ASan, LeakSanitizer's exit scan alone takes about 60 ms (the untimed
  /// runs, and the sanitizer CI step, check the same exit paths for leaks).
  std::vector<std::string> timed_env() const {
    auto e = env();
    e.push_back("ASAN_OPTIONS=detect_leaks=0");
    return e;
  }
};

const std::string pg1_alias = R"({"check": {"id": "pg-alias", "alias_node": "db-1", "alias_service": "pg-1"}})";

// Node aliases c0 .. c<n-1>, alternately of db-1 and db-2.
std::string many_checks(int n) {
  std::string checks;
  for (int i = 0; i < n; ++i)
    checks += std::string(i ? "," : "") + R"({"id": "c)" + std::to_string(i) + R"(", "alias_node": "db-)" +
              std::to_string(1 + i % 2) + "\"}";
  return R"({"checks": [)" + checks + "]}";
}

}  // namespace

TEST_CASE_METHOD(agent_fixture, "runs a check file: start line, then one line per status change") {
  const auto file = dir.write("pg.json", pg1_alias);
  agent_process p({"--config", file, "--no-publish"}, env());
  CHECK(p.next_err() == "start: 1 check, not publishing");
  CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
  CHECK(p.next_err() == "check \"pg-alias\": critical: Aliased check \"pg port\" failing: connection refused");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  // An output change without a status change is not an event.
  server.update_check_status("db-1", "service:pg-1", status::critical, "timeout");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "service:pg-1", status::warning, "slow");
  CHECK(p.next_err() == "check \"pg-alias\": warning: Aliased check \"pg port\" failing: slow");
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(p.all_stderr().empty());
  CHECK(p.rest_of_stdout().empty());
}

TEST_CASE_METHOD(agent_fixture, "a directory's *.json files in name order, both key spellings") {
  dir.write("b.json", R"({"check": {"ID": "b", "AliasNode": "db-2", "AliasService": "pg-2"}})");
  dir.write("a.json", R"({"checks": [{"id": "a", "alias_node": "db-1"}]})");
  dir.write("readme.txt", "not a check");
  agent_process p({"--config", dir.path.string(), "--no-publish"}, env());
  CHECK(p.next_err() == "start: 2 checks, not publishing");
  // Each check's first result comes with its own query's answer, so the two lines come in either order.
  std::set<std::string> first = {p.next_err(), p.next_err()};
  CHECK(first == std::set<std::string>{"check \"a\": passing: All checks passing.",
                                       "check \"b\": critical: Aliased check \"pg port\" failing: connection refused"});
  CHECK(p.signal_and_wait(SIGINT).first == 0);
}

TEST_CASE("usage and configuration errors exit 64 with one line naming the option, file or key") {
  config_dir dir;
  const auto good = dir.write("good.json", pg1_alias);
  const auto http = dir.write("http.json", R"({"check": {"id": "web", "http": "http://localhost/health", "interval": "10s"}})");
  const auto unknown = dir.write("unknown.json", R"({"check": {"id": "web", "alias_node": "n", "colour": "blue"}})");
  const auto typed = dir.write("typed.json", R"({"check": {"id": "web", "alias_node": 3}})");
  const auto dup = dir.write("dup.json", R"({"check": {"ID": "pg-alias", "AliasNode": "n"}})");
  const auto broken = dir.write("broken.json", R"({"check": )");
  const auto empty = dir.write("empty.json", R"({"checks": []})");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "coalias-agent: missing --config (see --help)"},
      {{"--config"}, "coalias-agent: --config: missing value"},
      {{"--config", good, "--frobnicate"}, "coalias-agent: unknown option \"--frobnicate\""},
      {{"--config", good, "--ttl", "30"}, "coalias-agent: --ttl: invalid duration \"30\""},
      {{"--config", good, "--ttl", "0s"}, "coalias-agent: --ttl: must be positive, got \"0s\""},
      {{"--config", good, "--listen", "8080"}, "coalias-agent: --listen: expected HOST:PORT, got \"8080\""},
      {{"--config", good, "--listen", "example.com:80"},
       "coalias-agent: --listen: \"example.com\" is not an IP address (IPv6 in brackets) or localhost"},
      {{"--config", good, "--listen", "127.0.0.1:70000"}, "coalias-agent: --listen: port \"70000\" is not in 0..65535"},
      {{"--config", good, "--addr", "host:99999"}, "coalias-agent: --addr: port '99999' is not in 1..65535"},
      {{"--config", good, "--no-publish=yes"}, "coalias-agent: --no-publish takes no value"},
      {{"--config", (dir.path / "missing.json").string()},
       "coalias-agent: " + (dir.path / "missing.json").string() + ": no such file or directory"},
      {{"--config", http},
       "coalias-agent: " + http + ": check \"web\": key \"http\": not an alias check (only alias_node and alias_service checks run here)"},
      {{"--config", unknown}, "coalias-agent: " + unknown + ": check \"web\": unknown key \"colour\""},
      {{"--config", typed}, "coalias-agent: " + typed + ": check \"web\": key \"alias_node\": expected a string, got a number"},
      {{"--config", good, "--config", dup},
       "coalias-agent: " + dup + ": check \"pg-alias\": key \"id\": duplicate id, first defined in " + good},
      {{"--config", broken}, "coalias-agent: " + broken + ": invalid JSON: JSON document ended early in the middle of an object or array."},
      {{"--config", empty}, "coalias-agent: --config: no check definitions found"},
  };
  for (const auto& [args, expected] : cases) {
    INFO(expected);
    agent_process p(args, {});
    REQUIRE(p.wait() == 64);
    const auto err = p.all_stderr();
    CHECK(err == expected + "\n");
    CHECK(lines_of(err).size() == 1);
    CHECK(p.rest_of_stdout().empty());
  }
}

TEST_CASE("a bad CONSUL_* environment is a usage error too") {
  config_dir dir;
  agent_process p({"--config", dir.write("pg.json", pg1_alias), "--no-publish"}, {"CONSUL_CLIENT_CERT=/tmp/c.pem"});
  REQUIRE(p.wait() == 64);
  CHECK(p.all_stderr() == "coalias-agent: environment: CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY\n");
  CHECK(p.rest_of_stdout().empty());
}

TEST_CASE("--help prints the usage on stdout and exits 0") {
  agent_process p({"--help"}, {});
  REQUIRE(p.wait() == 0);
  CHECK(p.rest_of_stdout().rfind("usage: coalias-agent --config PATH", 0) == 0);
  CHECK(p.all_stderr().empty());
}

TEST_CASE_METHOD(agent_fixture, "--addr, --token and --dc override CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN and CONSUL_DATACENTER") {
  const auto file = dir.write("pg.json", pg1_alias);
  SECTION("--addr over a CONSUL_HTTP_ADDR that points nowhere") {
    agent_process p({"--config", file, "--no-publish", "--addr", server.address()},
                    {"CONSUL_HTTP_ADDR=127.0.0.1:" + std::to_string(closed_port())});
    CHECK(p.next_err() == "start: 1 check, not publishing");
    CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
  }
  SECTION("a CONSUL_HTTP_ADDR that points nowhere, without --addr: critical") {
    agent_process p({"--config", file, "--no-publish"}, {"CONSUL_HTTP_ADDR=127.0.0.1:" + std::to_string(closed_port())});
    CHECK(p.next_err() == "start: 1 check, not publishing");
    CHECK(p.next_err().rfind("check \"pg-alias\": critical: Failure checking aliased node or service: ", 0) == 0);
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
  }
  SECTION("--dc over CONSUL_DATACENTER, on every request") {
    auto e = env();
    e.push_back("CONSUL_DATACENTER=nowhere");
    agent_process p({"--config", file, "--no-publish", "--dc", "dc1"}, e);
    CHECK(p.next_err() == "start: 1 check, not publishing");
    CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
    const auto reqs = server.recent_requests();
    REQUIRE_FALSE(reqs.empty());
    for (const auto& r : reqs) CHECK(r.target.find("dc=dc1") != std::string::npos);
  }
}

TEST_CASE("the token travels only as X-Consul-Token and never appears in any output") {
  const std::string secret = "b3f1c2a4-7e9d-4c21-9a55-0d1e2f3a4b5c";
  testing::server_options o;
  o.acl_token = secret;
  agent_fixture f(o);
  const auto file = f.dir.write("pg.json", pg1_alias);
  auto check_secrecy = [&](agent_process& p) {
    CHECK(p.rest_of_stdout().find(secret) == std::string::npos);
    CHECK(p.all_stderr().find(secret) == std::string::npos);
    for (const auto& r : f.server.recent_requests()) {
      CHECK(r.target.find(secret) == std::string::npos);
      CHECK(r.header("X-Consul-Token") == secret);
    }
  };
  SECTION("--token over a wrong CONSUL_HTTP_TOKEN") {
    auto e = f.env();
    e.push_back("CONSUL_HTTP_TOKEN=wrong");
    agent_process p({"--config", file, "--no-publish", "--token", secret}, e);
    CHECK(p.next_err() == "start: 1 check, not publishing");
    CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
    check_secrecy(p);
  }
  SECTION("from CONSUL_HTTP_TOKEN") {
    auto e = f.env();
    e.push_back("CONSUL_HTTP_TOKEN=" + secret);
    agent_process p({"--config", file, "--no-publish"}, e);
    CHECK(p.next_err() == "start: 1 check, not publishing");
    CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
    check_secrecy(p);
  }
  SECTION("a wrong token: critical, and neither token printed") {
    const std::string wrong = "wrong-" + secret;
    agent_process p({"--config", file, "--no-publish", "--token", wrong}, f.env());
    CHECK(p.next_err() == "start: 1 check, not publishing");
    const auto line = p.next_err();
    CHECK(line.rfind("check \"pg-alias\": critical: Failure checking aliased node or service: ", 0) == 0);
    CHECK(line.find(wrong) == std::string::npos);
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
    CHECK(p.all_stderr().find(secret) == std::string::npos);
  }
  SECTION("usage errors do not echo it") {
    agent_process p({"--token", secret, "--config", file, "--ttl", "x"}, {});
    REQUIRE(p.wait() == 64);
    CHECK(p.all_stderr() == "coalias-agent: --ttl: invalid duration \"x\"\n");
    agent_process q({"--tokn=" + secret}, {});
    REQUIRE(q.wait() == 64);
    CHECK(q.all_stderr() == "coalias-agent: unknown option \"--tokn\"\n");
  }
}

TEST_CASE_METHOD(agent_fixture, "SIGHUP: unchanged checks keep running, changed ones are replaced, removed ones stop") {
  const std::string keep = R"({"id": "keep", "alias_node": "db-1"})";
  const auto file = dir.write("checks.json", R"({"checks": [)" + keep + R"(,
      {"id": "change", "alias_node": "db-1", "alias_service": "pg-1"},
      {"id": "drop", "alias_node": "db-2"}]})");
  agent_process p({"--config", file, "--no-publish"}, env());
  CHECK(p.next_err() == "start: 3 checks, not publishing");
  std::vector<std::string> first = {p.next_err(), p.next_err(), p.next_err()};  // in the order they are evaluated
  std::sort(first.begin(), first.end());
  CHECK(first == std::vector<std::string>{"check \"change\": passing: All checks passing.",
                                          "check \"drop\": passing: No checks found.",
                                          "check \"keep\": passing: All checks passing."});
  REQUIRE(server.wait_for_held_queries(2, 10s));  // one per node: db-1 shared by two checks, db-2
  server.clear_request_log();

  dir.write("checks.json", R"({"checks": [)" + keep + R"(,
      {"id": "change", "alias_node": "db-2", "alias_service": "pg-2"},
      {"id": "new", "alias_node": "db-2", "alias_service": "pg-2"}]})");
  p.signal(SIGHUP);
  CHECK(p.next_err() == "reload: 1 added, 1 changed, 1 removed, 1 unchanged");
  // The changed check now follows db-2's critical pg-2 (its old task ended before the new one started).
  std::vector<std::string> after = {p.next_err(), p.next_err()};
  std::sort(after.begin(), after.end());
  CHECK(after == std::vector<std::string>{
                     "check \"change\": critical: Aliased check \"pg port\" failing: connection refused",
                     "check \"new\": critical: Aliased check \"pg port\" failing: connection refused"});
  // "keep" was not restarted: no first (non-blocking) read of db-1 since the reload, only db-2's for "change".
  for (const auto& r : server.recent_requests())
    if (r.target.find("/v1/health/node/db-1") != std::string::npos) CHECK(r.target.find("index=") != std::string::npos);
  // "keep" still follows db-1, and only "keep" does: "change" moved to db-2, "drop" stopped.
  REQUIRE(server.wait_for_held_queries(2, 10s));
  server.update_check_status("db-1", "serfHealth", status::critical, "Agent not live or unreachable");
  CHECK(p.next_err() == "check \"keep\": critical: Aliased check \"Serf Health Status\" failing: Agent not live or unreachable");
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
  CHECK(p.all_stderr().empty());
}

TEST_CASE_METHOD(agent_fixture, "SIGHUP with a bad configuration: refused whole in one line, the checks go on") {
  const auto file = dir.write("pg.json", pg1_alias);
  agent_process p({"--config", file, "--no-publish"}, env());
  CHECK(p.next_err() == "start: 1 check, not publishing");
  CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
  dir.write("pg.json", R"({"checks": [{"id": "pg-alias", "alias_node": "db-1", "alias_service": "pg-1"},
      {"id": "web", "tcp": "localhost:80"}]})");
  p.signal(SIGHUP);
  CHECK(p.next_err() == "reload refused: " + file +
                            ": check \"web\": key \"tcp\": not an alias check (only alias_node and alias_service checks run here)");
  REQUIRE(server.wait_for_held_queries(1, 10s));
  server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
  CHECK(p.next_err() == "check \"pg-alias\": critical: Aliased check \"pg port\" failing: connection refused");
  SECTION("and a later good configuration is taken") {
    dir.write("pg.json", pg1_alias);
    p.signal(SIGHUP);
    CHECK(p.next_err() == "reload: 0 added, 0 changed, 0 removed, 1 unchanged");
  }
  SECTION("a file gone is refused too") {
    fs::remove(file);
    p.signal(SIGHUP);
    CHECK(p.next_err() == "reload refused: " + file + ": no such file or directory");
  }
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
}

TEST_CASE_METHOD(agent_fixture, "SIGHUP during a reload of 20,000 checks: one more reload after it; SIGTERM ends it") {
  // As the interrupted start below: no answer ever comes, so the only lines are the reloads'.
  server.inject(testing::fault::delayed(10s).on_path("/v1/health/node").persistent());
  const auto file = dir.write("checks.json", many_checks(1));
  agent_process p({"--config", file, "--no-publish"}, timed_env());
  CHECK(p.next_err() == "start: 1 check, not publishing");
  REQUIRE(server.wait_for_open_connections(1, 10s));
  dir.write("checks.json", many_checks(20000));
  p.signal(SIGHUP);
  REQUIRE(server.wait_for_open_connections(2, 10s));  // the reload is starting db-2's checks
  SECTION("a SIGHUP meanwhile reloads once more") {
    p.signal(SIGHUP);
    CHECK(p.next_err() == "reload: 19999 added, 0 changed, 0 removed, 1 unchanged");
    CHECK(p.next_err() == "reload: 0 added, 0 changed, 0 removed, 20000 unchanged");
    CHECK(p.signal_and_wait(SIGTERM).first == 0);
    CHECK(p.all_stderr().empty());
  }
  SECTION("SIGTERM ends the reload before its last check, then exits 0") {
    const auto [st, took] = p.signal_and_wait(SIGTERM);
    CHECK(st == 0);
    CHECK(p.all_stderr().empty());  // no "reload:" line
    WARN("exit took " << took.count() << " ms");
  }
}

TEST_CASE_METHOD(agent_fixture, "SIGTERM and SIGINT exit 0 within 100 ms with blocking requests in flight") {
  const auto file = dir.write("two.json", R"({"checks": [{"id": "a", "alias_node": "db-1"}, {"id": "b", "alias_node": "db-2"}]})");
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    agent_process p({"--config", file, "--no-publish"}, timed_env());
    CHECK(p.next_err() == "start: 2 checks, not publishing");
    REQUIRE(server.wait_for_held_queries(2, 10s));
    const auto [st, took] = p.signal_and_wait(sig);
    CHECK(st == 0);
    CHECK(took < 100ms);
    WARN("exit took " << took.count() << " ms");
    CHECK(server.wait_for_held_queries(0, 5s));  // the held queries were abandoned, not left behind
  }
}

TEST_CASE("SIGTERM before the first answer exits 0") {
  agent_fixture f;
  f.server.inject(testing::fault::delayed(10s).on_path("/v1/health/node"));
  agent_process p({"--config", f.dir.write("pg.json", pg1_alias), "--no-publish"}, f.timed_env());
  CHECK(p.next_err() == "start: 1 check, not publishing");
  REQUIRE(f.server.wait_for_open_connections(1, 10s));
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(took < 100ms);
}

TEST_CASE_METHOD(agent_fixture, "SIGTERM while the configuration is still being read exits 0, starting nothing") {
  const auto fifo = dir.path / "slow.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  agent_process p({"--config", fifo.string()}, env());
  // A FIFO opens for writing only once a reader has it open: the agent is then reading its configuration.
  int fd = -1;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       fd < 0 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(1ms))
    fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  REQUIRE(fd >= 0);
  p.signal(SIGTERM);
  REQUIRE(::write(fd, pg1_alias.data(), pg1_alias.size()) == static_cast<ssize_t>(pg1_alias.size()));
  ::close(fd);
  CHECK(p.wait() == 0);  // not 143: killed by the signal before its handling was installed
  CHECK(p.all_stderr().empty());
  CHECK(server.agent_checks().empty());
}

TEST_CASE_METHOD(agent_fixture, "SIGTERM during the start of 20,000 checks ends the start at once and exits 0") {
  // No answer ever comes, so no status line is written (20,000 of them would fill the stderr pipe this test reads
  // only at the end); starting the checks takes half a second or more, during which the signal lands.
  server.inject(testing::fault::delayed(10s).on_path("/v1/health/node").persistent());
  agent_process p({"--config", dir.write("many.json", many_checks(20000)), "--no-publish"}, timed_env());
  REQUIRE(server.wait_for_open_connections(2, 10s));  // both nodes queried: the first checks run, others may not
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  // No "start:" line: the signal ended the start before the last check (it used to start all 20,000 first, 0.5 s
  // more before the exit). A measure, not a bound: the exit time depends on the machine and the sanitizer.
  CHECK(p.all_stderr().empty());
  WARN("exit took " << took.count() << " ms");
}

TEST_CASE_METHOD(agent_fixture, "an empty alias_node needs the agent's node: when the agent cannot say, exit 69") {
  server.inject(testing::fault::permission_denied().on_path("/v1/agent/self"));
  const auto file = dir.write("self.json", R"({"check": {"id": "local-pg", "alias_service": "pg-1"}})");
  agent_process p({"--config", file, "--no-publish"}, env());
  REQUIRE(p.wait() == 69);
  CHECK(p.all_stderr() ==
        "coalias-agent: cannot learn the agent's node name (GET /v1/agent/self): Unexpected response code: 403 "
        "(Permission denied)\n");
  CHECK(p.rest_of_stdout().empty());
}

TEST_CASE_METHOD(agent_fixture, "SIGTERM while asking the agent for its node exits 0 at once") {
  server.inject(testing::fault::delayed(10s).on_path("/v1/agent/self"));
  const auto file = dir.write("self.json", R"({"check": {"id": "local-pg", "alias_service": "pg-1"}})");
  agent_process p({"--config", file, "--no-publish"}, timed_env());
  REQUIRE(server.wait_for_open_connections(1, 10s));
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(took < 100ms);
  CHECK(p.all_stderr().empty());
}

// ---- publishing (on unless --no-publish) ----

namespace {

// Polls `done` until it holds or `timeout` passes: a bound, never a sleep that decides the result.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::optional<testing::agent_check> agent_check_of(const consul_test_server& server, std::string_view id) {
  for (auto& c : server.agent_checks())
    if (c.check_id == id) return c;
  return std::nullopt;
}

bool agent_shows(const consul_test_server& server, std::string_view id, status s, std::string_view output) {
  const auto c = agent_check_of(server, id);
  return c && c->status == s && c->output == output;
}

// One HTTP/1.1 request with Connection: close; the whole answer (status line, headers, body).
std::string http_get(std::uint16_t port, const std::string& path) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(s);
    return "(connect failed)";
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)::write(s, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (pollfd p{s, POLLIN, 0}; ::poll(&p, 1, 5000) > 0;) {
    const auto n = ::read(s, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  return out;
}

std::string body_of(const std::string& answer) {
  const auto at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

}  // namespace

TEST_CASE_METHOD(agent_fixture, "publishing: registered as a TTL check, then every status change sent at once") {
  const auto file = dir.write("pg.json", R"({"check": {"id": "pg-alias", "name": "Postgres", "notes": "mirrors pg-1",
      "alias_node": "db-1", "alias_service": "pg-1"}})");
  agent_process p({"--config", file, "--ttl", "10s"}, env());
  CHECK(p.next_err() == "start: 1 check, publishing to http://" + server.address() + " (ttl 10s)");
  CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
  REQUIRE(eventually([&] { return agent_shows(server, "pg-alias", status::passing, "All checks passing."); }));
  const auto c = agent_check_of(server, "pg-alias");
  CHECK(c->name == "Postgres");
  CHECK(c->notes == "mirrors pg-1");
  CHECK(c->type == "ttl");
  CHECK(c->ttl == 10s);
  const auto requests = server.agent_requests();
  const auto first = std::find_if(requests.begin(), requests.end(), [](const auto& r) { return r.method == "PUT"; });
  REQUIRE(first != requests.end());
  CHECK(first->path == "/v1/agent/check/register");
  CHECK(first->body.find("\"Status\":\"critical\"") != std::string::npos);

  server.update_check_status("db-1", "service:pg-1", status::critical, "connection refused");
  CHECK(p.next_err() == "check \"pg-alias\": critical: Aliased check \"pg port\" failing: connection refused");
  CHECK(eventually([&] {
    return agent_shows(server, "pg-alias", status::critical, "Aliased check \"pg port\" failing: connection refused");
  }));
  // The published check is in the agent node's health answer, so it can itself be read and aliased.
  const auto on_node = server.checks("test-agent");
  CHECK(std::any_of(on_node.begin(), on_node.end(), [](const health_check& h) { return h.check_id == "pg-alias"; }));
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
  CHECK(agent_check_of(server, "pg-alias").has_value());  // without --deregister-on-exit it stays registered
}

TEST_CASE("an empty alias_node is the agent's node, from GET /v1/agent/self") {
  testing::server_options o;
  o.agent_node = "db-1";
  agent_fixture f(o);
  const auto file = f.dir.write("local.json", R"({"check": {"id": "local-pg", "alias_service": "pg-1"}})");
  agent_process p({"--config", file}, f.env());
  CHECK(p.next_err() == "start: 1 check, publishing to http://" + f.server.address() + " (ttl 30s)");
  CHECK(p.next_err() == "check \"local-pg\": passing: All checks passing.");
  REQUIRE(eventually([&] { return agent_shows(f.server, "local-pg", status::passing, "All checks passing."); }));
  REQUIRE(f.server.wait_for_held_queries(1, 10s));
  f.server.update_check_status("db-1", "service:pg-1", status::critical, "down");
  CHECK(p.next_err() == "check \"local-pg\": critical: Aliased check \"pg port\" failing: down");
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
  const auto reqs = f.server.recent_requests();
  CHECK(std::count_if(reqs.begin(), reqs.end(), [](const auto& r) { return r.target == "/v1/agent/self"; }) == 1);
}

TEST_CASE("a node alias of the agent's own node never counts its own published check") {
  // Its published TTL check is a node-level check of db-1, first registered critical: counted, it would keep
  // the alias critical for ever. The alias's own check is known by the agent's node name from /v1/agent/self.
  testing::server_options o;
  o.agent_node = "db-1";
  agent_fixture f(o);
  const auto file = f.dir.write("node.json", R"({"check": {"id": "node-alias", "alias_node": "db-1"}})");
  agent_process p({"--config", file}, f.env());
  CHECK(p.next_err() == "start: 1 check, publishing to http://" + f.server.address() + " (ttl 30s)");
  CHECK(p.next_err() == "check \"node-alias\": passing: All checks passing.");
  REQUIRE(eventually([&] { return agent_shows(f.server, "node-alias", status::passing, "All checks passing."); }));
  REQUIRE(f.server.wait_for_held_queries(1, 10s));
  f.server.update_check_status("db-1", "serfHealth", status::critical, "Agent not live or unreachable");
  CHECK(p.next_err() == "check \"node-alias\": critical: Aliased check \"Serf Health Status\" failing: Agent not live or unreachable");
  REQUIRE(f.server.wait_for_held_queries(1, 10s));
  f.server.update_check_status("db-1", "serfHealth", status::passing, "Agent alive and reachable");
  CHECK(p.next_err() == "check \"node-alias\": passing: All checks passing.");
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
}

TEST_CASE_METHOD(agent_fixture, "the unchanged state is re-sent every ttl/3, so the TTL never expires") {
  const auto file = dir.write("pg.json", pg1_alias);
  agent_process p({"--config", file, "--ttl", "300ms"}, env());
  CHECK(p.next_err() == "start: 1 check, publishing to http://" + server.address() + " (ttl 300ms)");
  CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
  const auto updates = [&] {
    const auto reqs = server.agent_requests();
    return std::count_if(reqs.begin(), reqs.end(),
                         [](const auto& r) { return r.path == "/v1/agent/check/update/pg-alias"; });
  };
  REQUIRE(eventually([&] { return updates() >= 5; }));
  CHECK(agent_shows(server, "pg-alias", status::passing, "All checks passing."));
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
}

TEST_CASE_METHOD(agent_fixture, "publish failures: one line at the first, one at the recovery; an agent restart re-registers") {
  const auto file = dir.write("pg.json", pg1_alias);
  agent_process p({"--config", file, "--ttl", "300ms"}, env());
  CHECK(p.next_err() == "start: 1 check, publishing to http://" + server.address() + " (ttl 300ms)");
  CHECK(p.next_err() == "check \"pg-alias\": passing: All checks passing.");
  REQUIRE(eventually([&] { return agent_shows(server, "pg-alias", status::passing, "All checks passing."); }));
  server.inject(testing::fault::with_status(500, "No cluster leader").on_path("/v1/agent/check/update").times(3));
  const auto failed = p.next_err();
  CHECK(failed.rfind("check \"pg-alias\": publish failed: ", 0) == 0);
  CHECK(p.next_err() == "check \"pg-alias\": publish recovered");
  // An agent restart forgets the check: the next update's 404 is logged, and the re-registration recovers it.
  server.restart_agent();
  CHECK(p.next_err() == "check \"pg-alias\": publish failed: Unexpected response code: 404 (Unknown check ID "
                        "\"pg-alias\". Ensure that the check ID is passed, not the check name.)");
  CHECK(p.next_err() == "check \"pg-alias\": publish recovered");
  REQUIRE(eventually([&] { return agent_shows(server, "pg-alias", status::passing, "All checks passing."); }));
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
  CHECK(p.all_stderr().empty());
}

TEST_CASE_METHOD(agent_fixture, "--deregister-on-exit: SIGTERM deregisters every published check, then exits 0") {
  const auto file = dir.write("two.json", R"({"checks": [{"id": "a", "alias_node": "db-1"}, {"id": "b", "alias_node": "db-2"}]})");
  agent_process p({"--config", file, "--deregister-on-exit"}, env());
  CHECK(p.next_err().rfind("start: 2 checks, publishing to ", 0) == 0);
  REQUIRE(eventually([&] { return server.agent_checks().size() == 2; }));
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(took < 2s);
  CHECK(server.agent_checks().empty());
  SECTION("bounded by 2 s when the agent does not answer") {
    agent_process q({"--config", file, "--deregister-on-exit"}, env());
    CHECK(q.next_err().rfind("start: 2 checks, publishing to ", 0) == 0);
    REQUIRE(eventually([&] { return server.agent_checks().size() == 2; }));
    server.inject(testing::fault::delayed(10s).on_path("/v1/agent/check/deregister").persistent());
    const auto [st2, took2] = q.signal_and_wait(SIGTERM, 5s);
    CHECK(st2 == 0);
    CHECK(took2 < 2500ms);
  }
}

TEST_CASE_METHOD(agent_fixture, "SIGHUP while publishing: a removed check is deregistered, a renamed one re-registered") {
  const auto file = dir.write("two.json", R"({"checks": [{"id": "a", "alias_node": "db-1"}, {"id": "b", "alias_node": "db-2"}]})");
  agent_process p({"--config", file}, env());
  CHECK(p.next_err().rfind("start: 2 checks, publishing to ", 0) == 0);
  REQUIRE(eventually([&] { return server.agent_checks().size() == 2; }));
  dir.write("two.json", R"({"checks": [{"id": "a", "name": "A", "alias_node": "db-1"}]})");
  p.signal(SIGHUP);
  std::string line;
  do line = p.next_err(); while (line.rfind("check ", 0) == 0);  // first evaluations may still come
  CHECK(line == "reload: 0 added, 1 changed, 1 removed, 0 unchanged");
  REQUIRE(eventually([&] {
    const auto c = server.agent_checks();
    return c.size() == 1 && c[0].check_id == "a" && c[0].name == "A";
  }));
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
}

TEST_CASE("publishing under ACLs: the token only in X-Consul-Token, never in any output") {
  const std::string secret = "b3f1c2a4-7e9d-4c21-9a55-0d1e2f3a4b5c";
  testing::server_options o;
  o.acl_token = secret;
  agent_fixture f(o);
  const auto file = f.dir.write("pg.json", pg1_alias);
  agent_process p({"--config", file, "--token", secret}, f.env());
  CHECK(p.next_err().rfind("start: 1 check, publishing to ", 0) == 0);
  REQUIRE(eventually([&] { return agent_shows(f.server, "pg-alias", status::passing, "All checks passing."); }));
  CHECK(p.signal_and_wait(SIGTERM).first == 0);
  CHECK(p.all_stderr().find(secret) == std::string::npos);
  CHECK(p.rest_of_stdout().empty());
  for (const auto& r : f.server.recent_requests()) {
    CHECK(r.target.find(secret) == std::string::npos);
    CHECK(r.header("X-Consul-Token") == secret);
  }
  for (const auto& r : f.server.agent_requests()) CHECK(r.body.find(secret) == std::string::npos);
}

// ---- --listen ----

TEST_CASE_METHOD(agent_fixture, "--listen HOST:0 prints the port and serves /health/<id>, /health and /metrics") {
  const auto file = dir.write("two.json", R"({"checks": [{"id": "a", "alias_node": "db-1"},
      {"id": "b", "alias_node": "db-2", "alias_service": "pg-2"}]})");
  agent_process p({"--config", file, "--no-publish", "--listen", "127.0.0.1:0"}, timed_env());
  const auto listening = p.next_err();
  REQUIRE(listening.rfind("listening on 127.0.0.1:", 0) == 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(listening.substr(std::string("listening on 127.0.0.1:").size())));
  CHECK(p.next_err() == "start: 2 checks, not publishing");
  std::vector<std::string> first = {p.next_err(), p.next_err()};
  const auto a = http_get(port, "/health/a");
  CHECK(a.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(body_of(a) == R"({"id":"a","status":"passing","output":"All checks passing."})");
  const auto b = http_get(port, "/health/b");
  CHECK(b.rfind("HTTP/1.1 503 ", 0) == 0);
  CHECK(http_get(port, "/health").rfind("HTTP/1.1 503 ", 0) == 0);
  CHECK(http_get(port, "/health/nope").rfind("HTTP/1.1 404 ", 0) == 0);
  const auto metrics = body_of(http_get(port, "/metrics"));
  CHECK(metrics.find("coalias_check_status{id=\"a\",status=\"passing\"} 1") != std::string::npos);
  CHECK(metrics.find("coalias_check_status{id=\"b\",status=\"critical\"} 1") != std::string::npos);
  const auto [st, took] = p.signal_and_wait(SIGTERM);
  CHECK(st == 0);
  CHECK(took < 100ms);
}

TEST_CASE_METHOD(agent_fixture, "--listen on an address in use: one line naming it, exit 69") {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(s, 1) == 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const auto busy = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  agent_process p({"--config", dir.write("pg.json", pg1_alias), "--no-publish", "--listen", busy}, env());
  REQUIRE(p.wait() == 69);
  const auto err = p.all_stderr();
  CHECK(err.rfind("coalias-agent: --listen: ", 0) == 0);
  CHECK(err.find(busy) != std::string::npos);
  CHECK(lines_of(err).size() == 1);
  ::close(s);
}

TEST_CASE_METHOD(agent_fixture, "publishing: SIGTERM and SIGINT exit 0 within 100 ms with an update in flight") {
  const auto file = dir.write("two.json", R"({"checks": [{"id": "a", "alias_node": "db-1"}, {"id": "b", "alias_node": "db-2"}]})");
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    server.restart_agent();
    agent_process p({"--config", file}, timed_env());
    CHECK(p.next_err().rfind("start: 2 checks, publishing to ", 0) == 0);
    REQUIRE(eventually([&] {
      return agent_shows(server, "a", status::passing, "All checks passing.") &&
             agent_shows(server, "b", status::passing, "No checks found.");
    }));
    const auto applied = server.faults_injected();
    server.inject(testing::fault::delayed(10s).on_path("/v1/agent/check/update/a"));
    server.update_check_status("db-1", "serfHealth", status::warning, "slow");
    REQUIRE(eventually([&] { return server.faults_injected() > applied; }));  // the update is held
    const auto [st, took] = p.signal_and_wait(sig);
    CHECK(st == 0);
    CHECK(took < 100ms);
    WARN("exit took " << took.count() << " ms");
    server.clear_faults();
    server.update_check_status("db-1", "serfHealth", status::passing, "Agent alive and reachable");
  }
}
