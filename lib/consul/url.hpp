// Request URLs for the Consul endpoints coalias reads. Private to the library.
//
// The ACL token never goes into a URL (URLs end up in logs and proxies); the HTTP layer sends it as X-Consul-Token.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <coalias/consul_config.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace coalias::consul {

/// Appends `segment` to `out` as one path segment: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) stay,
/// every other byte becomes `%XX` (upper-case hex), so '/', '?', '#', '%' cannot change the URL's structure.
/// Returns `errc::invalid_argument` (and leaves `out` unchanged) for "", "." or ".." (which would vanish or climb
/// to the parent path after normalisation) and for a segment containing NUL.
std::error_code append_path_segment(std::string& out, std::string_view segment);

/// Throwing form of `append_path_segment` returning the encoded segment: `std::system_error(errc::invalid_argument)`.
std::string encode_path_segment(std::string_view segment);

/// Appends `value` percent-encoded for a query parameter value (same unreserved set; a space is `%20`).
void append_query_value(std::string& out, std::string_view value);

/// `<base>/v1/health/node/<node>?stale[&index=N&wait=Nms][&dc=..][&ns=..][&partition=..]`.
/// `index` and `wait` are sent only when `index > 0` (a first, non-blocking read); `wait` only when positive, via
/// `format_wait`. Throws `std::system_error(errc::invalid_argument)` for a node name `append_path_segment` refuses.
std::string health_node_url(const consul_config& config, std::string_view node, std::uint64_t index,
                            std::chrono::nanoseconds wait);

/// `<base>/v1/health/state/<state>?stale&filter=<filter>[&index=N&wait=Nms][&dc=..][&ns=..][&partition=..]`, the
/// filter percent-encoded (omitted when empty); `index` and `wait` as for `health_node_url`.
std::string health_state_url(const consul_config& config, std::string_view state, std::string_view filter,
                             std::uint64_t index, std::chrono::nanoseconds wait);

/// Appends `value` to `out` as a go-bexpr double-quoted string: `"` and `\` escaped with a backslash.
void append_bexpr_string(std::string& out, std::string_view value);

/// `<base>/v1/catalog/node/<node>?stale[&dc=..][&ns=..][&partition=..]`. Throws like `health_node_url`.
std::string catalog_node_url(const consul_config& config, std::string_view node);

}  // namespace coalias::consul
