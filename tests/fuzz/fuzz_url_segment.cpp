// libFuzzer target: path-segment and query-value percent-encoding, and the two request URLs built around a node
// name. The input is the node name / segment, as is.
//
// Checks, beyond "no crash or sanitizer report":
//  - append_path_segment refuses exactly "", ".", ".." and text containing NUL, leaving `out` unchanged, and
//    encode_path_segment throws system_error(invalid_argument) for the same inputs;
//  - an accepted segment is encoded as RFC 3986 unreserved characters and upper-case `%XX` only (so never '/',
//    '?', '#'), unreserved bytes are kept and every other byte is escaped, and it decodes back to the input;
//  - append_query_value encodes the same way, for any input;
//  - health_node_url / catalog_node_url put the encoded name right after the endpoint path, with exactly one '?'
//    and no '#'.
#include "consul/url.hpp"

#include "fuzz_check.hpp"

#include <coalias/consul_config.hpp>
#include <coalias/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace {

namespace consul = coalias::consul;
using coalias::errc;

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower-case hex is not what the encoder writes
}

// Checks the encoding's alphabet and decodes it; aborts on anything but unreserved characters and %XX.
std::string decode_checked(std::string_view enc) {
  std::string out;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    const char c = enc[i];
    FUZZ_CHECK(c != '/' && c != '?' && c != '#' && c != '&' && c != '=' && c != ' ');
    if (c == '%') {
      FUZZ_CHECK(i + 2 < enc.size());
      const int hi = hex_value(enc[i + 1]);
      const int lo = hex_value(enc[i + 2]);
      FUZZ_CHECK(hi >= 0 && lo >= 0);
      const char decoded = static_cast<char>(hi * 16 + lo);
      FUZZ_CHECK(!unreserved(decoded));  // unreserved bytes are never escaped
      out += decoded;
      i += 2;
    } else {
      FUZZ_CHECK(unreserved(c));
      out += c;
    }
  }
  return out;
}

bool refused(std::string_view s) {
  return s.empty() || s == "." || s == ".." || s.find('\0') != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view seg(reinterpret_cast<const char*>(data), size);
  const std::string prefix = "/v1/x/";

  std::string out = prefix;
  const std::error_code ec = consul::append_path_segment(out, seg);
  if (refused(seg)) {
    FUZZ_CHECK(ec == errc::invalid_argument);
    FUZZ_CHECK(out == prefix);
    try {
      (void)consul::encode_path_segment(seg);
      FUZZ_CHECK(!"encode_path_segment accepted a refused segment");
    } catch (const std::system_error& e) {
      FUZZ_CHECK(e.code() == errc::invalid_argument);
    }
  } else {
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(out.compare(0, prefix.size(), prefix) == 0);
    const std::string_view enc = std::string_view(out).substr(prefix.size());
    FUZZ_CHECK(decode_checked(enc) == seg);
    FUZZ_CHECK(consul::encode_path_segment(seg) == enc);
    // "." and ".." cannot come out of a longer segment either.
    FUZZ_CHECK(enc != "." && enc != "..");
  }

  std::string q = "a=";
  consul::append_query_value(q, seg);
  FUZZ_CHECK(decode_checked(std::string_view(q).substr(2)) == seg);

  coalias::consul_config config;
  config.datacenter = "dc1";
  try {
    const std::string url = consul::health_node_url(config, seg, 7, std::chrono::seconds(5));
    FUZZ_CHECK(!refused(seg));
    const std::string head = config.address.base_url() + "/v1/health/node/";
    FUZZ_CHECK(url.compare(0, head.size(), head) == 0);
    const auto qm = url.find('?');
    FUZZ_CHECK(qm != std::string::npos && url.find('?', qm + 1) == std::string::npos);
    FUZZ_CHECK(url.find('#') == std::string::npos);
    FUZZ_CHECK(decode_checked(std::string_view(url).substr(head.size(), qm - head.size())) == seg);
    FUZZ_CHECK(std::string_view(url).substr(qm) == "?stale&index=7&wait=5000ms&dc=dc1");
  } catch (const std::system_error& e) {
    FUZZ_CHECK(refused(seg));
    FUZZ_CHECK(e.code() == errc::invalid_argument);
  }
  try {
    const std::string url = consul::catalog_node_url(config, seg);
    FUZZ_CHECK(!refused(seg));
    const std::string head = config.address.base_url() + "/v1/catalog/node/";
    FUZZ_CHECK(url.compare(0, head.size(), head) == 0);
    const auto qm = url.find('?');
    FUZZ_CHECK(qm != std::string::npos && url.find('?', qm + 1) == std::string::npos);
    FUZZ_CHECK(url.find('#') == std::string::npos);
    FUZZ_CHECK(decode_checked(std::string_view(url).substr(head.size(), qm - head.size())) == seg);
    FUZZ_CHECK(std::string_view(url).substr(qm) == "?stale&dc=dc1");
  } catch (const std::system_error& e) {
    FUZZ_CHECK(refused(seg));
    FUZZ_CHECK(e.code() == errc::invalid_argument);
  }
  return 0;
}
