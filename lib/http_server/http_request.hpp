// The HTTP/1.x request head parser shared by the health endpoint (lib/serve) and the test server (lib/testing).
// Strict: anything it does not fully understand is a bad request, so a server never guesses what a client meant.
//
// Why our own parser rather than Debian's libhttp-parser: that library is archived upstream (Node moved to
// llhttp), it would become a run-time dependency of every libcoalias user, and its callback interface needs more
// glue than this whole file. This one was already strict and tested through the test server; it is bounded
// (head size by the caller's read, header count here) and fuzzed (tests/fuzz/fuzz_http_request.cpp).
//
// Thread safety: pure; any thread.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coalias::http_server {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  http_request() = default;

  std::string method;
  std::string target;  ///< exactly as received
  std::string path;    ///< percent-decoded path part of the target
  std::string query;   ///< raw query (after '?'), not decoded
  int minor_version = 1;
  header_list headers;
  std::size_t content_length = 0;
  bool keep_alive = true;

  /// First value of header `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

/// Why a head was refused: a server answers 400 or 431 (both close the connection).
enum class head_error { bad_request, too_many_headers };

inline constexpr std::size_t no_header_limit = std::numeric_limits<std::size_t>::max();

/// Parses a request head: the bytes before the blank line (CRLF-separated lines, no trailing CRLFCRLF).
/// Rejects: bad request line, target not starting with '/', versions other than HTTP/1.0 and 1.1, malformed
/// or folded header lines, control characters, bad or conflicting Content-Length, any Transfer-Encoding,
/// HTTP/1.1 without Host, invalid percent escapes in the path, and more than `max_headers` header lines
/// (`*why` says which, when given).
std::optional<http_request> parse_request_head(std::string_view head, std::size_t max_headers = no_header_limit,
                                               head_error* why = nullptr);

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Invalid escapes yield std::nullopt.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// The query parameters in order, decoded as Go's url.ParseQuery does; undecodable pairs are dropped.
header_list parse_query(std::string_view query);

/// First value of `key` in `params`, if the key is present (possibly with an empty value).
std::optional<std::string_view> find_param(const header_list& params, std::string_view key);

}  // namespace coalias::http_server
