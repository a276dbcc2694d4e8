// libFuzzer target: consul_json_parser::parse_catalog_node, the `/v1/catalog/node/:node` and
// `/v1/catalog/node-services/:node` body parser. The input is the response body, as is.
//
// Beyond "no crash or sanitizer report", it checks what every body parser promises (json_invariants.hpp) and
// that a node that is not found has no service IDs.
#include "json_invariants.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

bool valid(const coalias::catalog_node& node) { return node.found || node.service_ids.empty(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  json_invariants::check(
      std::string_view(reinterpret_cast<const char*>(data), size), &coalias::consul_json_parser::parse_catalog_node,
      [](std::string_view body) { return coalias::parse_catalog_node(body); }, valid);
  return 0;
}
