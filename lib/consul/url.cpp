// Percent-encoding and the two request URLs.
#include "consul/url.hpp"

#include <coalias/duration.hpp>
#include <coalias/error.hpp>

namespace coalias::consul {
namespace {

bool is_unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void append_encoded(std::string& out, std::string_view s) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (char c : s) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xF];
    }
  }
}

// `dc`, `ns` and `partition`, in that order, each only when set.
void append_scope(std::string& url, const consul_config& c) {
  auto param = [&url](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    url += '&';
    url += name;
    url += '=';
    append_query_value(url, value);
  };
  param("dc", c.datacenter);
  param("ns", c.ns);
  param("partition", c.partition);
}

std::string endpoint(const consul_config& c, std::string_view path, std::string_view node) {
  std::string url = c.address.base_url();
  url += path;
  if (append_path_segment(url, node)) throw std::system_error(errc::invalid_argument, "node name is not a usable path segment");
  // `stale`: any server may answer, as Consul's alias check asks; it keeps working without a leader.
  url += "?stale";
  return url;
}

}  // namespace

std::error_code append_path_segment(std::string& out, std::string_view segment) {
  if (segment.empty() || segment == "." || segment == ".." || segment.find('\0') != std::string_view::npos)
    return errc::invalid_argument;
  append_encoded(out, segment);
  return {};
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  if (append_path_segment(out, segment)) throw std::system_error(errc::invalid_argument, "not a usable path segment");
  return out;
}

void append_query_value(std::string& out, std::string_view value) { append_encoded(out, value); }

std::string health_node_url(const consul_config& c, std::string_view node, std::uint64_t index,
                            std::chrono::nanoseconds wait) {
  std::string url = endpoint(c, "/v1/health/node/", node);
  if (index > 0) {
    url += "&index=" + std::to_string(index);
    if (wait.count() > 0) url += "&wait=" + format_wait(wait);
  }
  append_scope(url, c);
  return url;
}

std::string health_state_url(const consul_config& c, std::string_view state, std::string_view filter,
                             std::uint64_t index, std::chrono::nanoseconds wait) {
  std::string url = endpoint(c, "/v1/health/state/", state);
  if (!filter.empty()) {
    url += "&filter=";
    append_query_value(url, filter);
  }
  if (index > 0) {
    url += "&index=" + std::to_string(index);
    if (wait.count() > 0) url += "&wait=" + format_wait(wait);
  }
  append_scope(url, c);
  return url;
}

void append_bexpr_string(std::string& out, std::string_view value) {
  out += '"';
  for (const char ch : value) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
}

std::string catalog_node_url(const consul_config& c, std::string_view node) {
  std::string url = endpoint(c, "/v1/catalog/node/", node);
  append_scope(url, c);
  return url;
}

}  // namespace coalias::consul
