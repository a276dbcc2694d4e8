#include "go_duration.hpp"

#include <cstdint>
#include <limits>

namespace coalias::testing::detail {
namespace {

// Nanoseconds per unit; the longest unit names come first so "ms" is not read as "m".
struct unit {
  std::string_view name;
  std::uint64_t ns;
};
constexpr unit units[] = {
    {"ns", 1},          {"us", 1000},          {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
    {"ms", 1000000},    {"s", 1000000000ULL},  {"m", 60000000000ULL}, {"h", 3600000000000ULL},
};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) noexcept {
  constexpr std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return std::nullopt;

  std::uint64_t total = 0;
  while (!s.empty()) {
    // Integer part, then an optional fraction; at least one digit overall.
    std::uint64_t whole = 0;
    std::size_t digits = 0;
    while (!s.empty() && is_digit(s[0])) {
      if (whole > (limit - static_cast<std::uint64_t>(s[0] - '0')) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(s[0] - '0');
      s.remove_prefix(1);
      ++digits;
    }
    double fraction = 0.0;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      double scale = 0.1;
      while (!s.empty() && is_digit(s[0])) {
        fraction += scale * (s[0] - '0');
        scale /= 10;
        s.remove_prefix(1);
        ++digits;
      }
    }
    if (digits == 0) return std::nullopt;

    const unit* found = nullptr;
    for (const unit& u : units) {
      if (s.substr(0, u.name.size()) == u.name) {
        found = &u;
        break;
      }
    }
    if (found == nullptr) return std::nullopt;
    s.remove_prefix(found->name.size());

    if (whole > limit / found->ns) return std::nullopt;
    const std::uint64_t part =
        whole * found->ns + static_cast<std::uint64_t>(fraction * static_cast<double>(found->ns));
    if (part > limit - total) return std::nullopt;
    total += part;
  }
  const auto value = static_cast<std::int64_t>(total);
  return std::chrono::nanoseconds(negative ? -value : value);
}

}  // namespace coalias::testing::detail
