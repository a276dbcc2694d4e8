// libFuzzer target: consul_json_parser::parse_catalog_node, the `/v1/catalog/node/:node` and
// `/v1/catalog/node-services/:node` body parser. The input is the response body, as is.
//
// Beyond "no crash or sanitizer report", it checks:
//  - an error is one of malformed_json / unexpected_json / bad_status (body_too_large only when over the cap),
//    comes with a non-empty, bounded last_error() (so it cannot echo a long body), and success leaves
//    last_error() empty;
//  - a node that is not found has no service IDs;
//  - parser reuse: the same parser gives the same result twice, into values holding stale results of earlier
//    inputs, and agrees with a fresh parser (the one-shot `coalias::parse_catalog_node`);
//  - the cap: a parser capped at 64 bytes refuses longer bodies with body_too_large and agrees otherwise, and
//    a cap of exactly size / size-1 accepts / refuses.
#include <coalias/consul_json.hpp>
#include <coalias/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>

#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace {

using coalias::errc;

constexpr std::size_t small_cap = 64;
// Where + simdjson's longest message + a 32-byte excerpt fit well within this.
constexpr std::size_t max_error_text = 400;

bool is_parse_error(std::error_code ec) {
  return ec == errc::malformed_json || ec == errc::unexpected_json || ec == errc::bad_status ||
         ec == errc::body_too_large;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Static, as a long-poll loop keeps them: reuse across inputs is part of what is tested.
  static coalias::consul_json_parser parser;
  static coalias::consul_json_parser small(small_cap);
  static coalias::consul_json_parser exact;
  static coalias::catalog_node out, again, other;

  const std::string_view body(reinterpret_cast<const char*>(data), size);

  const std::error_code ec = parser.parse_catalog_node(body, out);
  if (ec) {
    FUZZ_CHECK(is_parse_error(ec));
    FUZZ_CHECK(ec != errc::body_too_large);  // 16 MiB default cap; libFuzzer inputs are far smaller
    FUZZ_CHECK(!parser.last_error().empty());
    FUZZ_CHECK(parser.last_error().size() <= max_error_text);  // bounded: never echoes the body
  } else {
    FUZZ_CHECK(parser.last_error().empty());
    if (!out.found) FUZZ_CHECK(out.service_ids.empty());
  }

  // Reuse: same parser, same input, a value holding another input's result.
  const std::error_code ec2 = parser.parse_catalog_node(body, again);
  FUZZ_CHECK(ec2 == ec);
  if (!ec) FUZZ_CHECK(again == out);

  // A fresh parser agrees.
  try {
    const auto fresh = coalias::parse_catalog_node(body);
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(fresh == out);
  } catch (const std::system_error& e) {
    FUZZ_CHECK(e.code() == ec);
  }

  // The cap is checked before parsing; under it, the result does not depend on the cap.
  const std::error_code ec3 = small.parse_catalog_node(body, other);
  if (size > small_cap) {
    FUZZ_CHECK(ec3 == errc::body_too_large);
    FUZZ_CHECK(!small.last_error().empty());
  } else {
    FUZZ_CHECK(ec3 == ec);
    if (!ec) FUZZ_CHECK(other == out);
  }
  if (size > 0) {
    exact.set_max_body(size - 1);
    FUZZ_CHECK(exact.parse_catalog_node(body, other) == errc::body_too_large);
  }
  exact.set_max_body(size);
  FUZZ_CHECK(exact.parse_catalog_node(body, other) == ec);
  if (!ec) FUZZ_CHECK(other == out);
  return 0;
}
