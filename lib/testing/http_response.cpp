#include "http_response.hpp"

namespace coalias::testing::detail {

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

http_response text(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.json = false;
  return r;
}

std::string serialize_head(const http_response& r, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + ' ' + reason_phrase(r.status) + "\r\n";
  out += r.json ? "Content-Type: application/json\r\n" : "Content-Type: text/plain; charset=utf-8\r\n";
  if (!r.allow.empty()) out += "Allow: " + r.allow + "\r\n";
  if (r.index) {
    // Names as Go's Header.Set canonicalises them: this is what Consul puts on the wire.
    out += r.stale ? "X-Consul-Effective-Consistency: stale\r\n" : "X-Consul-Effective-Consistency: leader\r\n";
    out += "X-Consul-Index: " + *r.index + "\r\n";
    out += "X-Consul-Knownleader: true\r\n";
    out += "X-Consul-Lastcontact: 0\r\n";
  }
  out += "Content-Length: " + std::to_string(r.body.size() + r.extra_claimed_bytes) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace coalias::testing::detail
