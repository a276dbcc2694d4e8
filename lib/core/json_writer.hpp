// JSON string escaping as Go's encoding/json does it (what Consul sends, byte for byte): the test server's bodies and
// the health endpoint's. Private to the library.
//
// Thread safety: pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace coalias::detail {

/// Appends `text` as a quoted JSON string: `"` and `\` escaped, \n \r \t short forms, other control characters
/// and the HTML-sensitive `<`, `>`, `&` as \u00XX, U+2028/U+2029 as \u2028/\u2029, and each byte of invalid
/// UTF-8 as \ufffd.
void append_json_string(std::string& out, std::string_view text);

}  // namespace coalias::detail
