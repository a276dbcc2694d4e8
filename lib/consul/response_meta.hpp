// Consul's blocking-query and consistency response headers. Private to the library.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <system_error>

namespace coalias::consul {

/// What a response says about itself.
struct response_meta {
  std::uint64_t index = 0;                               ///< X-Consul-Index; 0 when absent
  std::optional<bool> known_leader;                      ///< X-Consul-KnownLeader
  std::optional<std::chrono::milliseconds> last_contact;  ///< X-Consul-LastContact

  friend bool operator==(const response_meta&, const response_meta&) = default;
};

/// X-Consul-Index: an unsigned 64-bit decimal, nothing else (no sign, no hex, no overflow). Surrounding spaces
/// and tabs are HTTP's optional whitespace, not part of the value, and are ignored. `errc::bad_header` otherwise.
std::error_code parse_consul_index(std::string_view value, std::uint64_t& out) noexcept;

/// X-Consul-KnownLeader: exactly "true" or "false" (Consul writes Go's FormatBool); `errc::bad_header` otherwise.
std::error_code parse_known_leader(std::string_view value, bool& out) noexcept;

/// X-Consul-LastContact: milliseconds as an unsigned decimal; `errc::bad_header` otherwise.
std::error_code parse_last_contact(std::string_view value, std::chrono::milliseconds& out) noexcept;

/// Looks a header up by name (the caller matches case-insensitively); nullopt when absent. A string_view result
/// must stay valid until `parse_response_meta` returns.
using header_lookup = std::function<std::optional<std::string_view>(std::string_view name)>;

/// Fills `out` from the three headers. Absent headers leave their defaults. On a malformed value returns
/// `errc::bad_header` and, if `bad_name` is given, sets it to the header's canonical name.
std::error_code parse_response_meta(const header_lookup& lookup, response_meta& out,
                                    std::string_view* bad_name = nullptr);

/// ASCII case-insensitive equality for header names (HTTP/2 sends them lower-case).
bool header_name_equals(std::string_view a, std::string_view b) noexcept;

/// The value of the first pair in `headers` (any range of pair-likes with `.first`/`.second` convertible to
/// string_view, e.g. vector<pair<string, string>>) whose name matches `name` case-insensitively.
template <class Headers>
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers)
    if (header_name_equals(std::string_view(h.first), name)) return std::string_view(h.second);
  return std::nullopt;
}

/// `parse_response_meta` over a list of name/value pairs.
template <class Headers>
std::error_code parse_response_meta_from(const Headers& headers, response_meta& out,
                                         std::string_view* bad_name = nullptr) {
  return parse_response_meta([&headers](std::string_view n) { return find_header(headers, n); }, out, bad_name);
}

}  // namespace coalias::consul
