// CONSUL_HTTP_ADDR's grammar, checked strictly enough that a bad value fails here and not as an odd URL later.
#include <coalias/consul_config.hpp>

#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <system_error>

namespace coalias {
namespace {

[[noreturn]] void fail(std::string_view why) { throw std::system_error(errc::bad_address, std::string(why)); }

bool is_alnum(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Input quoted in a message: bounded and printable, so a huge or binary value cannot flood a log line.
std::string quoted(std::string_view s) { return "'" + detail::error_excerpt(s, 32) + "'"; }

std::uint16_t parse_port(std::string_view p) {
  if (p.empty()) fail("empty port after ':'");
  if (p.size() > 5) fail("port " + quoted(p) + " is not in 1..65535");
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') fail("port " + quoted(p) + " is not a number");
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) fail("port " + quoted(p) + " is not in 1..65535");
  return static_cast<std::uint16_t>(v);
}

// Host names and IPv4 literals: letters, digits and "-._~" (underscores occur in real internal names).
void check_host_name(std::string_view h) {
  if (h.empty()) fail("empty host");
  for (char c : h)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~') fail("invalid character in host");
}

// Inside brackets: hex digits, ':' and '.', and an optional "%zone" suffix.
void check_ipv6(std::string_view h) {
  if (h.empty()) fail("empty host");
  const auto zone = h.find('%');
  const std::string_view addr = h.substr(0, zone);
  if (addr.find(':') == std::string_view::npos) fail("bracketed host is not an IPv6 address");
  for (char c : addr)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
      fail("invalid character in IPv6 address");
  if (zone != std::string_view::npos) {
    const std::string_view z = h.substr(zone + 1);
    if (z.empty()) fail("empty IPv6 zone");
    for (char c : z)
      if (!is_alnum(c) && c != '-' && c != '.' && c != '_' && c != '~') fail("invalid character in IPv6 zone");
  }
}

void parse_authority(std::string_view a, std::string& host, std::uint16_t& port) {
  if (a.empty()) fail("empty host");
  if (a.find('@') != std::string_view::npos) fail("user info (user@host) is not supported");
  port = 8500;
  if (a.front() == '[') {
    const auto close = a.find(']');
    if (close == std::string_view::npos) fail("missing ']' after IPv6 address");
    const std::string_view h = a.substr(1, close - 1);
    check_ipv6(h);
    host.assign(h);
    const std::string_view rest = a.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') fail("unexpected text after ']'");
      port = parse_port(rest.substr(1));
    }
    return;
  }
  const auto colon = a.find(':');
  if (colon != std::string_view::npos && a.find(':', colon + 1) != std::string_view::npos)
    fail("an IPv6 address must be written in brackets, e.g. [::1]:8500");
  const std::string_view h = a.substr(0, colon);
  check_host_name(h);
  host.assign(h);
  if (colon != std::string_view::npos) port = parse_port(a.substr(colon + 1));
}

// "/consul/" → "/consul"; "/" → "". Control characters, spaces, '?' and '#' have no place in a prefix.
std::string parse_prefix(std::string_view p) {
  for (char c : p) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) fail("invalid character in path prefix");
    if (c == '?' || c == '#') fail("a query or fragment is not allowed in the address");
  }
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return std::string(p);
}

}  // namespace

consul_address consul_address::parse(std::string_view text) {
  if (text.empty()) fail("empty address");
  consul_address out;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    if (text.find('/') != std::string_view::npos) fail("a path prefix needs an http:// or https:// scheme");
    parse_authority(text, out.host_, out.port_);
    return out;
  }

  const std::string_view scheme = text.substr(0, sep);
  const std::string_view rest = text.substr(sep + 3);
  if (detail::ascii_iequals(scheme, "unix")) {
    if (rest.empty()) fail("empty unix socket path");
    if (rest.find('\0') != std::string_view::npos) fail("NUL in unix socket path");
    out.kind_ = kind::unix_socket;
    out.host_ = "localhost";
    out.port_ = 0;
    out.unix_socket_.assign(rest);
    return out;
  }
  if (detail::ascii_iequals(scheme, "https")) {
    out.tls_ = true;
  } else if (!detail::ascii_iequals(scheme, "http")) {
    fail("unsupported scheme " + quoted(scheme) + " (expected http, https or unix)");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find_first_of("?#") != std::string_view::npos)
    fail("a query or fragment is not allowed in the address");
  parse_authority(authority, out.host_, out.port_);
  if (slash != std::string_view::npos) out.path_prefix_ = parse_prefix(rest.substr(slash));
  return out;
}

std::string consul_address::base_url() const {
  std::string url = tls_ ? "https://" : "http://";
  if (kind_ == kind::unix_socket) {
    url += "localhost";
  } else if (host_.find(':') != std::string::npos) {
    url += '[';
    for (char c : host_) {
      if (c == '%') url += "%25";  // a zone ID's '%' must be escaped inside a URL (RFC 6874)
      else url += c;
    }
    url += ']';
    url += ':' + std::to_string(port_);
  } else {
    url += host_ + ':' + std::to_string(port_);
  }
  url += path_prefix_;
  return url;
}

}  // namespace coalias
