// Consul check-definition JSON → alias definitions, with simdjson On Demand. Each check's fields are collected
// first and judged after, so an error can name the check by its id whatever order the keys come in.
#include <coalias/check_definitions.hpp>

#include "consul/json_parser.hpp"

#include <coalias/aggregate.hpp>

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <system_error>

namespace coalias {
namespace {

using namespace simdjson;

// A config file beyond this is not a config file; refusing it bounds memory.
constexpr std::size_t max_file_bytes = std::size_t{16} << 20;

// Go's %q of outside text, cut to 64 bytes: one line, never a flood.
std::string quote(std::string_view v) {
  if (v.size() > 64) return go_quote(v.substr(0, 64)) + "...";
  return go_quote(v);
}

std::string_view type_name(ondemand::json_type t) {
  switch (t) {
    case ondemand::json_type::array: return "an array";
    case ondemand::json_type::object: return "an object";
    case ondemand::json_type::number: return "a number";
    case ondemand::json_type::string: return "a string";
    case ondemand::json_type::boolean: return "a boolean";
    case ondemand::json_type::null: return "null";
  }
  return "?";
}

enum class key_id { id, name, notes, service_id, alias_node, alias_service };

struct key_spec {
  std::string_view config;  // agent configuration spelling
  std::string_view api;     // HTTP API spelling
  key_id id;
};

constexpr key_spec known_keys[] = {
    {"id", "ID", key_id::id},
    {"name", "Name", key_id::name},
    {"notes", "Notes", key_id::notes},
    {"service_id", "ServiceID", key_id::service_id},
    {"alias_node", "AliasNode", key_id::alias_node},
    {"alias_service", "AliasService", key_id::alias_service},
};

// Keys that make a check of another kind (or configure one): naming them says why the check is refused.
constexpr std::string_view other_kind_keys[] = {
    "http", "tcp", "ttl", "args", "script", "script_args", "shell", "grpc", "grpc_use_tls", "docker_container_id",
    "h2ping", "h2ping_use_tls", "udp", "os_service", "interval", "timeout", "header", "method", "body",
    "tls_server_name", "tls_skip_verify", "disable_redirects",
    "HTTP", "TCP", "TTL", "Args", "ScriptArgs", "Shell", "GRPC", "GRPCUseTLS", "DockerContainerID", "H2PING",
    "H2PingUseTLS", "UDP", "OSService", "Interval", "Timeout", "Header", "Method", "Body", "TLSServerName",
    "TLSSkipVerify", "DisableRedirects",
};

// What goes into a URL path segment (/v1/health/node/<node>): "" is fine here (the agent's node, no service).
bool usable_in_path(std::string_view v) {
  return v != "." && v != ".." && v.find('\0') == std::string_view::npos;
}

const key_spec* find_key(std::string_view k) {
  for (const auto& s : known_keys)
    if (s.config == k || s.api == k) return &s;
  return nullptr;
}

bool other_kind(std::string_view k) {
  return std::find(std::begin(other_kind_keys), std::end(other_kind_keys), k) != std::end(other_kind_keys);
}

// One key of a check as read: its value's type, and its text when a string.
struct raw_field {
  raw_field() = default;
  std::string key;
  ondemand::json_type type = ondemand::json_type::null;
  std::string text;
};

class file_parser {
 public:
  explicit file_parser(std::string_view file) : file_(file) {}

  std::vector<check_definition> parse(std::string_view json) {
    if (json.size() > max_file_bytes) fail("larger than 16 MiB, not a check-definition file");
    const padded_string padded(json);
    ondemand::parser parser;
    ondemand::document doc;
    json_ok(parser.iterate(padded).get(doc));
    ondemand::json_type type;
    json_ok(doc.type().get(type));
    if (type != ondemand::json_type::object)
      fail("expected an object with a \"check\" or \"checks\" key, got " + std::string(type_name(type)));
    ondemand::object top;
    json_ok(doc.get_object().get(top));
    bool seen_check = false, seen_checks = false;
    for (auto member : top) {
      std::string_view key;
      json_ok(member.unescaped_key().get(key));
      if (key != "check" && key != "checks")
        fail("unknown key " + quote(key) + " (a check-definition file has \"check\" or \"checks\")");
      bool& seen = key == "check" ? seen_check : seen_checks;
      if (seen) fail("key " + quote(key) + " given twice");
      seen = true;
      ondemand::value value;
      json_ok(member.value().get(value));
      json_ok(value.type().get(type));
      if (key == "check") {
        if (type != ondemand::json_type::object)
          fail("key \"check\": expected an object, got " + std::string(type_name(type)));
        read_check(value, "check");
      } else {
        if (type != ondemand::json_type::array)
          fail("key \"checks\": expected an array, got " + std::string(type_name(type)));
        ondemand::array list;
        json_ok(value.get_array().get(list));
        std::size_t n = 0;
        for (auto element : list) {
          ondemand::value v;
          json_ok(element.get(v));
          const std::string where = "checks[" + std::to_string(n++) + "]";
          json_ok(v.type().get(type));
          if (type != ondemand::json_type::object) fail(where + ": expected an object, got " + std::string(type_name(type)));
          read_check(v, where);
        }
      }
    }
    if (!consul_json_detail::at_end(doc)) fail("invalid JSON: trailing content after the object");
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw config_error(std::string(file_) + ": " + what); }

  void json_ok(error_code e) const {
    if (e) fail(std::string("invalid JSON: ") + error_message(e));
  }

  void read_check(ondemand::value& value, const std::string& where) {
    ondemand::object obj;
    json_ok(value.get_object().get(obj));
    std::vector<raw_field> fields;
    for (auto member : obj) {
      raw_field& f = fields.emplace_back();
      std::string_view key;
      json_ok(member.unescaped_key().get(key));
      f.key = key;
      ondemand::value v;
      json_ok(member.value().get(v));
      json_ok(v.type().get(f.type));
      if (f.type == ondemand::json_type::string) {
        std::string_view text;
        json_ok(v.get_string().get(text));
        f.text = text;
      }
    }
    judge(fields, where);
  }

  // Every rule of the header, in an order that names the check by its id as soon as there is one.
  void judge(const std::vector<raw_field>& fields, const std::string& where) {
    const raw_field* id = nullptr;
    for (const auto& f : fields) {
      const key_spec* k = find_key(f.key);
      if (!k || k->id != key_id::id) continue;
      if (id) fail(where + ": key " + quote(f.key) + " repeats key " + quote(id->key));
      id = &f;
    }
    if (!id) fail(where + ": missing key \"id\"");
    if (id->type != ondemand::json_type::string)
      fail(where + ": key " + quote(id->key) + ": expected a string, got " + std::string(type_name(id->type)));
    if (id->text.empty()) fail(where + ": key " + quote(id->key) + ": empty");

    const std::string check = "check " + quote(id->text);
    check_definition def;
    def.file = file_;
    std::map<key_id, const raw_field*> seen;
    for (const auto& f : fields) {
      const key_spec* k = find_key(f.key);
      if (!k) {
        if (other_kind(f.key))
          fail(check + ": key " + quote(f.key) + ": not an alias check (only alias_node and alias_service checks run here)");
        fail(check + ": unknown key " + quote(f.key));
      }
      if (auto [it, fresh] = seen.emplace(k->id, &f); !fresh)
        fail(check + ": key " + quote(f.key) + " repeats key " + quote(it->second->key));
      if (f.type != ondemand::json_type::string)
        fail(check + ": key " + quote(f.key) + ": expected a string, got " + std::string(type_name(f.type)));
      if ((k->id == key_id::alias_node || k->id == key_id::alias_service) && !usable_in_path(f.text))
        fail(check + ": key " + quote(f.key) + ": " + quote(f.text) + " cannot be a node or service ID");
      switch (k->id) {
        case key_id::id: def.alias.check_id = f.text; break;
        case key_id::name: def.alias.name = f.text; break;
        case key_id::notes: def.alias.notes = f.text; break;
        case key_id::service_id: def.alias.service_id = f.text; break;
        case key_id::alias_node: def.alias.target.node = f.text; break;
        case key_id::alias_service: def.alias.target.service_id = f.text; break;
      }
    }
    if (def.alias.target.node.empty() && def.alias.target.service_id.empty())
      fail(check + ": missing key \"alias_node\" or \"alias_service\": not an alias check");
    if (def.alias.name.empty()) def.alias.name = def.alias.check_id;
    def.alias_node_is_agent = def.alias.target.node.empty();
    if (!ids_.insert(def.alias.check_id).second) fail(check + ": key " + quote(id->key) + ": duplicate id in this file");
    out_.push_back(std::move(def));
  }

  std::string_view file_;
  std::vector<check_definition> out_;
  std::set<std::string, std::less<>> ids_;
};

// At most max_file_bytes, whatever the path is: a FIFO or a device such as /dev/zero has no size to check first.
std::string read_file(const std::filesystem::path& path) {
  const auto too_large = [&] { return config_error(path.string() + ": larger than 16 MiB, not a check-definition file"); };
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_file_bytes) throw too_large();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path.string() + ": cannot be read");
  std::string text;
  if (!ec) text.reserve(size);
  char chunk[16384];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_file_bytes) throw too_large();
  }
  if (in.bad()) throw config_error(path.string() + ": cannot be read");
  return text;
}

// A path's files in load order: itself, or a directory's *.json regular files sorted by name.
std::vector<std::filesystem::path> files_of(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw config_error(path.string() + ": no such file or directory");
  if (!fs::is_directory(st)) return {path};
  std::vector<fs::path> files;
  fs::directory_iterator it(path, ec);
  if (ec) throw config_error(path.string() + ": cannot be read: " + ec.message());
  for (const auto& entry : it) {
    if (entry.path().extension() != ".json") continue;
    std::error_code e;
    if (entry.is_regular_file(e)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<check_definition> parse_check_definitions(std::string_view json, std::string_view file_name) {
  return file_parser(file_name).parse(json);
}

std::vector<check_definition> load_check_definitions(const std::vector<std::filesystem::path>& paths) {
  std::vector<check_definition> out;
  std::map<std::string, std::string, std::less<>> where;  // id -> file
  for (const auto& path : paths) {
    for (const auto& file : files_of(path)) {
      const auto name = file.string();
      for (auto& def : parse_check_definitions(read_file(file), name)) {
        if (auto [it, fresh] = where.emplace(def.alias.check_id, name); !fresh)
          throw config_error(name + ": check " + quote(def.alias.check_id) + ": key \"id\": duplicate id, first defined in " +
                             it->second);
        out.push_back(std::move(def));
      }
    }
  }
  return out;
}

}  // namespace coalias
