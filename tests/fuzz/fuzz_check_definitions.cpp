// libFuzzer target: parse_check_definitions on any bytes.
//
// Checks, beyond "no crash or sanitizer report":
//  - the only exception is config_error, whose message is one line starting with the file name;
//  - every definition has a non-empty id and name, an alias target, and ids unique within the file;
//  - parsing is deterministic.
#include <coalias/check_definitions.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace {

std::string outcome(std::string_view input) {
  try {
    const auto defs = coalias::parse_check_definitions(input, "fuzz.json");
    std::set<std::string> ids;
    std::string summary;
    for (const auto& d : defs) {
      FUZZ_CHECK(!d.alias.check_id.empty() && !d.alias.name.empty());
      FUZZ_CHECK(!d.alias.target.node.empty() || !d.alias.target.service_id.empty());
      FUZZ_CHECK(d.alias_node_is_agent == d.alias.target.node.empty());
      FUZZ_CHECK(d.file == "fuzz.json");
      FUZZ_CHECK(ids.insert(d.alias.check_id).second);
      summary += d.alias.check_id + '\0';
    }
    return summary;
  } catch (const coalias::config_error& e) {
    const std::string m = e.what();
    FUZZ_CHECK(m.rfind("fuzz.json: ", 0) == 0);
    FUZZ_CHECK(m.find('\n') == std::string::npos && m.find('\r') == std::string::npos);
    return "error: " + m;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(outcome(input) == outcome(input));
  return 0;
}
