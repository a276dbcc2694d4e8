#include "cluster_state.hpp"

#include "json_writer.hpp"
#include "core/ascii.hpp"

#include <algorithm>
#include <cstdio>

namespace coalias::testing::detail {
namespace {

using coalias::detail::ascii_iequals;
using coalias::detail::ascii_lower;

std::uint64_t fnv1a(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = 14695981039346656037ULL ^ seed;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// A stable UUID-shaped ID for a node registered without one, so answers are reproducible.
std::string derived_node_id(std::string_view name) {
  const std::string lower = ascii_lower(name);
  const std::uint64_t a = fnv1a(lower, 0);
  const std::uint64_t b = fnv1a(lower, 0x9E3779B97F4A7C15ULL);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

void append_string_array(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
  out += ',';
}

void append_field(std::string& out, std::string_view key, std::uint64_t value) {
  append_key(out, key);
  out += std::to_string(value);
  out += ',';
}

}  // namespace

cluster_state::cluster_state(std::uint64_t initial_index)
    : raft_(initial_index), checks_index_(initial_index), catalog_index_(initial_index) {}

cluster_state::node_row* cluster_state::find(std::string_view name_or_id) {
  return const_cast<node_row*>(static_cast<const cluster_state&>(*this).find(name_or_id));
}

const cluster_state::node_row* cluster_state::find(std::string_view name_or_id) const {
  if (const auto it = nodes_.find(ascii_lower(name_or_id)); it != nodes_.end()) return &it->second;
  // Consul also accepts a node ID where a node name is expected.
  for (const auto& [key, row] : nodes_) {
    if (ascii_iequals(row.info.id, name_or_id)) return &row;
  }
  return nullptr;
}

cluster_state::node_row& cluster_state::ensure_node(std::string_view name, std::uint64_t index) {
  auto [it, inserted] = nodes_.try_emplace(ascii_lower(name));
  if (inserted) {
    it->second.info = node_info{std::string(name), derived_node_id(name), "127.0.0.1"};
    by_exact_name_.emplace(it->second.info.name, it);
    it->second.create_index = it->second.modify_index = index;
    catalog_index_ = index;
    catalog_changed(it->second, index);
  }
  return it->second;
}

void cluster_state::ensure_service(node_row& node, const std::string& id, const std::string& name,
                                   std::uint64_t index) {
  auto [it, inserted] = node.services.try_emplace(id);
  if (inserted) {
    it->second.svc = service{id, name};
    it->second.create_index = it->second.modify_index = index;
    catalog_index_ = index;
    catalog_changed(node, index);
    service_index_.insert_or_assign(name, index);
  }
}

void cluster_state::catalog_changed(const node_row& node, std::uint64_t index) {
  node_catalog_index_.insert_or_assign(ascii_lower(node.info.name), index);
}

void cluster_state::all_services_changed(const node_row& node, std::uint64_t index) {
  for (const auto& [id, s] : node.services) service_index_.insert_or_assign(s.svc.name, index);
}

void cluster_state::checks_changed(node_row& node, std::string_view service_id, std::uint64_t index) {
  checks_index_ = index;
  node.checks_index = index;
  node_checks_index_.insert_or_assign(ascii_lower(node.info.name), index);
  if (service_id.empty()) {
    all_services_changed(node, index);  // a node-level check is part of every instance on the node
  } else if (const auto s = node.services.find(std::string(service_id)); s != node.services.end()) {
    service_index_.insert_or_assign(s->second.svc.name, index);
  }
}

void cluster_state::add_node(std::string name, std::string address, std::string id) {
  const std::uint64_t index = ++raft_;
  if (id.empty()) id = derived_node_id(name);
  node_row& row = ensure_node(name, index);
  node_info wanted{std::move(name), std::move(id), std::move(address)};
  if (row.info.name != wanted.name || row.info.id != wanted.id || row.info.address != wanted.address) {
    if (row.info.name != wanted.name) {  // the same node in another case: its exact name changes
      by_exact_name_.erase(row.info.name);
      by_exact_name_.emplace(wanted.name, nodes_.find(ascii_lower(wanted.name)));
    }
    row.info = std::move(wanted);
    row.modify_index = index;
    catalog_index_ = index;
    catalog_changed(row, index);
    all_services_changed(row, index);
  }
}

bool cluster_state::remove_node(std::string_view name) {
  const std::uint64_t index = ++raft_;
  const auto it = nodes_.find(ascii_lower(name));
  if (it == nodes_.end()) return false;
  if (!it->second.checks.empty()) checks_changed(it->second, "", index);
  all_services_changed(it->second, index);
  catalog_changed(it->second, index);
  by_exact_name_.erase(it->second.info.name);
  nodes_.erase(it);
  catalog_index_ = index;
  return true;
}

void cluster_state::add_service(std::string_view node, const service& svc, std::vector<std::string> tags,
                                std::uint16_t port) {
  const std::uint64_t index = ++raft_;
  node_row& row = ensure_node(node, index);
  auto [it, inserted] = row.services.try_emplace(svc.id);
  service_row& s = it->second;
  if (inserted) s.create_index = index;
  if (inserted || s.svc != svc || s.tags != tags || s.port != port) {
    const bool shown_in_checks = !inserted && (s.svc.name != svc.name || s.tags != tags);
    if (!inserted && s.svc.name != svc.name) service_index_.insert_or_assign(s.svc.name, index);
    s.svc = svc;
    s.tags = std::move(tags);
    s.port = port;
    s.modify_index = index;
    catalog_index_ = index;
    catalog_changed(row, index);
    service_index_.insert_or_assign(svc.name, index);
    // The checks of the service carry its name and tags: their rows change with it.
    const bool has_checks = std::any_of(row.checks.begin(), row.checks.end(),
                                        [&](const auto& kv) { return kv.second.check.service_id == svc.id; });
    if (shown_in_checks && has_checks) checks_changed(row, svc.id, index);
  }
}

bool cluster_state::remove_service(std::string_view node, std::string_view service_id) {
  const std::uint64_t index = ++raft_;
  node_row* row = find(node);
  if (row == nullptr) return false;
  const auto it = row->services.find(std::string(service_id));
  if (it == row->services.end()) return false;
  // Consul deletes the service's checks with it.
  const auto erased = std::erase_if(row->checks, [&](const auto& kv) { return kv.second.check.service_id == service_id; });
  if (erased > 0) checks_changed(*row, service_id, index);
  service_index_.insert_or_assign(it->second.svc.name, index);
  row->services.erase(it);
  catalog_index_ = index;
  catalog_changed(*row, index);
  return true;
}

void cluster_state::set_check(const health_check& check, std::string type) {
  const std::uint64_t index = ++raft_;
  node_row& row = ensure_node(check.node, index);
  if (!check.service_id.empty()) ensure_service(row, check.service_id, check.service_name, index);
  auto [it, inserted] = row.checks.try_emplace(check.check_id);
  check_row& c = it->second;
  health_check stored = check;
  stored.node = row.info.name;
  if (inserted) c.create_index = index;
  if (inserted || c.check != stored || c.type != type) {
    if (!inserted && c.check.service_id != stored.service_id) checks_changed(row, c.check.service_id, index);
    c.check = std::move(stored);
    c.type = std::move(type);
    c.modify_index = index;
    checks_changed(row, check.service_id, index);
  }
}

bool cluster_state::update_check_status(std::string_view node, std::string_view check_id, status s,
                                        std::string output) {
  const std::uint64_t index = ++raft_;
  node_row* row = find(node);
  if (row == nullptr) return false;
  const auto it = row->checks.find(std::string(check_id));
  if (it == row->checks.end()) return false;
  health_check& c = it->second.check;
  if (c.status != s || c.output != output) {  // an unchanged check keeps its ModifyIndex, as in Consul
    c.status = s;
    c.output = std::move(output);
    it->second.modify_index = index;
    checks_changed(*row, c.service_id, index);
  }
  return true;
}

bool cluster_state::remove_check(std::string_view node, std::string_view check_id) {
  const std::uint64_t index = ++raft_;
  node_row* row = find(node);
  if (row == nullptr) return false;
  const auto it = row->checks.find(std::string(check_id));
  if (it == row->checks.end()) return false;
  const std::string service_id = it->second.check.service_id;
  row->checks.erase(it);
  checks_changed(*row, service_id, index);
  return true;
}

std::uint64_t cluster_state::watched_index(const watch_key& key) const {
  auto lookup = [](const auto& map, std::string_view k) -> std::uint64_t {
    const auto it = map.find(k);
    return it == map.end() ? 0 : it->second;
  };
  switch (key.what) {
    case watch_key::scope::checks_table:
      return checks_index_;
    case watch_key::scope::node_checks:
    case watch_key::scope::node_catalog: {
      const node_row* row = find(key.name);  // a name or an ID
      const std::string k = ascii_lower(row != nullptr ? std::string_view(row->info.name) : std::string_view(key.name));
      return lookup(key.what == watch_key::scope::node_checks ? node_checks_index_ : node_catalog_index_, k);
    }
    case watch_key::scope::service:
      return lookup(service_index_, key.name);
  }
  return 0;
}

std::uint64_t cluster_state::service_report_index(std::string_view name) const {
  for (const auto& [key, row] : nodes_) {
    for (const auto& [id, s] : row.services) {
      if (s.svc.name == name) {
        const auto it = service_index_.find(name);
        return it == service_index_.end() ? 0 : it->second;
      }
    }
  }
  return std::max(catalog_index_, checks_index_);
}

std::optional<node_info> cluster_state::find_node(std::string_view name) const {
  const node_row* row = find(name);
  if (row == nullptr) return std::nullopt;
  return row->info;
}

std::vector<health_check> cluster_state::checks(std::string_view node) const {
  std::vector<health_check> out;
  if (const node_row* row = find(node)) {
    for (const auto& [id, c] : row->checks) out.push_back(c.check);
  }
  return out;
}

const std::vector<std::string_view>& check_selectors() {
  static const std::vector<std::string_view> names{"Node",   "CheckID",   "Name",        "Status", "Notes",
                                                   "Output", "ServiceID", "ServiceName", "Type"};
  return names;
}

const std::vector<std::string_view>& service_node_selectors() {
  static const std::vector<std::string_view> names{"Node.ID",    "Node.Node",       "Node.Address", "Node.Datacenter",
                                                   "Service.ID", "Service.Service", "Service.Address"};
  return names;
}

void cluster_state::append_check_json(std::string& out, const node_row& row, const check_row& c) const {
  const health_check& h = c.check;
  const service_row* svc = nullptr;
  if (const auto s = row.services.find(h.service_id); !h.service_id.empty() && s != row.services.end()) {
    svc = &s->second;
  }
  out += '{';
  append_field(out, "Node", row.info.name);
  append_field(out, "CheckID", h.check_id);
  append_field(out, "Name", h.name);
  append_field(out, "Status", to_string(h.status));
  append_field(out, "Notes", h.notes);
  append_field(out, "Output", h.output);
  append_field(out, "ServiceID", h.service_id);
  append_field(out, "ServiceName", svc != nullptr ? std::string_view(svc->svc.name) : h.service_name);
  append_key(out, "ServiceTags");
  append_string_array(out, svc != nullptr ? svc->tags : std::vector<std::string>{});
  out += ',';
  append_field(out, "Type", c.type);
  out += "\"ExposedPort\":0,\"Definition\":{},";
  append_field(out, "CreateIndex", c.create_index);
  append_key(out, "ModifyIndex");
  out += std::to_string(c.modify_index);
  out += '}';
}

namespace {

// A check row as a filter sees it.
field_reader check_fields(const std::string& node, const health_check& h, std::string_view service_name,
                          const std::string& type) {
  return [&node, &h, service_name, &type](std::string_view sel) -> std::optional<std::string_view> {
    if (sel == "Node") return node;
    if (sel == "CheckID") return h.check_id;
    if (sel == "Name") return h.name;
    if (sel == "Status") return to_string(h.status);
    if (sel == "Notes") return h.notes;
    if (sel == "Output") return h.output;
    if (sel == "ServiceID") return h.service_id;
    if (sel == "ServiceName") return service_name;
    if (sel == "Type") return type;
    return std::nullopt;
  };
}

}  // namespace

std::string cluster_state::health_node_json(std::string_view node, const filter_expr* filter) const {
  std::string out = "[";
  const node_row* row = find(node);
  if (row != nullptr) {
    bool first = true;
    for (const auto& [id, c] : row->checks) {
      if (filter != nullptr) {
        const auto s = row->services.find(c.check.service_id);
        const std::string_view service_name = s != row->services.end() ? std::string_view(s->second.svc.name)
                                                                        : std::string_view(c.check.service_name);
        if (!filter->matches(check_fields(row->info.name, c.check, service_name, c.type))) continue;
      }
      if (!first) out += ',';
      first = false;
      append_check_json(out, *row, c);
    }
  }
  out += ']';
  return out;
}

void cluster_state::append_health_state_json(std::string& out, std::string_view state,
                                             const filter_expr* filter) const {
  // A filter that only names nodes (a client's group query) is answered from the node index: the same rows in the
  // same order as testing every row, at the cost of the nodes named rather than of the whole datacenter.
  // The names come in nodes_' order (lower-cased), so the rows do too, as the scan of every row below would answer.
  std::vector<const node_row*> named;
  const auto* names = filter != nullptr ? filter->equality_values("Node") : nullptr;
  if (names != nullptr) {
    named.reserve(names->size());
    for (const auto& name : *names) {
      if (const auto it = by_exact_name_.find(name); it != by_exact_name_.end()) named.push_back(&it->second->second);
    }
  }
  out += '[';
  bool first = true;
  if (names != nullptr && state == "any") {
    std::vector<const std::string*> parts;
    parts.reserve(named.size());
    std::size_t size = 2;
    for (const node_row* row : named) {
      const std::string& rows = any_rows_json(*row);
      if (rows.empty()) continue;
      parts.push_back(&rows);
      size += rows.size() + 1;
    }
    out.reserve(out.size() + size);
    for (const auto* rows : parts) {
      if (!first) out += ',';
      first = false;
      out += *rows;
    }
    out += ']';
    return;
  }
  if (names != nullptr) {
    for (const node_row* row : named) {
      for (const auto& [id, c] : row->checks) {
        if (to_string(c.check.status) != state) continue;
        if (!first) out += ',';
        first = false;
        append_check_json(out, *row, c);
      }
    }
    out += ']';
    return;
  }
  for (const auto& [key, row] : nodes_) {
    for (const auto& [id, c] : row.checks) {
      if (state != "any" && to_string(c.check.status) != state) continue;
      if (filter != nullptr) {
        const auto s = row.services.find(c.check.service_id);
        const std::string_view service_name = s != row.services.end() ? std::string_view(s->second.svc.name)
                                                                       : std::string_view(c.check.service_name);
        if (!filter->matches(check_fields(row.info.name, c.check, service_name, c.type))) continue;
      }
      if (!first) out += ',';
      first = false;
      append_check_json(out, row, c);
    }
  }
  out += ']';
}

const std::string& cluster_state::any_rows_json(const node_row& row) const {
  auto& cached = row.any_rows;
  if (cached.checks_index != row.checks_index || cached.create_index != row.create_index ||
      cached.modify_index != row.modify_index || (cached.json.empty() && !row.checks.empty())) {
    cached.checks_index = row.checks_index;
    cached.create_index = row.create_index;
    cached.modify_index = row.modify_index;
    cached.json.clear();
    for (const auto& [id, c] : row.checks) {
      if (!cached.json.empty()) cached.json += ',';
      append_check_json(cached.json, row, c);
    }
  }
  return cached.json;
}

void cluster_state::append_node_json(std::string& out, const node_row& row, std::string_view datacenter) const {
  out += '{';
  append_field(out, "ID", row.info.id);
  append_field(out, "Node", row.info.name);
  append_field(out, "Address", row.info.address);
  append_field(out, "Datacenter", datacenter);
  out += "\"TaggedAddresses\":{},\"Meta\":{},";
  append_field(out, "CreateIndex", row.create_index);
  append_key(out, "ModifyIndex");
  out += std::to_string(row.modify_index);
  out += '}';
}

namespace {

void append_service_json(std::string& out, const service& svc, const std::vector<std::string>& tags,
                         std::uint16_t port, std::uint64_t create_index, std::uint64_t modify_index) {
  out += '{';
  append_field(out, "ID", svc.id);
  append_field(out, "Service", svc.name);
  append_key(out, "Tags");
  append_string_array(out, tags);
  out += ',';
  append_field(out, "Address", "");
  out += "\"TaggedAddresses\":{},\"Meta\":{},";
  append_field(out, "Port", port);
  out += "\"Weights\":{\"Passing\":1,\"Warning\":1},\"EnableTagOverride\":false,";
  append_field(out, "CreateIndex", create_index);
  append_key(out, "ModifyIndex");
  out += std::to_string(modify_index);
  out += '}';
}

}  // namespace

std::string cluster_state::health_service_json(std::string_view name, bool passing_only, const filter_expr* filter,
                                               std::string_view datacenter) const {
  std::string out = "[";
  bool first = true;
  // Named references, not structured bindings: clang 14 cannot capture those in the lambdas below.
  for (const auto& node_entry : nodes_) {
    const auto& row = node_entry.second;
    for (const auto& service_entry : row.services) {
      const auto& id = service_entry.first;
      const auto& s = service_entry.second;
      if (s.svc.name != name) continue;
      auto belongs = [&](const check_row& c) { return c.check.service_id.empty() || c.check.service_id == id; };
      if (passing_only && std::any_of(row.checks.begin(), row.checks.end(), [&](const auto& kv) {
            return belongs(kv.second) && kv.second.check.status != status::passing;
          }))
        continue;
      if (filter != nullptr && !filter->matches([&](std::string_view sel) -> std::optional<std::string_view> {
            if (sel == "Node.ID") return row.info.id;
            if (sel == "Node.Node") return row.info.name;
            if (sel == "Node.Address") return row.info.address;
            if (sel == "Node.Datacenter") return datacenter;
            if (sel == "Service.ID") return s.svc.id;
            if (sel == "Service.Service") return s.svc.name;
            if (sel == "Service.Address") return std::string_view();
            return std::nullopt;
          }))
        continue;
      if (!first) out += ',';
      first = false;
      out += "{\"Node\":";
      append_node_json(out, row, datacenter);
      out += ",\"Service\":";
      append_service_json(out, s.svc, s.tags, s.port, s.create_index, s.modify_index);
      out += ",\"Checks\":[";
      bool first_check = true;
      for (const auto& [check_id, c] : row.checks) {
        if (!belongs(c)) continue;
        if (!first_check) out += ',';
        first_check = false;
        append_check_json(out, row, c);
      }
      out += "]}";
    }
  }
  out += ']';
  return out;
}

std::string cluster_state::catalog_node_json(std::string_view node, std::string_view datacenter) const {
  const node_row* row = find(node);
  if (row == nullptr) return "null";
  std::string out = "{\"Node\":";
  append_node_json(out, *row, datacenter);
  out += ",\"Services\":{";
  bool first = true;
  for (const auto& [id, s] : row->services) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, id);
    out += ':';
    append_service_json(out, s.svc, s.tags, s.port, s.create_index, s.modify_index);
  }
  out += "}}";
  return out;
}

}  // namespace coalias::testing::detail
