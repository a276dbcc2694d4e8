// parse_options: every usage error with its exact message, environment defaults, flags over the environment.
#include "watch_cli/options.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <unistd.h>

using namespace coalias;
using namespace coalias::watch_cli;

namespace {

using coalias::test::env_map;
using coalias::test::env_of;

parse_result parse(std::vector<std::string_view> args, env_map env = {}) { return parse_options(args, env_of(std::move(env))); }

std::string error_of(std::vector<std::string_view> args, env_map env = {}) {
  auto r = parse(std::move(args), std::move(env));
  if (const auto* e = std::get_if<usage_error>(&r)) return e->message;
  return "(no error)";
}

options ok(std::vector<std::string_view> args, env_map env = {}) {
  auto r = parse(std::move(args), std::move(env));
  if (const auto* e = std::get_if<usage_error>(&r)) FAIL("unexpected usage error: " << e->message);
  return std::get<options>(std::move(r));
}

}  // namespace

TEST_CASE("usage errors name the problem exactly") {
  CHECK(error_of({}) == "missing --node (see --help)");
  CHECK(error_of({"--service", "web"}) == "missing --node (see --help)");
  CHECK(error_of({"--node", "n", "--bogus"}) == "unknown option \"--bogus\"");
  CHECK(error_of({"-x"}) == "unknown option \"-x\"");
  CHECK(error_of({"--node"}) == "--node: missing value");
  CHECK(error_of({"--node", "--json"}) == "--node: missing value");
  CHECK(error_of({"--node", "n", "--wait"}) == "--wait: missing value");
  CHECK(error_of({"--node", ""}) == "--node: empty value");
  CHECK(error_of({"--node="}) == "--node: empty value");
  CHECK(error_of({"--node", "n", "--service="}) == "--service: empty value");
  CHECK(error_of({"--node", "n", "--wait", "10"}) == "--wait: invalid duration \"10\"");
  CHECK(error_of({"--node", "n", "--wait=-5s"}) == "--wait: invalid duration \"-5s\"");
  CHECK(error_of({"--node", "n", "--wait", "5 m"}) == "--wait: invalid duration \"5 m\"");
  CHECK(error_of({"--node", "n", "--wait", "1\n0s"}) == "--wait: invalid duration \"1\\n0s\"");
  CHECK(error_of({"--node", "n", "--addr", "ftp://x"}).rfind("--addr: ", 0) == 0);
  CHECK(error_of({"--node", "n", "--addr", "host:99999"}) == "--addr: port '99999' is not in 1..65535");
  CHECK(error_of({"--node", "n", "--json=yes"}) == "--json takes no value");
  CHECK(error_of({"--node", "n", "extra"}) == "unexpected argument \"extra\" (options start with --)");
  CHECK(error_of({"-"}) == "unexpected argument \"-\" (options start with --)");
  CHECK(error_of({"--demo", "--json"}) == "--demo cannot be combined with other options");
  CHECK(error_of({"--node", "n", "--demo"}) == "--demo cannot be combined with other options");
  // The first problem, left to right, is the one reported.
  CHECK(error_of({"--bogus", "--wait", "x"}) == "unknown option \"--bogus\"");
  CHECK(error_of({"--wait", "x", "--bogus"}) == "--wait: invalid duration \"x\"");
}

TEST_CASE("a long bad value is cut in the message") {
  const std::string big(1000, '7');
  const auto msg = error_of({"--node", "n", "--wait", big});
  CHECK(msg == "--wait: invalid duration \"" + std::string(64, '7') + "\"...");
}

TEST_CASE("--help wins unless a problem comes before it") {
  CHECK(std::get<options>(parse({"--help"})).mode == mode::help);
  CHECK(std::get<options>(parse({"-h"})).mode == mode::help);
  CHECK(std::get<options>(parse({"--json", "--help", "--bogus"})).mode == mode::help);
  CHECK(std::get<options>(parse({"--demo", "--node", "x", "--help"})).mode == mode::help);
  CHECK(error_of({"--bogus", "--help"}) == "unknown option \"--bogus\"");
  CHECK(error_of({"--help=1"}) == "--help takes no value");
  // A broken environment does not stop --help.
  CHECK(std::get<options>(parse({"--help"}, {{"CONSUL_HTTP_ADDR", "ftp://x"}})).mode == mode::help);
  CHECK(usage_text().find("--node NODE") != std::string_view::npos);
  CHECK(usage_text().back() == '\n');
}

TEST_CASE("--demo alone; it ignores the environment") {
  const auto o = ok({"--demo"}, {{"CONSUL_CLIENT_CERT", "c.pem"}});
  CHECK(o.mode == mode::demo);
}

TEST_CASE("defaults: Consul's address, no token, one-minute wait") {
  const auto o = ok({"--node", "db-1"});
  CHECK(o.mode == mode::watch);
  CHECK(o.target.node == "db-1");
  CHECK(o.target.service_id.empty());
  CHECK(o.config.address.base_url() == "http://127.0.0.1:8500");
  CHECK(o.config.token.empty());
  CHECK(o.config.datacenter.empty());
  CHECK(o.config.wait == std::chrono::seconds(60));
  CHECK_FALSE(o.json);
  CHECK_FALSE(o.once);
}

TEST_CASE("every flag, in both spellings") {
  const auto o = ok({"--node=db-1", "--service", "pg-1", "--addr=https://consul.example:8501/c", "--token", "t0k",
                     "--dc", "east", "--wait=1m30s", "--json", "--once"});
  CHECK(o.target.node == "db-1");
  CHECK(o.target.service_id == "pg-1");
  CHECK(o.config.address.base_url() == "https://consul.example:8501/c");
  CHECK(o.config.token == "t0k");
  CHECK(o.config.datacenter == "east");
  CHECK(o.config.wait == std::chrono::seconds(90));
  CHECK(o.json);
  CHECK(o.once);
}

TEST_CASE("durations in Consul's syntax") {
  CHECK(ok({"--node", "n", "--wait", "500ms"}).config.wait == std::chrono::milliseconds(500));
  CHECK(ok({"--node", "n", "--wait", "10s"}).config.wait == std::chrono::seconds(10));
  CHECK(ok({"--node", "n", "--wait", "5m"}).config.wait == std::chrono::minutes(5));
  CHECK(ok({"--node", "n", "--wait", "1.5s"}).config.wait == std::chrono::milliseconds(1500));
  CHECK(ok({"--node", "n", "--wait", "0"}).config.wait == std::chrono::milliseconds(0));
  // Under a millisecond rounds up, since 0 would mean "the server's default".
  CHECK(ok({"--node", "n", "--wait", "10us"}).config.wait == std::chrono::milliseconds(1));
}

TEST_CASE("the last of a repeated flag wins") {
  const auto o = ok({"--node", "a", "--node", "b", "--wait", "1s", "--wait", "2s"});
  CHECK(o.target.node == "b");
  CHECK(o.config.wait == std::chrono::seconds(2));
}

TEST_CASE("CONSUL_* variables give the defaults") {
  const auto o = ok({"--node", "n"}, {{"CONSUL_HTTP_ADDR", "10.0.0.5:8600"}, {"CONSUL_HTTP_TOKEN", "env-token"},
                                      {"CONSUL_NAMESPACE", "team"}});
  CHECK(o.config.address.base_url() == "http://10.0.0.5:8600");
  CHECK(o.config.token == "env-token");
  CHECK(o.config.ns == "team");
}

TEST_CASE("flags win over the environment, and the variables they replace are never read") {
  const auto o = ok({"--node", "n", "--addr", "127.0.0.1:9000", "--token", "flag-token"},
                    {{"CONSUL_HTTP_ADDR", "10.0.0.5:8600"}, {"CONSUL_HTTP_TOKEN", "env-token"}});
  CHECK(o.config.address.base_url() == "http://127.0.0.1:9000");
  CHECK(o.config.token == "flag-token");
  // A broken CONSUL_HTTP_ADDR or token file does not matter when the flag replaces it.
  CHECK(ok({"--node", "n", "--addr", "h:1"}, {{"CONSUL_HTTP_ADDR", "ftp://bad"}}).config.address.host() == "h");
  CHECK(ok({"--node", "n", "--token", "t"}, {{"CONSUL_HTTP_TOKEN_FILE", "/nonexistent/token"}}).config.token == "t");
}

TEST_CASE("CONSUL_HTTP_SSL still turns TLS on for an --addr, as in Consul's CLI") {
  CHECK(ok({"--node", "n", "--addr", "h:1"}, {{"CONSUL_HTTP_SSL", "true"}}).config.address.base_url() == "https://h:1");
  CHECK(ok({"--node", "n", "--addr", "http://h:1"}, {{"CONSUL_HTTP_SSL", "1"}}).config.address.tls());
  CHECK_FALSE(ok({"--node", "n", "--addr", "h:1"}, {{"CONSUL_HTTP_SSL", "false"}}).config.address.tls());
}

TEST_CASE("a bad environment is a usage error naming the variable") {
  CHECK(error_of({"--node", "n"}, {{"CONSUL_CLIENT_CERT", "c.pem"}}) ==
        "environment: CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY");
  CHECK(error_of({"--node", "n"}, {{"CONSUL_HTTP_ADDR", "ftp://x"}}).rfind("environment: CONSUL_HTTP_ADDR: ", 0) == 0);
  CHECK(error_of({"--node", "n"}, {{"CONSUL_HTTP_TOKEN_FILE", "/nonexistent/tok"}}) ==
        "environment: CONSUL_HTTP_TOKEN_FILE: cannot open '/nonexistent/tok'");
  // A control character in a quoted path cannot break the one-line promise.
  CHECK(error_of({"--node", "n"}, {{"CONSUL_HTTP_TOKEN_FILE", "/nonexistent/a\nb"}}) ==
        "environment: CONSUL_HTTP_TOKEN_FILE: cannot open '/nonexistent/a\\x0ab'");
  // Flag problems come before the environment's.
  CHECK(error_of({"--node", "n", "--wait", "x"}, {{"CONSUL_CLIENT_CERT", "c.pem"}}) == "--wait: invalid duration \"x\"");
}

TEST_CASE("an unparseable CONSUL_HTTP_SSL is a warning, not an error") {
  const auto o = ok({"--node", "n"}, {{"CONSUL_HTTP_SSL", "maybe"}});
  REQUIRE(o.warnings.size() == 1);
  CHECK(o.warnings[0].find("CONSUL_HTTP_SSL") != std::string::npos);
}

TEST_CASE("the token never appears in an error") {
  const std::string secret = "s3cr3t-0f-the-day";
  const std::string flag_eq = "--token=" + secret;
  const std::string typo_eq = "--tokn=" + secret;
  const std::vector<std::vector<std::string_view>> cases = {
      {"--token", secret, "--bogus"},  {flag_eq, "--wait", "x"}, {typo_eq},
      {"--token", secret},             {"--token", secret, "--demo"},
      {"--node", "n", "--token", secret, "--addr", "::1"},
  };
  for (const auto& args : cases) {
    const auto msg = error_of(args, {{"CONSUL_HTTP_TOKEN", secret}, {"CONSUL_CLIENT_KEY", "k.pem"}});
    INFO(msg);
    CHECK(msg != "(no error)");
    CHECK(msg.find(secret) == std::string::npos);
  }
  CHECK(error_of({typo_eq}) == "unknown option \"--tokn\"");
}

TEST_CASE("a token file is read, trimmed, and wins over CONSUL_HTTP_TOKEN") {
  char path[] = "/tmp/coalias-cli-tokenXXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "file-token\n", 11) == 11);
  ::close(fd);
  const auto o = ok({"--node", "n"}, {{"CONSUL_HTTP_TOKEN_FILE", path}, {"CONSUL_HTTP_TOKEN", "env-token"}});
  CHECK(o.config.token == "file-token");
  CHECK(ok({"--node", "n", "--token", "flag"}, {{"CONSUL_HTTP_TOKEN_FILE", path}}).config.token == "flag");
  ::unlink(path);
}

TEST_CASE("a bad address reads the same from --addr and from CONSUL_HTTP_ADDR, only the source differs") {
  for (const char* bad : {"ftp://x", "host:99999", "http://u@h", "::1", "unix://"}) {
    INFO(bad);
    const std::string flag = error_of({"--node", "n", "--addr", bad});
    const std::string env = error_of({"--node", "n"}, {{"CONSUL_HTTP_ADDR", bad}});
    REQUIRE(flag.rfind("--addr: ", 0) == 0);
    REQUIRE(env.rfind("environment: CONSUL_HTTP_ADDR: ", 0) == 0);
    CHECK(flag.substr(8) == env.substr(31));
  }
}
