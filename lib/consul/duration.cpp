// Go's time.ParseDuration, minus negative values, with errors that say what is wrong.
#include <coalias/duration.hpp>

#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <cstdint>
#include <limits>

namespace coalias {
namespace {

using std::chrono::nanoseconds;

constexpr std::uint64_t max_ns = static_cast<std::uint64_t>(std::numeric_limits<nanoseconds::rep>::max());

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Nanoseconds per unit; 0 for an unknown unit. Both micro signs are accepted, as Go does.
std::uint64_t unit_ns(std::string_view unit) noexcept {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60ULL * 1'000'000'000;
  if (unit == "h") return 3600ULL * 1'000'000'000;
  return 0;
}

// Why `text` is not a duration, or nullptr. Leaves the value in `out` only on success.
const char* parse(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return "empty duration";
  if (s == "0") { out = 0; return nullptr; }  // the only unitless value Go accepts
  if (s.front() == '-') return "negative duration";
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return "sign without a number";

  std::uint64_t total = 0;
  while (!s.empty()) {
    // Integer part: may overflow long before the unit is known, so stop at max_ns.
    std::uint64_t whole = 0;
    std::size_t i = 0;
    bool any_digit = false;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      any_digit = true;
      const std::uint64_t d = static_cast<std::uint64_t>(s[i] - '0');
      if (whole > (max_ns - d) / 10) return "duration out of range";
      whole = whole * 10 + d;
    }
    // Fraction: keep at most 18 digits' worth of precision (more cannot change a nanosecond count).
    std::uint64_t frac = 0;
    double scale = 1;
    bool has_dot = false;
    if (i < s.size() && s[i] == '.') {
      has_dot = true;
      for (++i; i < s.size() && is_digit(s[i]); ++i) {
        any_digit = true;
        if (frac < 100'000'000'000'000'000ULL) {
          frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!any_digit) return has_dot ? "'.' without digits" : "expected a number";

    std::size_t j = i;
    while (j < s.size() && !is_digit(s[j]) && s[j] != '.') ++j;
    if (j == i) return "missing unit (ns, us, ms, s, m, h)";
    const std::uint64_t unit = unit_ns(s.substr(i, j - i));
    if (unit == 0) return "unknown unit (expected ns, us, ms, s, m or h)";

    if (whole > max_ns / unit) return "duration out of range";
    std::uint64_t part = whole * unit;
    if (frac != 0) {
      const double extra = static_cast<double>(frac) * (static_cast<double>(unit) / scale);
      const auto add = static_cast<std::uint64_t>(extra);  // truncates like Go
      if (add > max_ns - part) return "duration out of range";
      part += add;
    }
    if (part > max_ns - total) return "duration out of range";
    total += part;
    s.remove_prefix(j);
  }
  out = total;
  return nullptr;
}

}  // namespace

std::error_code parse_duration(std::string_view text, nanoseconds& out) noexcept {
  std::uint64_t ns = 0;
  if (parse(text, ns) != nullptr) return errc::bad_duration;
  out = nanoseconds(static_cast<nanoseconds::rep>(ns));
  return {};
}

nanoseconds parse_duration(std::string_view text) {
  std::uint64_t ns = 0;
  if (const char* why = parse(text, ns)) {
    throw std::system_error(errc::bad_duration, "duration \"" + detail::error_excerpt(text, 64) + "\": " + why);
  }
  return nanoseconds(static_cast<nanoseconds::rep>(ns));
}

std::string format_wait(nanoseconds wait) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  if (wait.count() > 0 && ms == 0) ms = 1;
  if (ms < 0) ms = 0;
  return std::to_string(ms) + "ms";
}

}  // namespace coalias
