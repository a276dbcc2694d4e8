// What an alias check is: its own check in the local state, and the service instance or node it mirrors.
//
// Thread safety: a plain value.
#pragma once

#include <coalias/aggregate.hpp>

#include <chrono>
#include <string>

namespace coalias {

struct alias_definition {
  // A user-declared constructor makes this a non-aggregate: g++ 12 miscompiles aggregate temporaries inside
  // co_await expressions (see docs/toolchain.md).
  alias_definition() = default;

  std::string check_id;    ///< the alias's own check, written through the local state
  std::string name;        ///< its display name
  std::string service_id;  ///< the local service the alias check belongs to (e.g. a sidecar); empty: node-level
  std::string notes;

  /// What it mirrors. An empty `target.node` makes a local alias (the agent's own state, no network); otherwise
  /// a remote alias kept current by a blocking query. An empty `target.service_id` aliases the node itself.
  alias_target target;

  /// Local aliases re-evaluate at least this often even without a wake-up, so a missed edge cannot leave them
  /// wrong for long (Consul's 1-minute control loop).
  std::chrono::milliseconds refresh{std::chrono::minutes(1)};

  /// Remote aliases only: the ACL token for this alias's queries; empty uses the hub's configured token.
  /// Sent only in the X-Consul-Token header.
  std::string token;
};

}  // namespace coalias
