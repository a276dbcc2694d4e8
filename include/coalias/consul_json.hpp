// Consul response bodies → coalias values: `/v1/health/node/:node` (the checks a remote alias aggregates) and
// `/v1/catalog/node/:node` (whether the node, and which services, exist).
//
// A `consul_json_parser` is reusable and meant to be kept per long-poll loop: it owns simdjson's parser and a
// padded copy buffer, and it writes into the caller's containers by assigning into the existing elements' strings,
// so once sizes settle a parse allocates nothing.
//
// Errors (returned as std::error_code; `last_error()` then says where, without echoing the body):
//   errc::body_too_large   the body exceeds `max_body()`; checked before any parsing
//   errc::malformed_json   not JSON: syntax errors, truncation, trailing content, bad UTF-8
//   errc::unexpected_json  JSON of the wrong shape: top level not an array (health) / not an object or null
//                          (catalog), an entry not an object, a known field of the wrong type, Status missing
//   errc::bad_status       Status is a string other than passing, warning or critical
// Values of fields coalias does not read (ServiceTags, Definition, indexes, ...) are skipped, and like everything
// simdjson On Demand skips they are checked only for string and bracket structure and UTF-8, not fully validated.
//
// Thread safety: a parser object is used by one thread at a time (it holds per-parse scratch state); distinct
// parser objects may be used concurrently. The free functions build a parser per call and are reentrant.
// Lifetime: a moved-from parser may only be destroyed or assigned to.
#pragma once

#include <coalias/health_check.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace coalias {

/// What `/v1/catalog/node/:node` (or `/v1/catalog/node-services/:node`) says about a node.
struct catalog_node {
  bool found = false;                     ///< false for a `null` body or `"Node": null`
  std::vector<std::string> service_ids;  ///< in body order; empty when not found
  std::string node;                      ///< the node's name as registered (`Node.Node`); empty when not found

  catalog_node() = default;  // not an aggregate: g++ 12 mis-destroys aggregate temporaries next to co_await
  friend bool operator==(const catalog_node&, const catalog_node&) = default;
};

/// Default cap on a response body: 16 MiB, as `consul_config::max_body`.
inline constexpr std::size_t default_max_body = std::size_t{16} << 20;

class consul_json_parser {
 public:
  explicit consul_json_parser(std::size_t max_body = default_max_body);
  ~consul_json_parser();
  consul_json_parser(consul_json_parser&&) noexcept;
  consul_json_parser& operator=(consul_json_parser&&) noexcept;
  consul_json_parser(const consul_json_parser&) = delete;
  consul_json_parser& operator=(const consul_json_parser&) = delete;

  /// Parses a `/v1/health/node` body into `out`, one element per entry in body order. Reads Node, CheckID, Name,
  /// Status (required), Notes, Output, ServiceID, ServiceName; absent optional fields become "". Existing elements
  /// of `out` are overwritten in place (keeping their string capacity), extra ones are erased.
  /// On error `out` holds a valid but unspecified prefix of the result.
  std::error_code parse_health_node(std::string_view body, std::vector<health_check>& out);

  /// Parses a `/v1/catalog/node` body (`Services` is an object keyed by service ID) or a
  /// `/v1/catalog/node-services` body (`Services` is a list of objects with "ID"). `null`, or `"Node": null`,
  /// gives `found == false`. Reuses `out.service_ids`' strings like `parse_health_node`.
  std::error_code parse_catalog_node(std::string_view body, catalog_node& out);

  /// Why the last parse failed, e.g. `entry 3: "Status" is not a string`; "" after a success.
  const std::string& last_error() const noexcept;

  std::size_t max_body() const noexcept;
  void set_max_body(std::size_t bytes) noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One-shot forms for tests and tools. Throw `std::system_error` with the code above and `last_error()` as text.
std::vector<health_check> parse_health_node(std::string_view body, std::size_t max_body = default_max_body);
catalog_node parse_catalog_node(std::string_view body, std::size_t max_body = default_max_body);

}  // namespace coalias
