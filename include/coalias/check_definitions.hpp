// Alias checks from Consul's own check-definition files: what `coalias-agent --config` reads.
//
// A file holds `{"check": {...}}` or `{"checks": [{...}, ...]}` (both may appear; "check" comes first). A check
// has the keys of Consul's agent configuration, or the HTTP API's spellings of them:
//   id / ID                       required, non-empty, unique over every file loaded together
//   name / Name                   default: the id
//   notes / Notes
//   service_id / ServiceID        the local service the alias check belongs to
//   alias_node / AliasNode        the aliased node; empty or absent: the node of the Consul agent
//   alias_service / AliasService  the aliased service instance (its ID); absent: the node itself
// At least one of the alias keys must be non-empty, as in Consul. Every value is a string.
//
// Errors: `config_error`, whose `what()` is one line naming the file, the check (its id, or `check` /
// `checks[N]` before the id is known) and the key: an unreadable file, invalid JSON, an unknown key, a key given
// twice (in either spelling), a wrong type, a missing or duplicate id, an alias value that cannot name a node or
// service ("." or ".."), or a check of another kind (`http`, `tcp`, `ttl`, `args`, `grpc`, ...).
// Quoted values are escaped and cut to 64 bytes, so a message is always one line.
//
// Thread safety: pure functions (they read the files given); any thread.
#pragma once

#include <coalias/alias_definition.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coalias {

struct check_definition {
  check_definition() = default;  // not an aggregate (g++ 12 and co_await, see docs/toolchain.md)

  /// check_id, name (default: the id), notes, service_id and target. `target.node` is empty when
  /// `alias_node_is_agent`: the caller fills in the agent's node name.
  alias_definition alias;
  bool alias_node_is_agent = false;  ///< alias_node empty or absent: the node of the Consul agent at --addr
  std::string file;                  ///< the file it came from, as named in errors

  friend bool operator==(const check_definition& a, const check_definition& b) {
    return a.alias.check_id == b.alias.check_id && a.alias.name == b.alias.name && a.alias.notes == b.alias.notes &&
           a.alias.service_id == b.alias.service_id && a.alias.target == b.alias.target &&
           a.alias_node_is_agent == b.alias_node_is_agent && a.file == b.file;
  }
};

/// A configuration that cannot be used; `what()` is one line naming the file, the check and the key.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads every path in order: a file, or a directory whose `*.json` regular files are read in name order (like
/// Consul's -config-dir; other entries are skipped). Ids must be unique over all of them. Throws `config_error`.
std::vector<check_definition> load_check_definitions(const std::vector<std::filesystem::path>& paths);

/// Parses one file's text; `file_name` is what errors and `check_definition::file` call it. Does not check ids
/// against other files. Throws `config_error` (and nothing else, for any input).
std::vector<check_definition> parse_check_definitions(std::string_view json, std::string_view file_name);

}  // namespace coalias
