// Strict parsing of Consul's response headers: a garbled index must not silently become 0 and reset a long-poll.
#include "consul/response_meta.hpp"

#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <limits>

namespace coalias::consul {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
  s = detail::trim(s, detail::http_ows);
  if (s.empty()) return false;
  std::uint64_t v = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace

bool header_name_equals(std::string_view a, std::string_view b) noexcept { return detail::ascii_iequals(a, b); }

std::error_code parse_consul_index(std::string_view value, std::uint64_t& out) noexcept {
  return parse_u64(value, out) ? std::error_code{} : make_error_code(errc::bad_header);
}

std::error_code parse_known_leader(std::string_view value, bool& out) noexcept {
  value = detail::trim(value, detail::http_ows);
  if (value == "true") out = true;
  else if (value == "false") out = false;
  else return errc::bad_header;
  return {};
}

std::error_code parse_last_contact(std::string_view value, std::chrono::milliseconds& out) noexcept {
  std::uint64_t v = 0;
  if (!parse_u64(value, v) || v > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max()))
    return errc::bad_header;
  out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(v));
  return {};
}

std::error_code parse_response_meta(const header_lookup& lookup, response_meta& out, std::string_view* bad_name) {
  auto failed = [bad_name](std::string_view name) {
    if (bad_name) *bad_name = name;
    return make_error_code(errc::bad_header);
  };
  if (auto v = lookup("X-Consul-Index"))
    if (parse_consul_index(*v, out.index)) return failed("X-Consul-Index");
  if (auto v = lookup("X-Consul-KnownLeader")) {
    bool b = false;
    if (parse_known_leader(*v, b)) return failed("X-Consul-KnownLeader");
    out.known_leader = b;
  }
  if (auto v = lookup("X-Consul-LastContact")) {
    std::chrono::milliseconds ms{};
    if (parse_last_contact(*v, ms)) return failed("X-Consul-LastContact");
    out.last_contact = ms;
  }
  return {};
}

}  // namespace coalias::consul
