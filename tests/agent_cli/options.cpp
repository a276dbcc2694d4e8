// coalias-agent's parse_options: flags, repeated --config, the environment under the flags, --listen and --ttl.
#include "agent_cli/options.hpp"

#include "fake_env.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace coalias;
using namespace coalias::agent_cli;
using namespace std::chrono_literals;

namespace {

using coalias::test::env_map;
using coalias::test::env_of;

std::string error_of(std::vector<std::string_view> args, env_map env = {}) {
  auto r = parse_options(args, env_of(std::move(env)));
  if (const auto* e = std::get_if<usage_error>(&r)) return e->message;
  return "(no error)";
}

options ok(std::vector<std::string_view> args, env_map env = {}) {
  auto r = parse_options(args, env_of(std::move(env)));
  if (const auto* e = std::get_if<usage_error>(&r)) FAIL("unexpected usage error: " << e->message);
  return std::get<options>(std::move(r));
}

}  // namespace

TEST_CASE("defaults: publish with a 30s TTL, no listener, the environment's Consul") {
  const auto o = ok({"--config", "a.json"}, {{"CONSUL_HTTP_ADDR", "10.0.0.1:8501"}, {"CONSUL_HTTP_TOKEN", "t"}});
  CHECK(o.configs == std::vector<std::filesystem::path>{"a.json"});
  CHECK(o.publish);
  CHECK_FALSE(o.deregister_on_exit);
  CHECK(o.ttl == 30s);
  CHECK_FALSE(o.listen);
  CHECK(o.config.address.host() == "10.0.0.1");
  CHECK(o.config.address.port() == 8501);
  CHECK(o.config.token == "t");
}

TEST_CASE("every flag") {
  const auto o = ok({"--config", "a.json", "--config=conf.d", "--addr", "127.0.0.1:9500", "--token=s", "--dc", "eu",
                     "--listen", "[::1]:0", "--ttl", "1m30s", "--no-publish", "--deregister-on-exit"},
                    {{"CONSUL_HTTP_ADDR", "10.0.0.1"}, {"CONSUL_HTTP_TOKEN", "t"}, {"CONSUL_DATACENTER", "us"}});
  CHECK(o.configs == std::vector<std::filesystem::path>{"a.json", "conf.d"});
  CHECK(o.config.address.port() == 9500);
  CHECK(o.config.token == "s");
  CHECK(o.config.datacenter == "eu");
  REQUIRE(o.listen);
  CHECK(o.listen->host == "::1");
  CHECK(o.listen->port == 0);
  CHECK(o.ttl == 90s);
  CHECK_FALSE(o.publish);
  CHECK(o.deregister_on_exit);
  CHECK(ok({"--config", "a", "--listen", "localhost:8080"}).listen->host == "127.0.0.1");
  CHECK(ok({"--config", "a", "--listen", "0.0.0.0:8080"}).listen->port == 8080);
}

TEST_CASE("usage errors name the option") {
  CHECK(error_of({}) == "missing --config (see --help)");
  CHECK(error_of({"--config", "a", "--listen", "1.2.3:80"}) ==
        "--listen: \"1.2.3\" is not an IP address (IPv6 in brackets) or localhost");
  CHECK(error_of({"--config", "a", "--listen", "[x]:80"}) == "--listen: \"x\" is not an IPv6 address");
  CHECK(error_of({"--config", "a", "--listen", "1.2.3.4:"}) == "--listen: port \"\" is not in 0..65535");
  CHECK(error_of({"--config", "a", "--ttl", "-1s"}) == "--ttl: invalid duration \"-1s\"");
  CHECK(error_of({"--config", "a", "extra"}) == "unexpected argument \"extra\" (options start with --)");
  CHECK(error_of({"--config", "a", "--token"}) == "--token: missing value");
  CHECK(error_of({"--config", "a"}, {{"CONSUL_HTTP_ADDR", "ftp://x"}}).rfind("environment: ", 0) == 0);
}

TEST_CASE("--help wins over problems after it") { CHECK(ok({"--help", "--bogus"}).mode == mode::help); }
