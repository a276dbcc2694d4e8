#include "http_server/http_request.hpp"

#include "core/ascii.hpp"

#include <charconv>

namespace coalias::http_server {
namespace {

using coalias::detail::ascii_iequals;
using coalias::detail::http_ows;
using coalias::detail::trim;

// RFC 9110 tchar: the characters allowed in methods and header names.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Visible ASCII, obs-text and tab are allowed in values; other control characters are not.
bool is_field_value(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True if any comma-separated token of `value` equals `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (ascii_iequals(trim(value.substr(0, comma), http_ows), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string_view> http_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii_iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

header_list parse_query(std::string_view query) {
  header_list params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;  // Go drops ';' pairs
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) continue;
    params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

std::optional<std::string_view> find_param(const header_list& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<http_request> parse_request_head(std::string_view head, std::size_t max_headers, head_error* why) {
  if (why != nullptr) *why = head_error::bad_request;
  http_request req;

  // Request line: METHOD SP target SP HTTP/1.x
  const auto eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return std::nullopt;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || target[0] != '/') return std::nullopt;
  for (char ch : target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) return std::nullopt;
  }
  if (version == "HTTP/1.1") {
    req.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    req.minor_version = 0;
  } else {
    return std::nullopt;
  }
  req.method = method;
  req.target = target;
  const auto qmark = target.find('?');
  auto path = percent_decode(target.substr(0, qmark), false);
  if (!path) return std::nullopt;
  req.path = std::move(*path);
  if (qmark != std::string_view::npos) req.query = target.substr(qmark + 1);

  // Header lines.
  std::optional<std::size_t> content_length;
  while (!head.empty()) {
    if (req.headers.size() >= max_headers) {
      if (why != nullptr) *why = head_error::too_many_headers;
      return std::nullopt;
    }
    const auto end = head.find("\r\n");
    const std::string_view field = head.substr(0, end);
    head = end == std::string_view::npos ? std::string_view() : head.substr(end + 2);
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = field.substr(0, colon);  // no space allowed before ':' (RFC 9112 5.1)
    const std::string_view value = trim(field.substr(colon + 1), http_ows);
    if (!is_token(name) || !is_field_value(value)) return std::nullopt;
    if (ascii_iequals(name, "Transfer-Encoding")) return std::nullopt;  // a GET API has no use for chunked bodies
    if (ascii_iequals(name, "Content-Length")) {
      std::size_t n = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) return std::nullopt;
      if (content_length && *content_length != n) return std::nullopt;
      content_length = n;
    }
    req.headers.emplace_back(name, value);
  }
  req.content_length = content_length.value_or(0);
  if (req.minor_version == 1 && !req.header("Host")) return std::nullopt;

  const auto connection = req.header("Connection");
  if (req.minor_version == 1) {
    req.keep_alive = !(connection && has_token(*connection, "close"));
  } else {
    req.keep_alive = connection && has_token(*connection, "keep-alive");
  }
  return req;
}

}  // namespace coalias::http_server
