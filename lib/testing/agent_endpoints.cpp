#include "agent_endpoints.hpp"

#include "api_handler.hpp"
#include "go_duration.hpp"
#include "json_writer.hpp"
#include "server_impl.hpp"

#include "consul/json_parser.hpp"

#include "core/ascii.hpp"

#include <coalias/aggregate.hpp>  // go_quote: Go's %q, as Consul's errors quote IDs

#include <asio/post.hpp>

#include <simdjson.h>

#include <algorithm>

namespace coalias::testing::detail {
namespace {

using coalias::detail::ascii_lower;

constexpr std::string_view self_path = "/v1/agent/self";
constexpr std::string_view service_register_path = "/v1/agent/service/register";
constexpr std::string_view check_register_path = "/v1/agent/check/register";
constexpr std::string_view update_prefix = "/v1/agent/check/update/";
constexpr std::string_view deregister_prefix = "/v1/agent/check/deregister/";
constexpr std::size_t output_max_size = 4096;  // Consul's check_output_max_size default

http_response ok() { return text(200, ""); }

// A request body decoded as Go's encoding/json decodes into a struct: keys match case-insensitively, unknown keys
// are ignored, a wrong type is an error.
struct body_fields {
  std::map<std::string, simdjson::ondemand::json_type> types;  // by lower-cased key
  std::map<std::string, std::string> strings;
  std::map<std::string, double> numbers;
  std::vector<std::string> tags;
};

std::optional<body_fields> decode(std::string_view body, std::string& error) {
  if (coalias::detail::trim(body).empty()) {
    error = "EOF";
    return std::nullopt;
  }
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  body_fields out;
  auto fail = [&](simdjson::error_code e) {
    error = simdjson::error_message(e);
    return std::nullopt;
  };
  if (auto e = parser.iterate(padded).get(doc)) return fail(e);
  if (auto e = doc.get_object().get(object)) return fail(e);
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return fail(e);
    const std::string lower = ascii_lower(key);
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value)) return fail(e);
    simdjson::ondemand::json_type type;
    if (auto e = value.type().get(type)) return fail(e);
    out.types[lower] = type;
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view s;
      if (auto e = value.get_string().get(s)) return fail(e);
      out.strings[lower] = std::string(s);
    } else if (type == simdjson::ondemand::json_type::number) {
      double d = 0;
      if (auto e = value.get_double().get(d)) return fail(e);
      out.numbers[lower] = d;
    } else if (type == simdjson::ondemand::json_type::array && lower == "tags") {
      simdjson::ondemand::array items;
      if (auto e = value.get_array().get(items)) return fail(e);
      for (auto item : items) {
        std::string_view s;
        if (item.get_string().get(s)) {
          error = "json: cannot unmarshal non-string into Go struct field ServiceDefinition.Tags of type string";
          return std::nullopt;
        }
        out.tags.emplace_back(s);
      }
    }
  }
  if (!consul_json_detail::at_end(doc)) {
    error = "invalid character after top-level value";
    return std::nullopt;
  }
  return out;
}

// A string field, or an error naming it as Go does when the JSON type is wrong.
bool string_field(const body_fields& f, std::string_view key, std::string_view go_name, std::string& out,
                  std::string& error) {
  const std::string lower = ascii_lower(key);
  const auto t = f.types.find(lower);
  if (t == f.types.end() || t->second == simdjson::ondemand::json_type::null) return true;
  if (t->second != simdjson::ondemand::json_type::string) {
    error = "json: cannot unmarshal non-string into Go struct field " + std::string(go_name) + " of type string";
    return false;
  }
  out = f.strings.at(lower);
  return true;
}

// A duration field: a Go duration string or a number of nanoseconds (Consul's CheckDefinition accepts both).
bool duration_field(const body_fields& f, std::string_view key, std::chrono::nanoseconds& out, std::string& error) {
  const std::string lower = ascii_lower(key);
  if (const auto s = f.strings.find(lower); s != f.strings.end()) {
    const auto parsed = parse_go_duration(s->second);
    if (!parsed) {
      error = "time: invalid duration " + go_quote(s->second);
      return false;
    }
    out = *parsed;
  } else if (const auto n = f.numbers.find(lower); n != f.numbers.end()) {
    out = std::chrono::nanoseconds(static_cast<std::int64_t>(n->second));
  }
  return true;
}

// Consul's CheckTTL.SetStatus: bytes beyond the limit are cut (even inside a UTF-8 character) and counted.
std::string truncated(std::string output) {
  if (output.size() <= output_max_size) return output;
  const std::size_t total = output.size();
  output.resize(output_max_size);
  return output + " ... (captured " + std::to_string(output_max_size) + " of " + std::to_string(total) + " bytes)";
}

}  // namespace

bool is_agent_path(std::string_view path) noexcept {
  return path == self_path || path == service_register_path || path == check_register_path ||
         path.starts_with(update_prefix) || path.starts_with(deregister_prefix);
}

agent_endpoints::agent_endpoints(consul_test_server::impl& server) : server_(server), timer_(server.io()) {}

http_response agent_endpoints::answer(const http_request& req, std::string_view body) {
  const bool read = req.path == self_path;
  const std::string_view wanted = read ? "GET" : "PUT";
  const auto token = presented_token(req, parse_query(req.query));
  const bool denied = !server_.options_.acl_token.empty() && (!token || *token != server_.options_.acl_token);
  http_response r;
  if (req.method != wanted) {
    r = text(405, "method " + req.method + " not allowed");
    r.allow = std::string(wanted);
  } else if (read) {
    r = denied ? text(403, "ACL not found") : self();
  } else if (req.path == service_register_path) {
    r = register_service(body, denied);
  } else if (req.path == check_register_path) {
    r = register_check(body, denied);
  } else if (req.path.starts_with(update_prefix)) {
    r = update_check(std::string_view(req.path).substr(update_prefix.size()), body, denied);
  } else {
    r = denied ? text(403, "ACL not found")
               : deregister_check(std::string_view(req.path).substr(deregister_prefix.size()));
  }
  log(req, body, r.status);
  rearm();
  return r;
}

http_response agent_endpoints::self() const {
  const server_options& o = server_.options_;
  std::string out = "{\"Config\":{\"Datacenter\":";
  append_json_string(out, o.datacenter);
  out += ",\"NodeName\":";
  append_json_string(out, o.agent_node);
  out += ",\"Server\":true,\"Version\":\"1.15.4\"},\"Member\":{\"Name\":";
  append_json_string(out, o.agent_node);
  out += ",\"Addr\":\"127.0.0.1\",\"Port\":8301,\"Status\":1},\"Meta\":{}}";
  http_response r;
  r.body = std::move(out);
  return r;
}

http_response agent_endpoints::register_service(std::string_view body, bool denied) {
  std::string error, id, name;
  const auto f = decode(body, error);
  if (!f || !string_field(*f, "ID", "ServiceDefinition.ID", id, error) ||
      !string_field(*f, "Name", "ServiceDefinition.Name", name, error))
    return text(400, "Request decode failed: " + error);
  if (name.empty()) return text(400, "Missing service name");
  if (denied) return text(403, "ACL not found");
  if (id.empty()) id = name;
  std::uint16_t port = 0;
  if (const auto p = f->numbers.find("port"); p != f->numbers.end()) port = static_cast<std::uint16_t>(p->second);
  server_.mutate_state([&](cluster_state& s) {
    services_[id] = name;
    s.add_service(server_.options_.agent_node, service{id, name}, f->tags, port);
  });
  return ok();
}

http_response agent_endpoints::register_check(std::string_view body, bool denied) {
  std::string error, status_text, http, tcp, alias_node, alias_service;
  agent_check c;
  std::chrono::nanoseconds interval{0};
  const auto f = decode(body, error);
  if (!f || !string_field(*f, "ID", "CheckDefinition.ID", c.check_id, error) ||
      !string_field(*f, "Name", "CheckDefinition.Name", c.name, error) ||
      !string_field(*f, "Notes", "CheckDefinition.Notes", c.notes, error) ||
      !string_field(*f, "ServiceID", "CheckDefinition.ServiceID", c.service_id, error) ||
      !string_field(*f, "Status", "CheckDefinition.Status", status_text, error) ||
      !string_field(*f, "HTTP", "CheckDefinition.HTTP", http, error) ||
      !string_field(*f, "TCP", "CheckDefinition.TCP", tcp, error) ||
      !string_field(*f, "AliasNode", "CheckDefinition.AliasNode", alias_node, error) ||
      !string_field(*f, "AliasService", "CheckDefinition.AliasService", alias_service, error) ||
      !duration_field(*f, "TTL", c.ttl, error) || !duration_field(*f, "Interval", interval, error))
    return text(400, "Request decode failed: " + error);
  if (c.service_id.empty()) string_field(*f, "service_id", "", c.service_id, error);  // the snake_case spelling
  if (c.name.empty()) return text(400, "Missing check name");
  const auto parsed_status = status_text.empty() ? std::optional(status::critical) : parse_status(status_text);
  if (!parsed_status) return text(400, "Bad check status");
  if (denied) return text(403, "ACL not found");

  // CheckType.Validate, in Consul's order.
  const bool interval_check = !http.empty() || !tcp.empty();
  const bool alias = !alias_node.empty() || !alias_service.empty();
  std::string invalid;
  if (interval.count() > 0 && c.ttl.count() > 0) invalid = "Interval and TTL cannot both be specified";
  else if (interval_check && interval.count() <= 0)
    invalid = "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks";
  else if (interval_check && alias) invalid = "Interval cannot be set for Alias checks";
  else if (alias && c.ttl.count() > 0) invalid = "TTL must be not be set for Alias checks";
  else if (!interval_check && !alias && c.ttl.count() <= 0) invalid = "TTL must be > 0 for TTL checks";
  if (!invalid.empty()) return text(400, "Invalid check: " + invalid);

  if (c.check_id.empty()) c.check_id = c.name;
  c.type = alias ? "alias" : !http.empty() ? "http" : !tcp.empty() ? "tcp" : "ttl";
  if (c.type != "ttl") c.ttl = {};
  c.status = *parsed_status;  // a new check has no output: Consul ignores `Output` here
  return server_.mutate_state([&](cluster_state& s) {
    std::string service_name;
    if (!c.service_id.empty()) {
      const auto svc = services_.find(c.service_id);
      if (svc == services_.end()) return text(404, "ServiceID " + go_quote(c.service_id) + " does not exist");
      service_name = svc->second;
    }
    health_check h;
    h.node = server_.options_.agent_node;
    h.check_id = c.check_id;
    h.name = c.name;
    h.status = c.status;
    h.notes = c.notes;
    h.service_id = c.service_id;
    h.service_name = service_name;
    s.set_check(h, c.type);
    check_row& row = checks_[c.check_id];
    row = check_row{};
    row.info = c;
    if (c.type == "ttl") row.deadline = now() + c.ttl;
    return ok();
  });
}

http_response agent_endpoints::update_check(std::string_view id, std::string_view body, bool denied) {
  std::string error, status_text, output;
  const auto f = decode(body, error);
  if (!f || !string_field(*f, "Status", "checkUpdate.Status", status_text, error) ||
      !string_field(*f, "Output", "checkUpdate.Output", output, error))
    return text(400, "Request decode failed: " + error);
  const auto s = parse_status(status_text);
  if (!s) return text(400, "Invalid check status: '" + status_text + "'");
  if (denied) return text(403, "ACL not found");
  return server_.mutate_state([&](cluster_state& state) {
    const auto it = checks_.find(std::string(id));
    if (it == checks_.end())
      return text(404, "Unknown check ID " + go_quote(id) + ". Ensure that the check ID is passed, not the check name.");
    check_row& row = it->second;
    if (row.info.type != "ttl") return text(500, "CheckID " + go_quote(id) + " does not have associated TTL");
    row.info.status = *s;
    row.info.output = truncated(std::move(output));
    row.last_output = row.info.output;
    row.deadline = now() + row.info.ttl;
    state.update_check_status(server_.options_.agent_node, id, row.info.status, row.info.output);
    return ok();
  });
}

http_response agent_endpoints::deregister_check(std::string_view id) {
  return server_.mutate_state([&](cluster_state& state) {
    const auto it = checks_.find(std::string(id));
    if (it == checks_.end())
      return text(404, "Unknown check ID " + go_quote(id) + ". Ensure that the check ID is passed, not the check name.");
    checks_.erase(it);
    state.remove_check(server_.options_.agent_node, id);
    return ok();
  });
}

void agent_endpoints::expire_due(cluster_state& state) {
  const auto t = now();
  for (auto& [id, row] : checks_) {
    if (!row.deadline || *row.deadline > t) continue;
    row.deadline.reset();  // Consul's timer fires once; the next update re-arms it
    row.info.status = status::critical;
    row.info.output = row.last_output.empty() ? std::string("TTL expired")
                                              : "TTL expired (last output before timeout follows): " + row.last_output;
    state.update_check_status(server_.options_.agent_node, id, row.info.status, row.info.output);
  }
}

void agent_endpoints::rearm() {
  if (server_.stopping_) return;
  const auto earliest = server_.read_state([&](const cluster_state&) {
    std::optional<clock::time_point> first;
    for (const auto& [id, row] : checks_)
      if (row.deadline && (!first || *row.deadline < *first)) first = row.deadline;
    return first ? std::optional(*first - skew_) : std::nullopt;  // in real time
  });
  if (!earliest) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*earliest);
  timer_.async_wait([this](std::error_code ec) {
    if (ec || server_.stopping_) return;
    server_.mutate_state([&](cluster_state& s) { expire_due(s); });
    rearm();
  });
}

void agent_endpoints::stop() { timer_.cancel(); }

std::vector<agent_check> agent_endpoints::checks() const {
  return server_.read_state([&](const cluster_state&) {
    std::vector<agent_check> out;
    for (const auto& [id, row] : checks_) out.push_back(row.info);
    return out;
  });
}

void agent_endpoints::restart() {
  server_.mutate_state([&](cluster_state& state) {
    for (const auto& [id, row] : checks_) state.remove_check(server_.options_.agent_node, id);
    for (const auto& [id, name] : services_) state.remove_service(server_.options_.agent_node, id);
    checks_.clear();
    services_.clear();
  });
  asio::post(server_.io(), [this] { rearm(); });
}

void agent_endpoints::advance_clock(std::chrono::nanoseconds d) {
  server_.mutate_state([&](cluster_state& state) {
    skew_ += std::chrono::duration_cast<clock::duration>(d);
    expire_due(state);
  });
  asio::post(server_.io(), [this] { rearm(); });
}

void agent_endpoints::log(const http_request& req, std::string_view body, int status) {
  std::lock_guard lock(log_mutex_);
  if (req.method == "PUT") ++writes_;
  if (server_.options_.request_log_capacity == 0) return;
  if (log_.size() == server_.options_.request_log_capacity) log_.pop_front();
  agent_request entry;
  entry.method = req.method;
  entry.path = req.path;
  entry.body = std::string(body);
  entry.status = status;
  log_.push_back(std::move(entry));
}

std::vector<agent_request> agent_endpoints::requests() const {
  std::lock_guard lock(log_mutex_);
  return {log_.begin(), log_.end()};
}

std::uint64_t agent_endpoints::writes() const {
  std::lock_guard lock(log_mutex_);
  return writes_;
}

}  // namespace coalias::testing::detail
