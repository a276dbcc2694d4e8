#include "consul/url.hpp"

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
namespace consul = coalias::consul;

TEST_CASE("a path segment keeps only unreserved characters") {
  CHECK(consul::encode_path_segment("a b/c?d#e%f") == "a%20b%2Fc%3Fd%23e%25f");
  CHECK(consul::encode_path_segment("../agent/self") == "..%2Fagent%2Fself");
  CHECK(consul::encode_path_segment("%2e%2e") == "%252e%252e");
  CHECK(consul::encode_path_segment("?") == "%3F");
  CHECK(consul::encode_path_segment("#") == "%23");
  CHECK(consul::encode_path_segment("a\nb") == "a%0Ab");
  CHECK(consul::encode_path_segment("...") == "...");
  CHECK(consul::encode_path_segment("node-01.dc_1~x") == "node-01.dc_1~x");
  CHECK(consul::encode_path_segment("\xC3\xA9+&=;:@") == "%C3%A9%2B%26%3D%3B%3A%40");
}

TEST_CASE("segments that would vanish or climb are refused") {
  for (std::string_view s : {std::string_view(""), std::string_view("."), std::string_view(".."),
                             std::string_view("a\0b", 3), std::string_view("\0", 1)}) {
    std::string out = "keep";
    CHECK(consul::append_path_segment(out, s) == coalias::errc::invalid_argument);
    CHECK(out == "keep");
    try {
      (void)consul::encode_path_segment(s);
      FAIL("accepted");
    } catch (const std::system_error& e) {
      CHECK(e.code() == coalias::errc::invalid_argument);
    }
  }
}

TEST_CASE("query values are percent-encoded") {
  std::string out;
  consul::append_query_value(out, "a b&c=d+e/f");
  CHECK(out == "a%20b%26c%3Dd%2Be%2Ff");
}

TEST_CASE("health and catalog URLs are exact") {
  coalias::consul_config c;
  CHECK(consul::health_node_url(c, "db-7", 0, 60s) == "http://127.0.0.1:8500/v1/health/node/db-7?stale");
  CHECK(consul::health_node_url(c, "db-7", 913, 60s) ==
        "http://127.0.0.1:8500/v1/health/node/db-7?stale&index=913&wait=60000ms");
  CHECK(consul::health_node_url(c, "db-7", 1, 300us) ==
        "http://127.0.0.1:8500/v1/health/node/db-7?stale&index=1&wait=1ms");
  CHECK(consul::health_node_url(c, "db-7", 5, 0ms) == "http://127.0.0.1:8500/v1/health/node/db-7?stale&index=5");
  CHECK(consul::catalog_node_url(c, "db-7") == "http://127.0.0.1:8500/v1/catalog/node/db-7?stale");

  c.address = coalias::consul_address::parse("https://gw:8443/consul/");
  c.datacenter = "dc 2";
  c.ns = "team/a";
  c.partition = "p&1";
  CHECK(consul::health_node_url(c, "a b", 18446744073709551615ull, 90s) ==
        "https://gw:8443/consul/v1/health/node/a%20b?stale&index=18446744073709551615&wait=90000ms"
        "&dc=dc%202&ns=team%2Fa&partition=p%261");
  CHECK(consul::catalog_node_url(c, "../agent/self") ==
        "https://gw:8443/consul/v1/catalog/node/..%2Fagent%2Fself?stale&dc=dc%202&ns=team%2Fa&partition=p%261");

  c.address = coalias::consul_address::parse("unix:///run/consul.sock");
  c.datacenter.clear();
  c.ns.clear();
  c.partition.clear();
  CHECK(consul::catalog_node_url(c, "n") == "http://localhost/v1/catalog/node/n?stale");
}

TEST_CASE("a bad node name throws invalid_argument from the URL builders") {
  coalias::consul_config c;
  for (const char* node : {"", ".", ".."}) {
    INFO(node);
    CHECK_THROWS_AS(consul::health_node_url(c, node, 0, 1s), std::system_error);
    CHECK_THROWS_AS(consul::catalog_node_url(c, node), std::system_error);
  }
}

TEST_CASE("the token never appears in a URL") {
  coalias::consul_config c;
  c.token = "s3cr3t-token";
  c.datacenter = "dc1";
  CHECK_THAT(consul::health_node_url(c, "n", 7, 1s), !Catch::Contains("s3cr3t") && !Catch::Contains("token"));
  CHECK_THAT(consul::catalog_node_url(c, "n"), !Catch::Contains("s3cr3t") && !Catch::Contains("token"));
}
