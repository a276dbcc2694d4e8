#include "http/request.hpp"

#include "core/ascii.hpp"

namespace coalias::http {

std::optional<std::string_view> response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (coalias::detail::ascii_iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

}  // namespace coalias::http
