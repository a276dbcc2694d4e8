// `/v1/catalog/node` and `/v1/catalog/node-services` bodies → whether the node exists and its service IDs.
#include "consul/json_parser.hpp"

namespace coalias {
namespace {

using namespace simdjson;

// Appends into the reused vector: element `n` is overwritten if it exists.
void put(std::vector<std::string>& ids, std::size_t& n, std::string_view id) {
  if (n < ids.size()) ids[n].assign(id);
  else ids.emplace_back(id);
  ++n;
}

}  // namespace

std::error_code consul_json_parser::parse_catalog_node(std::string_view body, catalog_node& out) {
  impl& s = *impl_;
  padded_string_view json;
  if (auto ec = s.load(body, json)) return ec;
  out.found = false;
  out.node.clear();

  ondemand::document doc;
  if (auto e = s.parser.iterate(json).get(doc)) return s.fail_json(e, "document");
  ondemand::json_type type;
  if (auto e = doc.type().get(type)) return s.fail_json(e, "document");
  if (type == ondemand::json_type::null) {
    // Unknown node: /v1/catalog/node answers 200 with `null` (hashicorp/consul#9330).
    bool is_null = false;
    if (auto e = doc.is_null().get(is_null)) return s.fail_json(e, "document");
    if (!is_null) return s.fail(errc::malformed_json, "document: invalid literal");
    if (!consul_json_detail::at_end(doc)) return s.fail(errc::malformed_json, "trailing content after null");
    out.service_ids.clear();
    return {};
  }
  if (type != ondemand::json_type::object)
    return s.fail(errc::unexpected_json, "top level is neither an object nor null");
  ondemand::object top;
  if (auto e = doc.get_object().get(top)) return s.fail_json(e, "document");

  bool has_node = false;
  bool node_null = false;
  std::size_t n = 0;
  for (auto member : top) {
    ondemand::raw_json_string key;
    if (auto e = member.key().get(key)) return s.fail_json(e, "document");
    ondemand::value value;
    if (auto e = member.value().get(value)) return s.fail_json(e, "document");
    if (key.unsafe_is_equal("Node")) {
      ondemand::json_type t;
      if (auto e = value.type().get(t)) return s.fail_json(e, "\"Node\"");
      if (t == ondemand::json_type::null) {
        node_null = true;  // node-services form for an unknown node
      } else if (t != ondemand::json_type::object) {
        return s.fail(errc::unexpected_json, "\"Node\" is neither an object nor null");
      } else {
        // The name as registered: a client that names the node in another case learns Consul's spelling here.
        ondemand::object node;
        if (auto e = value.get_object().get(node)) return s.fail_json(e, "\"Node\"");
        std::string_view name;
        if (auto e = node.find_field_unordered("Node").get_string().get(name); e && e != NO_SUCH_FIELD)
          return s.fail_json(e, "\"Node\": \"Node\"");
        out.node.assign(name);
      }
      has_node = true;
    } else if (key.unsafe_is_equal("Services")) {
      ondemand::json_type t;
      if (auto e = value.type().get(t)) return s.fail_json(e, "\"Services\"");
      if (t == ondemand::json_type::object) {
        // /v1/catalog/node: a map keyed by service ID.
        ondemand::object services;
        if (auto e = value.get_object().get(services)) return s.fail_json(e, "\"Services\"");
        for (auto svc : services) {
          std::string_view id;
          if (auto e = svc.unescaped_key().get(id)) return s.fail_json(e, "\"Services\"");
          put(out.service_ids, n, id);
        }
      } else if (t == ondemand::json_type::array) {
        // /v1/catalog/node-services: a list of service objects with "ID".
        ondemand::array services;
        if (auto e = value.get_array().get(services)) return s.fail_json(e, "\"Services\"");
        std::size_t i = 0;
        for (auto svc : services) {
          const std::string where = "\"Services\" entry " + std::to_string(i++);
          ondemand::object obj;
          if (auto e = svc.get_object().get(obj)) return s.fail_json(e, where);
          std::string_view id;
          if (auto e = obj.find_field_unordered("ID").get_string().get(id)) {
            if (e == NO_SUCH_FIELD) return s.fail(errc::unexpected_json, where + ": \"ID\" is missing");
            return s.fail_json(e, where + ": \"ID\"");
          }
          put(out.service_ids, n, id);
        }
      } else if (t != ondemand::json_type::null) {
        return s.fail(errc::unexpected_json, "\"Services\" is neither an object, a list nor null");
      }
    }
  }
  if (!consul_json_detail::at_end(doc)) return s.fail(errc::malformed_json, "trailing content after the object");
  if (!has_node) return s.fail(errc::unexpected_json, "\"Node\" is missing");
  out.found = !node_null;
  out.service_ids.resize(node_null ? 0 : n);
  return {};
}

}  // namespace coalias
