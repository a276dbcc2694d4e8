// libFuzzer target: consul_json_parser::parse_health_node, the `/v1/health/node/:node` body parser.
// The input is the response body, as is.
//
// Beyond "no crash or sanitizer report", it checks what every body parser promises (json_invariants.hpp) and
// that every parsed status is a valid enumerator.
#include "json_invariants.hpp"

#include <coalias/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

bool valid_status(coalias::status s) {
  const auto v = static_cast<unsigned>(s);
  return v <= static_cast<unsigned>(coalias::status::critical) && coalias::parse_status(coalias::to_string(s)) == s;
}

bool valid(const std::vector<coalias::health_check>& checks) {
  for (const auto& c : checks)
    if (!valid_status(c.status)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json_invariants::check(
      std::string_view(reinterpret_cast<const char*>(data), size), &coalias::consul_json_parser::parse_health_node,
      [](std::string_view body) { return coalias::parse_health_node(body); }, valid);
  return 0;
}
