#include "cluster_state.hpp"

#include "json_writer.hpp"
#include "core/ascii.hpp"

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
    it->second.create_index = it->second.modify_index = index;
    catalog_index_ = index;
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
  }
}

void cluster_state::add_node(std::string name, std::string address, std::string id) {
  const std::uint64_t index = ++raft_;
  if (id.empty()) id = derived_node_id(name);
  node_row& row = ensure_node(name, index);
  node_info wanted{std::move(name), std::move(id), std::move(address)};
  if (row.info.name != wanted.name || row.info.id != wanted.id || row.info.address != wanted.address) {
    row.info = std::move(wanted);
    row.modify_index = index;
    catalog_index_ = index;
  }
}

bool cluster_state::remove_node(std::string_view name) {
  const std::uint64_t index = ++raft_;
  const auto it = nodes_.find(ascii_lower(name));
  if (it == nodes_.end()) return false;
  if (!it->second.checks.empty()) checks_index_ = index;
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
    s.svc = svc;
    s.tags = std::move(tags);
    s.port = port;
    s.modify_index = index;
    catalog_index_ = index;
  }
}

bool cluster_state::remove_service(std::string_view node, std::string_view service_id) {
  const std::uint64_t index = ++raft_;
  node_row* row = find(node);
  if (row == nullptr) return false;
  const auto it = row->services.find(std::string(service_id));
  if (it == row->services.end()) return false;
  row->services.erase(it);
  catalog_index_ = index;
  // Consul deletes the service's checks with it.
  const auto erased = std::erase_if(row->checks, [&](const auto& kv) { return kv.second.check.service_id == service_id; });
  if (erased > 0) checks_index_ = index;
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
    c.check = std::move(stored);
    c.type = std::move(type);
    c.modify_index = index;
    checks_index_ = index;
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
    checks_index_ = index;
  }
  return true;
}

bool cluster_state::remove_check(std::string_view node, std::string_view check_id) {
  const std::uint64_t index = ++raft_;
  node_row* row = find(node);
  if (row == nullptr) return false;
  if (row->checks.erase(std::string(check_id)) == 0) return false;
  checks_index_ = index;
  return true;
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

std::string cluster_state::health_node_json(std::string_view node) const {
  std::string out = "[";
  const node_row* row = find(node);
  if (row != nullptr) {
    bool first = true;
    for (const auto& [id, c] : row->checks) {
      if (!first) out += ',';
      first = false;
      const health_check& h = c.check;
      const service_row* svc = nullptr;
      if (const auto s = row->services.find(h.service_id); !h.service_id.empty() && s != row->services.end()) {
        svc = &s->second;
      }
      out += '{';
      append_field(out, "Node", row->info.name);
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
  }
  out += ']';
  return out;
}

std::string cluster_state::catalog_node_json(std::string_view node, std::string_view datacenter) const {
  const node_row* row = find(node);
  if (row == nullptr) return "null";
  std::string out = "{\"Node\":{";
  append_field(out, "ID", row->info.id);
  append_field(out, "Node", row->info.name);
  append_field(out, "Address", row->info.address);
  append_field(out, "Datacenter", datacenter);
  out += "\"TaggedAddresses\":{},\"Meta\":{},";
  append_field(out, "CreateIndex", row->create_index);
  append_key(out, "ModifyIndex");
  out += std::to_string(row->modify_index);
  out += "},\"Services\":{";
  bool first = true;
  for (const auto& [id, s] : row->services) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, id);
    out += ":{";
    append_field(out, "ID", s.svc.id);
    append_field(out, "Service", s.svc.name);
    append_key(out, "Tags");
    append_string_array(out, s.tags);
    out += ',';
    append_field(out, "Address", "");
    out += "\"TaggedAddresses\":{},\"Meta\":{},";
    append_field(out, "Port", s.port);
    out += "\"Weights\":{\"Passing\":1,\"Warning\":1},\"EnableTagOverride\":false,";
    append_field(out, "CreateIndex", s.create_index);
    append_key(out, "ModifyIndex");
    out += std::to_string(s.modify_index);
    out += '}';
  }
  out += "}}";
  return out;
}

}  // namespace coalias::testing::detail
