// What both JSON body parsers promise whatever the body, checked the same way for each (fuzz_health_json,
// fuzz_catalog_json):
//  - an error is one of malformed_json / unexpected_json / bad_status (body_too_large only when over the cap),
//    comes with a non-empty, bounded last_error() (so it cannot echo a long body), and success leaves
//    last_error() empty;
//  - parser reuse: the same parser gives the same result twice, into values holding stale results of earlier
//    inputs, and agrees with a fresh parser (the one-shot free function);
//  - the cap: a parser capped at 64 bytes refuses longer bodies with body_too_large and agrees otherwise, and
//    a cap of exactly size / size-1 accepts / refuses.
#pragma once

#include "fuzz_check.hpp"

#include <coalias/consul_json.hpp>
#include <coalias/error.hpp>

#include <cstddef>
#include <string_view>
#include <system_error>

namespace json_invariants {

inline constexpr std::size_t small_cap = 64;
// Where + simdjson's longest message + a 32-byte excerpt fit well within this.
inline constexpr std::size_t max_error_text = 400;

inline bool is_parse_error(std::error_code ec) {
  using coalias::errc;
  return ec == errc::malformed_json || ec == errc::unexpected_json || ec == errc::bad_status ||
         ec == errc::body_too_large;
}

template <class Out>
using parse_method = std::error_code (coalias::consul_json_parser::*)(std::string_view, Out&);

/// Checks `body` through `parse` (a consul_json_parser member), `one_shot` (the matching free function) and
/// `valid`, which says whether a successful result keeps the body-specific promises.
template <class Out, class OneShot, class Valid>
void check(std::string_view body, parse_method<Out> parse, OneShot one_shot, Valid valid) {
  using coalias::errc;
  // Static, as a long-poll loop keeps them: reuse across inputs is part of what is tested.
  static coalias::consul_json_parser parser;
  static coalias::consul_json_parser small(small_cap);
  static coalias::consul_json_parser exact;
  static Out out, again, other;

  const std::error_code ec = (parser.*parse)(body, out);
  if (ec) {
    FUZZ_CHECK(is_parse_error(ec));
    FUZZ_CHECK(ec != errc::body_too_large);  // 16 MiB default cap; libFuzzer inputs are far smaller
    FUZZ_CHECK(!parser.last_error().empty());
    FUZZ_CHECK(parser.last_error().size() <= max_error_text);  // bounded: never echoes the body
  } else {
    FUZZ_CHECK(parser.last_error().empty());
    FUZZ_CHECK(valid(out));
  }

  // Reuse: same parser, same input, a value holding another input's result.
  const std::error_code ec2 = (parser.*parse)(body, again);
  FUZZ_CHECK(ec2 == ec);
  if (!ec) FUZZ_CHECK(again == out);

  // A fresh parser agrees.
  try {
    const Out fresh = one_shot(body);
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(fresh == out);
  } catch (const std::system_error& e) {
    FUZZ_CHECK(e.code() == ec);
  }

  // The cap is checked before parsing; under it, the result does not depend on the cap.
  const std::error_code ec3 = (small.*parse)(body, other);
  if (body.size() > small_cap) {
    FUZZ_CHECK(ec3 == errc::body_too_large);
    FUZZ_CHECK(!small.last_error().empty());
  } else {
    FUZZ_CHECK(ec3 == ec);
    if (!ec) FUZZ_CHECK(other == out);
  }
  if (!body.empty()) {
    exact.set_max_body(body.size() - 1);
    FUZZ_CHECK((exact.*parse)(body, other) == errc::body_too_large);
  }
  exact.set_max_body(body.size());
  FUZZ_CHECK((exact.*parse)(body, other) == ec);
  if (!ec) FUZZ_CHECK(other == out);
}

}  // namespace json_invariants
