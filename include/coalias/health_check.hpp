// The data model shared by local and remote aliases: a health check and a service, as Consul names them.
//
// Thread safety: plain values. Published checks are held as `std::shared_ptr<const health_check>` and never
// change after publication, so any thread may read one it holds.
#pragma once

#include <coalias/status.hpp>

#include <cstddef>
#include <string>
#include <string_view>

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
  /// Consul's check type: "alias", "ttl", "http", ...; "" for serfHealth and maintenance checks.
  std::string type;

  friend bool operator==(const health_check&, const health_check&) = default;
};

/// The `type` of alias checks. No alias counts a check of this type (see `aggregator`), so alias checks
/// cannot feed each other.
inline constexpr std::string_view alias_check_type = "alias";

/// Consul's default `check_output_max_size`: the most output bytes an agent keeps for a check.
inline constexpr std::size_t check_output_max_size = 4096;

/// `output` cut to at most `max` bytes without splitting a UTF-8 character. Every output coalias writes goes
/// through it (Consul cuts by bytes, which can split one).
std::string_view truncate_output(std::string_view output, std::size_t max = check_output_max_size) noexcept;

/// A service instance registered with an agent. `id` is unique per node; `name` is shared by instances.
struct service {
  std::string id;
  std::string name;

  friend bool operator==(const service&, const service&) = default;
};

}  // namespace coalias
