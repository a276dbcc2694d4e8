#include <coalias/consul_config.hpp>

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

using namespace std::chrono_literals;
using coalias::consul_config;

namespace {

constexpr const char* secret = "b1gS3cr3t-t0ken-4ab2";

// A fake environment so the tests never read or write the real one.
coalias::env_lookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A token file removed at scope exit.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/coalias-token-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

std::string error_of(const coalias::env_lookup& e) {
  try {
    (void)coalias::from_environment(e);
  } catch (const std::system_error& ex) {
    return std::string(ex.code().message()) + " | " + ex.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a default config matches Consul's local agent defaults") {
  const consul_config c;
  CHECK(c.address == coalias::consul_address());
  CHECK(c.token.empty());
  CHECK(c.wait == 60s);
  CHECK(c.max_body == 16u * 1024 * 1024);
  CHECK(c.max_connections == 8);
  CHECK(c.tls.verify);
}

TEST_CASE("an empty environment gives the default config") {
  std::vector<std::string> warnings;
  const auto c = coalias::from_environment(env({}), &warnings);
  CHECK(c.address == coalias::consul_address());
  CHECK(c.token.empty());
  CHECK(c.tls == coalias::tls_config());
  CHECK(warnings.empty());
}

TEST_CASE("every CONSUL_* variable lands in its field") {
  std::vector<std::string> warnings;
  const auto c = coalias::from_environment(env({{"CONSUL_HTTP_ADDR", "https://consul.example:8501/prefix"},
                                                {"CONSUL_HTTP_TOKEN", secret},
                                                {"CONSUL_HTTP_SSL_VERIFY", "false"},
                                                {"CONSUL_CACERT", "/etc/consul/ca.pem"},
                                                {"CONSUL_CAPATH", "/etc/consul/ca.d"},
                                                {"CONSUL_CLIENT_CERT", "/etc/consul/cli.pem"},
                                                {"CONSUL_CLIENT_KEY", "/etc/consul/cli-key.pem"},
                                                {"CONSUL_TLS_SERVER_NAME", "server.dc1.consul:8501"},
                                                {"CONSUL_NAMESPACE", "team-a"},
                                                {"CONSUL_PARTITION", "part-1"}}),
                                           &warnings);
  CHECK(warnings.empty());
  CHECK(c.address.host() == "consul.example");
  CHECK(c.address.port() == 8501);
  CHECK(c.address.tls());
  CHECK(c.address.path_prefix() == "/prefix");
  CHECK(c.token == secret);
  CHECK_FALSE(c.tls.verify);
  CHECK(c.tls.ca_file == "/etc/consul/ca.pem");
  CHECK(c.tls.ca_path == "/etc/consul/ca.d");
  CHECK(c.tls.cert_file == "/etc/consul/cli.pem");
  CHECK(c.tls.key_file == "/etc/consul/cli-key.pem");
  CHECK(c.tls.server_name == "server.dc1.consul");  // port dropped, as the Go client does
  CHECK(c.ns == "team-a");
  CHECK(c.partition == "part-1");
  CHECK(c.datacenter.empty());
}

TEST_CASE("CONSUL_HTTP_SSL turns TLS on and http:// never turns it off") {
  struct row {
    const char* addr;
    const char* ssl;
    bool tls;
  };
  const row rows[] = {
      {"127.0.0.1:8501", "true", true}, {"127.0.0.1:8501", "1", true},     {"127.0.0.1:8501", "T", true},
      {"http://h:1", "TRUE", true},      {"https://h:1", "false", true},    {"h:1", "false", false},
      {"h:1", "0", false},               {"unix:///s.sock", "True", true},  {"h:1", "", false},
  };
  for (const auto& r : rows) {
    INFO(r.addr << " SSL=" << r.ssl);
    const auto c = coalias::from_environment(env({{"CONSUL_HTTP_ADDR", r.addr}, {"CONSUL_HTTP_SSL", r.ssl}}));
    CHECK(c.address.tls() == r.tls);
  }
}

TEST_CASE("CONSUL_HTTP_TOKEN_FILE is read once, trimmed, and wins over CONSUL_HTTP_TOKEN") {
  temp_file file(std::string("\n  ") + secret + " \r\n\t");
  const auto c = coalias::from_environment(env({{"CONSUL_HTTP_TOKEN", "from-env"}, {"CONSUL_HTTP_TOKEN_FILE", file.path}}));
  CHECK(c.token == secret);

  SECTION("a whitespace-only file leaves CONSUL_HTTP_TOKEN in force") {
    temp_file blank(" \n");
    const auto d = coalias::from_environment(env({{"CONSUL_HTTP_TOKEN", "from-env"}, {"CONSUL_HTTP_TOKEN_FILE", blank.path}}));
    CHECK(d.token == "from-env");
  }
}

TEST_CASE("an unreadable token file is an invalid_argument error naming the file") {
  const auto text = error_of(env({{"CONSUL_HTTP_TOKEN", secret}, {"CONSUL_HTTP_TOKEN_FILE", "/nonexistent/coalias/token"}}));
  CHECK_THAT(text, Catch::Contains("invalid argument") && Catch::Contains("/nonexistent/coalias/token"));
  CHECK_THAT(text, !Catch::Contains(secret));
}

TEST_CASE("a client certificate without its key, or the reverse, is an error") {
  CHECK_THAT(error_of(env({{"CONSUL_CLIENT_CERT", "/c.pem"}})),
             Catch::Contains("invalid argument") && Catch::Contains("CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY"));
  CHECK_THAT(error_of(env({{"CONSUL_CLIENT_KEY", "/k.pem"}})),
             Catch::Contains("CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT"));
}

TEST_CASE("an unparseable bool is ignored with a warning") {
  std::vector<std::string> warnings;
  const auto c = coalias::from_environment(
      env({{"CONSUL_HTTP_SSL", "yes"}, {"CONSUL_HTTP_SSL_VERIFY", "nope"}, {"CONSUL_HTTP_TOKEN", secret}}), &warnings);
  CHECK_FALSE(c.address.tls());
  CHECK(c.tls.verify);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == "CONSUL_HTTP_SSL: cannot parse 'yes' as a bool (expected true or false); ignored");
  CHECK(warnings[1] == "CONSUL_HTTP_SSL_VERIFY: cannot parse 'nope' as a bool (expected true or false); ignored");
  // Without a warnings sink the bad value is still just ignored.
  CHECK_NOTHROW(coalias::from_environment(env({{"CONSUL_HTTP_SSL", "yes"}})));
}

TEST_CASE("a bad CONSUL_HTTP_ADDR is a bad_address error that names the variable") {
  try {
    (void)coalias::from_environment(env({{"CONSUL_HTTP_ADDR", "ftp://h"}, {"CONSUL_HTTP_TOKEN", secret}}));
    FAIL("accepted");
  } catch (const std::system_error& e) {
    CHECK(e.code() == coalias::errc::bad_address);
    CHECK_THAT(e.what(), Catch::StartsWith("CONSUL_HTTP_ADDR: unsupported scheme 'ftp'"));
    CHECK_THAT(e.what(), !Catch::Contains(secret));
  }
}

TEST_CASE("Go ParseBool accepts exactly its twelve spellings") {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(coalias::parse_go_bool(t) == true);
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(coalias::parse_go_bool(f) == false);
  for (const char* x : {"", "yes", "no", "tRUE", "on", " true", "2"}) CHECK_FALSE(coalias::parse_go_bool(x));
}

TEST_CASE("describe() shows the settings but never the token") {
  consul_config c;
  c.address = coalias::consul_address::parse("https://consul:8501");
  c.token = secret;
  c.datacenter = "dc2";
  c.tls.ca_file = "/ca.pem";
  const auto d = coalias::describe(c);
  CHECK(d == "address=https://consul:8501 tls_verify=true ca_file=/ca.pem dc=dc2 wait=60000ms max_body=16777216 "
             "max_connections=8 token=<set>");
  CHECK_THAT(d, !Catch::Contains(secret));
  CHECK_THAT(coalias::describe(consul_config()), Catch::EndsWith("token=<none>"));
}
