// Health status of a check, with Consul's wire strings.
//
// Thread safety: all functions are pure and may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace coalias {

/// A check's health, ordered from best to worst so that `std::max` picks the worse one.
enum class status : std::uint8_t { passing, warning, critical };

/// Consul's string for `s`: "passing", "warning" or "critical".
std::string_view to_string(status s) noexcept;

/// Parses one of Consul's status strings exactly (case-sensitive, as Consul's API is).
/// An unknown string yields `std::nullopt`: never a silent passing.
std::optional<status> parse_status(std::string_view text) noexcept;

}  // namespace coalias
