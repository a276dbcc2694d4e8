#include <coalias/status.hpp>

namespace coalias {

std::string_view to_string(status s) noexcept {
  switch (s) {
    case status::passing: return "passing";
    case status::warning: return "warning";
    case status::critical: return "critical";
  }
  return "critical";  // unreachable for valid enumerators; never report a corrupt value as healthy
}

std::optional<status> parse_status(std::string_view text) noexcept {
  if (text == "passing") return status::passing;
  if (text == "warning") return status::warning;
  if (text == "critical") return status::critical;
  return std::nullopt;
}

}  // namespace coalias
