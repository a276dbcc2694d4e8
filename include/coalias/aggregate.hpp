// The aggregation rule: one pure function of a set of checks, shared by local and remote aliases.
//
// Thread safety: an `aggregator` is a plain value used by one thread at a time; the free functions are pure.
#pragma once

#include <coalias/health_check.hpp>

#include <string>
#include <string_view>

namespace coalias {

/// What an alias mirrors: a service instance on a node, or (empty `service_id`) the node itself.
// These value types declare constructors, so they are not aggregates: g++ 12 miscompiles aggregate temporaries
// with strings inside co_await expressions (see docs/toolchain.md), and `print(co_await w.next())` must be safe.

struct alias_target {
  alias_target() = default;
  alias_target(std::string node_name, std::string service) : node(std::move(node_name)), service_id(std::move(service)) {}

  std::string node;
  std::string service_id;

  friend bool operator==(const alias_target&, const alias_target&) = default;
};

/// A check identity: node plus check ID. The alias's own check is never counted.
struct check_key {
  check_key() = default;
  check_key(std::string node_name, std::string id) : node(std::move(node_name)), check_id(std::move(id)) {}

  std::string node;
  std::string check_id;
};

/// What an alias shows: its status and output.
struct check_result {
  check_result() = default;
  check_result(coalias::status s, std::string text) : status(s), output(std::move(text)) {}

  coalias::status status = coalias::status::critical;
  std::string output;

  friend bool operator==(const check_result&, const check_result&) = default;
};

/// Whether the aliased node and service exist, for when no check of them was found.
enum class presence {
  present,          ///< both exist, or existence could not be determined (Consul then assumes they do)
  service_missing,  ///< the node exists but does not hold the aliased service
  node_missing,     ///< the node is unknown
};

/// Folds checks one at a time, in the order given, into an alias's result:
/// - checks of other nodes (case-insensitive, as Consul compares them) and of other services are skipped;
///   node-level checks (empty service ID) always count; the alias's own check never does;
/// - alias checks (type "alias", local or remote) never count. Consul counts them, so two node-level aliases
///   (or two services' aliases of each other) wake each other without end, each output quoting the other's
///   (Consul issue #6797). Here an alias mirrors only checks that observe something, so aliases cannot form a
///   cycle; alias the underlying service or node directly instead of chaining aliases;
/// - any critical: critical, `Aliased check "<name>" failing: <output>` of the first critical;
/// - else any warning: warning, the same message of the first warning;
/// - else passing: `All checks passing.` if a check counted, `No checks found.` if none;
/// - when nothing of the aliased subject was found and it does not exist (see `needs_presence`):
///   critical, `Service <id> could not be found on node <node>` or `Node <node> could not be found`.
class aggregator {
 public:
  aggregator(const alias_target& target, const check_key& self) noexcept;
  /// The same, from the fields of a target and a key; the strings must outlive the aggregator.
  aggregator(std::string_view target_node, std::string_view target_service_id, std::string_view self_node,
             std::string_view self_check_id) noexcept;

  void add(const health_check& check);

  /// True when no check of the aliased subject was counted, so its existence decides the result:
  /// for a service alias, no check of that service; for a node alias, no check at all.
  bool needs_presence() const noexcept;

  /// The result. `p` only matters when `needs_presence()` is true.
  check_result finish(presence p = presence::present) const;

 private:
  std::string_view target_node_;
  std::string_view target_service_id_;
  std::string_view self_node_;
  std::string_view self_check_id_;
  const health_check* first_critical_ = nullptr;
  const health_check* first_warning_ = nullptr;
  std::size_t counted_ = 0;
  bool service_check_found_ = false;
};

/// Consul's (ASCII) case-insensitive node-name comparison.
bool node_names_equal(std::string_view a, std::string_view b) noexcept;

/// Go's `%q` rendering of `text`, used for check names in alias outputs.
std::string go_quote(std::string_view text);

}  // namespace coalias
