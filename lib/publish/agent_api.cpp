#include "publish/agent_api.hpp"

#include "core/json_writer.hpp"
#include "consul/url.hpp"
#include "core/ascii.hpp"
#include "remote/consul_api.hpp"

#include <coalias/duration.hpp>

#include <algorithm>
#include <cstdio>

namespace coalias::publish {
namespace {

void append_field(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) out += ',';
  coalias::detail::append_json_string(out, key);  // Go's escaping: any bytes of a check's output make valid JSON
  out += ':';
  coalias::detail::append_json_string(out, value);
}

}  // namespace

agent_api::agent_api(const asio::any_io_executor& ex, consul_config config)
    : config_(std::move(config)), client_(ex, [&] {
        http::client_options o;
        o.max_connections_per_host = config_.max_connections;
        return o;
      }()) {}

std::string agent_api::check_path(std::string_view action, std::string_view check_id) {
  std::string path = "/v1/agent/check/" + std::string(action);
  if (consul::append_path_segment(path, check_id)) {
    // "." or "..": every byte escaped, so the segment can never vanish or climb a level.
    for (const char c : check_id) {
      char esc[4];
      std::snprintf(esc, sizeof esc, "%%%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      path += esc;
    }
  }
  return path;
}

std::string agent_api::register_body(const published_check& check, std::chrono::milliseconds ttl, status s,
                                     std::string_view output) {
  std::string out = "{";
  append_field(out, "ID", check.check_id);
  append_field(out, "Name", check.name.empty() ? check.check_id : check.name);
  if (!check.notes.empty()) append_field(out, "Notes", check.notes);
  if (!check.service_id.empty()) append_field(out, "ServiceID", check.service_id);
  append_field(out, "TTL", format_wait(ttl));  // "<n>ms": Go duration text, as TTL takes it
  append_field(out, "Status", to_string(s));
  append_field(out, "Output", output);
  return out + "}";
}

std::string agent_api::update_body(status s, std::string_view output) {
  std::string out = "{";
  append_field(out, "Status", to_string(s));
  append_field(out, "Output", output);
  return out + "}";
}

http::request agent_api::make_request(std::string path, std::string body, std::chrono::milliseconds timeout) const {
  auto req = remote::consul_request(config_, config_.address.base_url() + path, config_.token, timeout);
  req.method = "PUT";
  req.body = std::move(body);
  req.max_body = 64 * 1024;  // the agent answers these with an empty body or one line of error
  return req;
}

put_outcome agent_api::outcome(std::error_code ec, http::response resp) const {
  const std::string& token = config_.token;
  put_outcome o;
  o.status = resp.status;
  if (ec) {
    o.reason = remote::redact(resp.error_detail.empty() ? ec.message() : resp.error_detail, token);
    return o;
  }
  o.ok = resp.status >= 200 && resp.status <= 299;
  o.body = std::move(resp.body);
  if (!o.ok) {
    const std::string_view body = o.body;
    const auto line = coalias::detail::error_excerpt(body.substr(0, body.find_first_of("\r\n")), 200);
    o.reason = remote::redact(
        "Unexpected response code: " + std::to_string(resp.status) + (line.empty() ? "" : " (" + line + ")"),
        token);
  }
  return o;
}

bool is_not_ttl(const put_outcome& o) {
  return o.status == 500 && o.body.find("does not have associated TTL") != std::string::npos;
}

}  // namespace coalias::publish
