// coalias's error codes, in their own `std::error_category`, one message per value.
//
// Thread safety: pure; any thread.
#pragma once

#include <system_error>

namespace coalias {

enum class errc {
  unknown_service = 1,  ///< a service check names a service the local state does not hold
  unknown_check,        ///< no check with that ID
  alias_exists,         ///< the registry already holds an alias with that check ID
  shut_down,            ///< the registry or transport was shut down
  invalid_argument,     ///< a definition or configuration value is out of its domain
  bad_status,           ///< a status string is not passing, warning or critical
  malformed_json,       ///< a response body is not valid JSON
  unexpected_json,      ///< valid JSON of the wrong shape or type
  body_too_large,       ///< a response body exceeded the configured cap
  http_status,          ///< the server answered with a non-2xx status
  bad_header,           ///< a response header could not be parsed
  transport,            ///< the HTTP exchange failed (connect, TLS, timeout, truncated body)
  bad_address,          ///< a Consul address is not host:port, http://, https:// or unix://
  bad_duration,         ///< a duration is not in Consul's syntax
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace coalias

template <>
struct std::is_error_code_enum<coalias::errc> : std::true_type {};
