// `/v1/health/node` bodies → health checks, with simdjson On Demand, writing into reused strings.
#include "consul/json_parser.hpp"

#include "core/ascii.hpp"

#include <coalias/status.hpp>

namespace coalias {
namespace {

using namespace simdjson;

// The string fields coalias reads, and where each goes. Status is separate: it is required and parsed.
enum class field : std::uint8_t { other, node, check_id, name, status, notes, output, service_id, service_name, type };

// Matches the raw (still escaped) key; Consul never escapes these ASCII names. Dispatching on the first byte keeps
// the common miss (ServiceTags, Definition, CreateIndex, ...) to one or two comparisons.
field classify(ondemand::raw_json_string key) noexcept {
  const char* k = key.raw();
  switch (k[0]) {
    case 'N':
      if (key.unsafe_is_equal("Node")) return field::node;
      if (key.unsafe_is_equal("Name")) return field::name;
      if (key.unsafe_is_equal("Notes")) return field::notes;
      return field::other;
    case 'C':
      return key.unsafe_is_equal("CheckID") ? field::check_id : field::other;
    case 'S':
      if (key.unsafe_is_equal("Status")) return field::status;
      if (key.unsafe_is_equal("ServiceID")) return field::service_id;
      if (key.unsafe_is_equal("ServiceName")) return field::service_name;
      return field::other;
    case 'O':
      return key.unsafe_is_equal("Output") ? field::output : field::other;
    case 'T':
      return key.unsafe_is_equal("Type") ? field::type : field::other;
    default:
      return field::other;
  }
}

std::string* target(health_check& c, field f) noexcept {
  switch (f) {
    case field::node: return &c.node;
    case field::check_id: return &c.check_id;
    case field::name: return &c.name;
    case field::notes: return &c.notes;
    case field::output: return &c.output;
    case field::service_id: return &c.service_id;
    case field::service_name: return &c.service_name;
    case field::type: return &c.type;
    default: return nullptr;
  }
}

std::string_view field_name(field f) noexcept {
  switch (f) {
    case field::node: return "Node";
    case field::check_id: return "CheckID";
    case field::name: return "Name";
    case field::status: return "Status";
    case field::notes: return "Notes";
    case field::output: return "Output";
    case field::service_id: return "ServiceID";
    case field::service_name: return "ServiceName";
    case field::type: return "Type";
    default: return "?";
  }
}

// clear() keeps capacity: the next assign reuses it.
void reset(health_check& c) noexcept {
  c.node.clear();
  c.check_id.clear();
  c.name.clear();
  c.notes.clear();
  c.output.clear();
  c.service_id.clear();
  c.service_name.clear();
  c.type.clear();
  c.status = status::critical;
}

std::string entry(std::size_t i) { return "entry " + std::to_string(i); }

}  // namespace

std::error_code consul_json_parser::parse_health_node(std::string_view body, std::vector<health_check>& out) {
  impl& s = *impl_;
  padded_string_view json;
  if (auto ec = s.load(body, json)) return ec;

  ondemand::document doc;
  if (auto e = s.parser.iterate(json).get(doc)) return s.fail_json(e, "document");
  ondemand::json_type type;
  if (auto e = doc.type().get(type)) return s.fail_json(e, "document");
  if (type != ondemand::json_type::array)
    return s.fail(errc::unexpected_json, "top level is not an array (a health endpoint returns a list of checks)");
  ondemand::array checks;
  if (auto e = doc.get_array().get(checks)) return s.fail_json(e, "document");

  std::size_t n = 0;
  for (auto element : checks) {
    ondemand::object obj;
    if (auto e = element.get_object().get(obj)) {
      if (e == INCORRECT_TYPE) return s.fail(errc::unexpected_json, entry(n) + " is not an object");
      return s.fail_json(e, entry(n));
    }
    health_check& c = n < out.size() ? out[n] : out.emplace_back();
    ++n;
    reset(c);
    bool has_status = false;
    for (auto member : obj) {
      ondemand::raw_json_string key;
      if (auto e = member.key().get(key)) return s.fail_json(e, entry(n - 1));
      const field f = classify(key);
      if (f == field::other) continue;  // the value is skipped when the loop advances
      std::string_view text;
      if (auto e = member.value().get_string().get(text)) {
        if (e == INCORRECT_TYPE)
          return s.fail(errc::unexpected_json,
                        entry(n - 1) + ": \"" + std::string(field_name(f)) + "\" is not a string");
        return s.fail_json(e, entry(n - 1));
      }
      if (f == field::status) {
        const auto st = parse_status(text);
        if (!st)
          return s.fail(errc::bad_status, entry(n - 1) + ": \"Status\" is \"" + detail::error_excerpt(text, 32) +
                                              "\", not passing, warning or critical");
        c.status = *st;
        has_status = true;
      } else {
        target(c, f)->assign(text);
      }
    }
    if (!has_status) return s.fail(errc::unexpected_json, entry(n - 1) + ": \"Status\" is missing");
  }
  // An error inside the array (e.g. truncation) ends the loop above through the element's error.
  if (!consul_json_detail::at_end(doc)) return s.fail(errc::malformed_json, "trailing content after the array");
  out.resize(n);
  return {};
}

}  // namespace coalias
