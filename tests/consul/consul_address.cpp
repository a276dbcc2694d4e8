#include <coalias/consul_config.hpp>

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

using coalias::consul_address;

TEST_CASE("the default address is Consul's local agent over plain HTTP") {
  const consul_address a;
  CHECK(a.type() == consul_address::kind::tcp);
  CHECK(a.host() == "127.0.0.1");
  CHECK(a.port() == 8500);
  CHECK_FALSE(a.tls());
  CHECK(a.base_url() == "http://127.0.0.1:8500");
}

TEST_CASE("addresses in every CONSUL_HTTP_ADDR form parse to host, port, TLS and prefix") {
  struct row {
    const char* text;
    const char* host;
    unsigned port;
    bool tls;
    const char* prefix;
    const char* base_url;
  };
  const row rows[] = {
      {"consul.service:8500", "consul.service", 8500, false, "", "http://consul.service:8500"},
      {"10.0.0.7:8501", "10.0.0.7", 8501, false, "", "http://10.0.0.7:8501"},
      {"consul", "consul", 8500, false, "", "http://consul:8500"},
      {"[::1]:8500", "::1", 8500, false, "", "http://[::1]:8500"},
      {"[fe80::1%eth0]:1", "fe80::1%eth0", 1, false, "", "http://[fe80::1%25eth0]:1"},
      {"[2001:db8::7]", "2001:db8::7", 8500, false, "", "http://[2001:db8::7]:8500"},
      {"http://localhost:8500", "localhost", 8500, false, "", "http://localhost:8500"},
      {"HTTP://localhost:8500", "localhost", 8500, false, "", "http://localhost:8500"},
      {"https://consul.example.com:8501", "consul.example.com", 8501, true, "", "https://consul.example.com:8501"},
      {"https://consul.example.com", "consul.example.com", 8500, true, "", "https://consul.example.com:8500"},
      {"http://gw:80/consul", "gw", 80, false, "/consul", "http://gw:80/consul"},
      {"https://gw:443/a/b/", "gw", 443, true, "/a/b", "https://gw:443/a/b"},
      {"http://gw:80/", "gw", 80, false, "", "http://gw:80"},
      {"http://[::1]:65535/x", "::1", 65535, false, "/x", "http://[::1]:65535/x"},
      {"my_host-1.internal:8500", "my_host-1.internal", 8500, false, "", "http://my_host-1.internal:8500"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    const auto a = consul_address::parse(r.text);
    CHECK(a.type() == consul_address::kind::tcp);
    CHECK(a.host() == r.host);
    CHECK(a.port() == r.port);
    CHECK(a.tls() == r.tls);
    CHECK(a.path_prefix() == r.prefix);
    CHECK(a.unix_socket().empty());
    CHECK(a.base_url() == r.base_url);
  }
}

TEST_CASE("a unix:// address keeps the socket path and uses http://localhost as the base URL") {
  const auto a = consul_address::parse("unix:///var/run/consul/http.sock");
  CHECK(a.type() == consul_address::kind::unix_socket);
  CHECK(a.unix_socket() == "/var/run/consul/http.sock");
  CHECK(a.base_url() == "http://localhost");
  CHECK_FALSE(a.tls());
}

TEST_CASE("bad addresses are refused with bad_address and a message that names the problem") {
  struct row {
    std::string text;
    const char* says;
  };
  const row rows[] = {
      {"", "empty address"},
      {"ftp://host:21", "unsupported scheme 'ftp'"},
      {"tcp://host:8500", "unsupported scheme"},
      {"://host", "unsupported scheme"},
      {"http://", "empty host"},
      {"https://:8501", "empty host"},
      {":8500", "empty host"},
      {"host:", "empty port"},
      {"host:0", "not in 1..65535"},
      {"host:65536", "not in 1..65535"},
      {"host:123456", "not in 1..65535"},
      {"host:-1", "not a number"},
      {"host:85a0", "not a number"},
      {"host:+80", "not a number"},
      {"::1", "brackets"},
      {"::1:8500", "brackets"},
      {"[::1", "missing ']'"},
      {"[]:8500", "empty host"},
      {"[::1]8500", "unexpected text"},
      {"[10.0.0.1]:8500", "not an IPv6"},
      {"[::g]:1", "invalid character"},
      {"host/prefix", "needs an http"},
      {"http://user:secret@host:8500", "user info"},
      {"http://host:8500?x=1", "query or fragment"},
      {"http://host:8500/p?x=1", "query or fragment"},
      {"http://host:8500/p#f", "query or fragment"},
      {"http://host:8500/a b", "invalid character"},
      {"http://ho st:8500", "invalid character"},
      {"unix://", "empty unix socket path"},
      {std::string("unix:///tmp/a\0b", 15), "NUL"},
      {std::string("host\0:8500", 10), "invalid character"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    try {
      (void)consul_address::parse(r.text);
      FAIL("accepted");
    } catch (const std::system_error& e) {
      CHECK(e.code() == coalias::errc::bad_address);
      CHECK_THAT(e.what(), Catch::Contains(r.says));
      CHECK_THAT(e.what(), !Catch::Contains("secret"));
    }
  }
}

TEST_CASE("an error quotes at most 32 printable bytes of the offending text") {
  auto message = [](const std::string& text) {
    try {
      (void)consul_address::parse(text);
    } catch (const std::system_error& e) {
      return std::string(e.what());
    }
    FAIL("accepted");
    return std::string();
  };
  CHECK_THAT(message("ftp://host"), Catch::StartsWith("unsupported scheme 'ftp' "));
  CHECK_THAT(message(std::string(40, 'x') + "://host"),
             Catch::StartsWith("unsupported scheme '" + std::string(32, 'x') + "...' "));
  CHECK_THAT(message("f\x1b[2Jtp://host"), Catch::StartsWith("unsupported scheme 'f?[2Jtp' "));
  CHECK_THAT(message("host:8a\t"), Catch::StartsWith("port '8a?' is not a number"));
}
