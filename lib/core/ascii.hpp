// ASCII text helpers for protocol text: HTTP header names, URL schemes, Consul node names, error messages.
// Private to the library.
//
// Consul and HTTP fold case on ASCII letters only, so nothing here uses <cctype> or a locale: the answer must not
// change with the process's locale, and bytes of 0x80 and above (UTF-8) are never folded.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coalias::detail {

/// 'A'..'Z' become 'a'..'z'; every other byte stays as it is.
constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// `s` with its ASCII letters lower-cased: the key under which a case-insensitive name is stored.
std::string ascii_lower(std::string_view s);

/// Equal but for the case of ASCII letters.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

/// HTTP's optional whitespace around a field value (RFC 9110 OWS).
inline constexpr std::string_view http_ows = " \t";
/// The ASCII part of Go's strings.TrimSpace.
inline constexpr std::string_view ascii_space = " \t\n\v\f\r";

/// `s` without the leading and trailing bytes that are in `chars`.
std::string_view trim(std::string_view s, std::string_view chars = ascii_space) noexcept;

/// Outside text (a value, a body) shortened for an error message: at most `limit` bytes, control bytes (below
/// 0x20, and 0x7f) shown as '?', and "..." added when cut, so a huge or binary value cannot flood a log line or
/// break it in two. The caller adds any quotes.
std::string error_excerpt(std::string_view text, std::size_t limit);

}  // namespace coalias::detail
