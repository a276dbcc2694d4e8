// The data model shared by local and remote aliases: a health check and a service, as Consul names them.
//
// Thread safety: plain values. Published checks are held as `std::shared_ptr<const health_check>` and never
// change after publication, so any thread may read one it holds.
#pragma once

#include <coalias/status.hpp>

#include <string>

namespace coalias {

/// One health check, with the fields of Consul's `/v1/health/node` entries that aliasing reads.
/// An empty `service_id` marks a node-level check, which counts for every alias of its node.
struct health_check {
  std::string node;
  std::string check_id;
  std::string name;
  coalias::status status = coalias::status::critical;  // Consul starts new checks critical.
  std::string notes;
  std::string output;
  std::string service_id;
  std::string service_name;

  friend bool operator==(const health_check&, const health_check&) = default;
};

/// A service instance registered with an agent. `id` is unique per node; `name` is shared by instances.
struct service {
  std::string id;
  std::string name;

  friend bool operator==(const service&, const service&) = default;
};

}  // namespace coalias
