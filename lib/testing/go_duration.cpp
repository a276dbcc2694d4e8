#include "go_duration.hpp"

#include <coalias/duration.hpp>

namespace coalias::testing::detail {

// The library's parser refuses a negative duration (a client has no use for one) but Consul's server accepts it,
// so only the sign is handled here.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) noexcept {
  const bool negative = s.starts_with('-');
  if (negative || s.starts_with('+')) s.remove_prefix(1);
  if (s.starts_with('+')) return std::nullopt;  // one sign at most, as in Go
  std::chrono::nanoseconds d{};
  if (coalias::parse_duration(s, d)) return std::nullopt;
  return negative ? -d : d;
}

}  // namespace coalias::testing::detail
