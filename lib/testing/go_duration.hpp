// Go's time.ParseDuration, which Consul applies to `?wait=`: the library's `parse_duration`, plus a '-' sign.
//
// Thread safety: pure; any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace coalias::testing::detail {

/// Parses "300ms", "-1.5h", "2h45m", "0" and the like (units ns, us, µs, μs, ms, s, m, h; a unit on every
/// number except a lone "0"). Overflow or bad syntax yields std::nullopt, as Go returns an error.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) noexcept;

}  // namespace coalias::testing::detail
