// libFuzzer target: Consul's response headers (X-Consul-Index, X-Consul-KnownLeader, X-Consul-LastContact).
//
// Input: header lines separated by '\n', each `Name:value` (split at the first ':'; the value keeps any
// leading whitespace, as the HTTP layer may hand it over). A line without ':' is a value for one of the three
// names, chosen by the line's position. Example:
//   X-Consul-Index: 42
//   x-consul-knownleader:true
//   X-Consul-LastContact: 0
//
// Checks, beyond "no crash or sanitizer report":
//  - each value parser agrees with a reference (std::from_chars on the value with spaces/tabs trimmed; exactly
//    "true"/"false");
//  - header_name_equals is ASCII case-insensitive equality (and symmetric);
//  - parse_response_meta_from agrees with the reference built from the first matching header of each name, and
//    names the canonical header on error.
#include "consul/response_meta.hpp"

#include "fuzz_check.hpp"

#include <coalias/error.hpp>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace consul = coalias::consul;
using coalias::errc;

constexpr std::string_view names[] = {"X-Consul-Index", "X-Consul-KnownLeader", "X-Consul-LastContact"};

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool ref_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// An unsigned decimal and nothing else, after trimming; nullopt otherwise (including overflow).
std::optional<std::uint64_t> ref_u64(std::string_view v) {
  v = trim_ows(v);
  if (v.empty() || v.front() < '0' || v.front() > '9') return std::nullopt;
  std::uint64_t x = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return x;
}

std::optional<bool> ref_bool(std::string_view v) {
  v = trim_ows(v);
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ref_ms(std::string_view v) {
  const auto x = ref_u64(v);
  if (!x || *x > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max()))
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(*x));
}

void check_value(std::string_view v) {
  std::uint64_t index = 0;
  const auto ec_index = consul::parse_consul_index(v, index);
  const auto want_index = ref_u64(v);
  FUZZ_CHECK(!ec_index == want_index.has_value());
  if (ec_index) FUZZ_CHECK(ec_index == errc::bad_header);
  else FUZZ_CHECK(index == *want_index);

  bool leader = false;
  const auto ec_leader = consul::parse_known_leader(v, leader);
  const auto want_leader = ref_bool(v);
  FUZZ_CHECK(!ec_leader == want_leader.has_value());
  if (ec_leader) FUZZ_CHECK(ec_leader == errc::bad_header);
  else FUZZ_CHECK(leader == *want_leader);

  std::chrono::milliseconds contact{};
  const auto ec_contact = consul::parse_last_contact(v, contact);
  const auto want_contact = ref_ms(v);
  FUZZ_CHECK(!ec_contact == want_contact.has_value());
  if (ec_contact) FUZZ_CHECK(ec_contact == errc::bad_header);
  else FUZZ_CHECK(contact == *want_contact);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos <= input.size(); ++line_no) {
    auto end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() && pos > input.size()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos)
      headers.emplace_back(std::string(names[line_no % 3]), std::string(line));
    else
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }

  for (const auto& [name, value] : headers) {
    check_value(value);
    for (std::string_view canonical : names) {
      FUZZ_CHECK(consul::header_name_equals(name, canonical) == ref_name_equals(name, canonical));
      FUZZ_CHECK(consul::header_name_equals(canonical, name) == consul::header_name_equals(name, canonical));
    }
  }
  if (headers.size() >= 2) {
    const auto& a = headers[0].first;
    const auto& b = headers[1].first;
    FUZZ_CHECK(consul::header_name_equals(a, b) == ref_name_equals(a, b));
    FUZZ_CHECK(consul::header_name_equals(b, a) == ref_name_equals(a, b));
    FUZZ_CHECK(consul::header_name_equals(a, a));
  }

  // The reference: first matching header of each name, in the order the library reads them.
  consul::response_meta want;
  std::error_code want_ec;
  std::string_view want_bad;
  auto first = [&headers](std::string_view n) -> const std::string* {
    for (const auto& h : headers)
      if (ref_name_equals(h.first, n)) return &h.second;
    return nullptr;
  };
  if (const auto* v = first(names[0])) {
    if (auto x = ref_u64(*v)) want.index = *x;
    else want_ec = errc::bad_header, want_bad = names[0];
  }
  if (!want_ec)
    if (const auto* v = first(names[1])) {
      if (auto x = ref_bool(*v)) want.known_leader = *x;
      else want_ec = errc::bad_header, want_bad = names[1];
    }
  if (!want_ec)
    if (const auto* v = first(names[2])) {
      if (auto x = ref_ms(*v)) want.last_contact = *x;
      else want_ec = errc::bad_header, want_bad = names[2];
    }

  consul::response_meta got;
  std::string_view bad = "untouched";
  const auto ec = consul::parse_response_meta_from(headers, got, &bad);
  FUZZ_CHECK(ec == want_ec);
  if (ec) {
    FUZZ_CHECK(bad == want_bad);
  } else {
    FUZZ_CHECK(bad == "untouched");
    FUZZ_CHECK(got == want);
  }
  // Without bad_name it behaves the same.
  consul::response_meta got2;
  FUZZ_CHECK(consul::parse_response_meta_from(headers, got2) == want_ec);
  if (!want_ec) FUZZ_CHECK(got2 == want);
  return 0;
}
