#include "serve/routes.hpp"

#include "core/ascii.hpp"
#include "core/json_writer.hpp"
#include "http_server/http_request.hpp"

#include <algorithm>
#include <charconv>

namespace coalias::detail {
namespace {

constexpr std::string_view json_type = "application/json";
constexpr std::string_view text_type = "text/plain; charset=utf-8";
constexpr std::string_view metrics_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view health_prefix = "/health/";

// Consul's HTTP check reads 2xx as passing, 429 as warning, anything else as critical.
int code_for(status s) noexcept {
  switch (s) {
    case status::passing: return 200;
    case status::warning: return 429;
    case status::critical: break;
  }
  return 503;
}

const char* reason(int code) noexcept {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void append_check(std::string& out, const health_check& c) {
  out += "{\"id\":";
  append_json_string(out, c.check_id);
  out += ",\"status\":\"";
  out += to_string(c.status);
  out += "\",\"output\":";
  append_json_string(out, c.output);
  out += '}';
}

bool served(const endpoint_options& options, const health_check& c) { return !options.serves || options.serves(c); }

http_answer not_found() { return {404, text_type, "404 page not found\n"}; }

http_answer one_check(std::string_view segment, const local_state& state, const endpoint_options& options) {
  const auto id = http_server::percent_decode(segment, false);
  if (!id || id->empty()) return not_found();
  const auto check = state.check(*id);
  if (!check || !served(options, *check)) {
    return {404, text_type, "Unknown check ID \"" + error_excerpt(*id, 256) + "\"\n"};
  }
  http_answer a(code_for(check->status), json_type, {});
  append_check(a.body, *check);
  return a;
}

http_answer all_checks(const local_state& state, const endpoint_options& options) {
  http_answer a(200, json_type, "[");
  status worst = status::passing;
  bool first = true;
  for (const auto& check : state.checks()) {
    if (!served(options, *check)) continue;
    if (!first) a.body += ',';
    first = false;
    append_check(a.body, *check);
    worst = std::max(worst, check->status);
  }
  a.body += ']';
  a.status = code_for(worst);
  return a;
}

}  // namespace

http_answer answer(std::string_view method, std::string_view target, const local_state& state,
                   const endpoint_options& options) {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool is_health = path == "/health";
  const bool is_check = path.size() > health_prefix.size() && path.substr(0, health_prefix.size()) == health_prefix &&
                        path.find('/', health_prefix.size()) == std::string_view::npos;
  const bool is_metrics = path == "/metrics" && options.metrics;
  if (!is_health && !is_check && !is_metrics) return not_found();
  if (method != "GET" && method != "HEAD") {
    http_answer a(405, text_type, "405 method not allowed\n");
    a.allow_header = true;
    return a;
  }
  if (is_health) return all_checks(state, options);
  if (is_check) return one_check(path.substr(health_prefix.size()), state, options);
  return {200, metrics_type, options.metrics()};
}

http_answer error_answer(int status) {
  return {status, text_type, std::to_string(status) + ' ' + reason(status) + '\n'};
}

void append_wire(std::string& out, const http_answer& a, bool head_only, bool close, bool keep_alive_header) {
  char digits[24];
  out += "HTTP/1.1 ";
  out.append(digits, std::to_chars(digits, digits + sizeof digits, a.status).ptr);
  out += ' ';
  out += reason(a.status);
  out += "\r\nContent-Type: ";
  out += a.content_type;
  out += "\r\nContent-Length: ";
  out.append(digits, std::to_chars(digits, digits + sizeof digits, a.body.size()).ptr);
  out += "\r\n";
  if (a.allow_header) out += "Allow: GET, HEAD\r\n";
  if (close) {
    out += "Connection: close\r\n";
  } else if (keep_alive_header) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!head_only) out += a.body;
}

}  // namespace coalias::detail
