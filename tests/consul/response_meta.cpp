#include "consul/response_meta.hpp"

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace consul = coalias::consul;

TEST_CASE("X-Consul-Index is a strict unsigned 64-bit decimal") {
  struct row {
    const char* text;
    std::uint64_t want;
  };
  for (const row& r : {row{"1", 1}, row{"913", 913}, row{"0", 0}, row{" 42\t", 42},
                       row{"18446744073709551615", 18446744073709551615ull}, row{"007", 7}}) {
    INFO(r.text);
    std::uint64_t v = 99;
    CHECK_FALSE(consul::parse_consul_index(r.text, v));
    CHECK(v == r.want);
  }
  for (const char* bad : {"", " ", "-1", "+1", "0x10", "1e3", "12a", "1 2", "18446744073709551616",
                          "99999999999999999999999", "1.0", "\xEF\xBC\x91"}) {
    INFO('"' << bad << '"');
    std::uint64_t v = 99;
    CHECK(consul::parse_consul_index(bad, v) == coalias::errc::bad_header);
    CHECK(v == 99);
  }
}

TEST_CASE("X-Consul-KnownLeader and X-Consul-LastContact parse exactly") {
  bool b = false;
  CHECK_FALSE(consul::parse_known_leader("true", b));
  CHECK(b);
  CHECK_FALSE(consul::parse_known_leader("false", b));
  CHECK_FALSE(b);
  CHECK(consul::parse_known_leader("True", b) == coalias::errc::bad_header);
  CHECK(consul::parse_known_leader("1", b) == coalias::errc::bad_header);
  CHECK(consul::parse_known_leader("", b) == coalias::errc::bad_header);

  std::chrono::milliseconds ms{};
  CHECK_FALSE(consul::parse_last_contact("0", ms));
  CHECK(ms == 0ms);
  CHECK_FALSE(consul::parse_last_contact("37", ms));
  CHECK(ms == 37ms);
  CHECK(consul::parse_last_contact("-3", ms) == coalias::errc::bad_header);
  CHECK(consul::parse_last_contact("3ms", ms) == coalias::errc::bad_header);
  CHECK(consul::parse_last_contact("18446744073709551615", ms) == coalias::errc::bad_header);
}

TEST_CASE("response headers are matched case-insensitively from a list of pairs") {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"x-consul-index", "4451"},
      {"X-CONSUL-KNOWNLEADER", "true"},
      {"X-Consul-Lastcontact", "12"},
  };
  consul::response_meta m;
  CHECK_FALSE(consul::parse_response_meta_from(headers, m));
  CHECK(m.index == 4451);
  CHECK(m.known_leader == true);
  CHECK(m.last_contact == 12ms);
  CHECK(consul::find_header(headers, "Content-Type") == "application/json");
  CHECK_FALSE(consul::find_header(headers, "Content-Typ"));
}

TEST_CASE("absent headers leave defaults; a bad one names itself") {
  const std::map<std::string, std::string> none;
  consul::response_meta m;
  CHECK_FALSE(consul::parse_response_meta_from(none, m));
  CHECK(m == consul::response_meta());

  const std::map<std::string, std::string> bad = {{"X-Consul-Index", "12"}, {"X-Consul-KnownLeader", "yes"}};
  std::string_view which;
  CHECK(consul::parse_response_meta_from(bad, m, &which) == coalias::errc::bad_header);
  CHECK(which == "X-Consul-KnownLeader");

  std::string_view which2;
  const consul::header_lookup lookup = [](std::string_view n) -> std::optional<std::string_view> {
    if (consul::header_name_equals(n, "x-consul-index")) return "garbage";
    return std::nullopt;
  };
  CHECK(consul::parse_response_meta(lookup, m, &which2) == coalias::errc::bad_header);
  CHECK(which2 == "X-Consul-Index");
}
