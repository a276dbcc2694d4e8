// The catalog the test server serves: nodes, their services and checks, and Consul's raft-like indexes.
//
// Thread safety: none; the server guards one instance with a mutex.
#pragma once

#include "filter_expr.hpp"

#include <coalias/health_check.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coalias::testing::detail {

/// The state tables whose indexes blocking queries report.
enum class table { checks, catalog };

/// What wakes a held query, as Consul's state store watches it: a whole table, one node's checks, one node's
/// catalog entry (the node and its services), or one service name (its instances, their checks and the node-level
/// checks of their nodes).
struct watch_key {
  enum class scope { checks_table, node_checks, node_catalog, service };
  scope what = scope::checks_table;
  std::string name;  ///< node name or ID, or service name
};

/// The selectors a filter may use on check rows (/v1/health/node, /v1/health/state) and on service instances
/// (/v1/health/service), as Consul's structs name them.
const std::vector<std::string_view>& check_selectors();
const std::vector<std::string_view>& service_node_selectors();

class cluster_state {
 public:
  explicit cluster_state(std::uint64_t initial_index);

  // Each mutation consumes one raft index; a table's index moves to it only if that table changed.
  void add_node(std::string name, std::string address, std::string id);
  bool remove_node(std::string_view name);
  void add_service(std::string_view node, const service& svc, std::vector<std::string> tags, std::uint16_t port);
  bool remove_service(std::string_view node, std::string_view service_id);
  void set_check(const health_check& check, std::string type);
  bool update_check_status(std::string_view node, std::string_view check_id, status s, std::string output);
  bool remove_check(std::string_view node, std::string_view check_id);

  std::optional<node_info> find_node(std::string_view name) const;
  std::vector<health_check> checks(std::string_view node) const;
  index_snapshot indexes() const noexcept { return {raft_, checks_index_, catalog_index_}; }
  std::uint64_t index_of(table t) const noexcept { return t == table::checks ? checks_index_ : catalog_index_; }
  /// The index that moves when what `key` names changes (never above its table's index); 0 if it never changed.
  std::uint64_t watched_index(const watch_key& key) const;
  /// X-Consul-Index of /v1/health/service/<name>: the service's own index while it has instances, else the
  /// max of the catalog and checks tables (as Consul's maxIndexForService).
  std::uint64_t service_report_index(std::string_view name) const;

  /// The body of /v1/health/node/<node>: a JSON array sorted by CheckID; `[]` for an unknown node.
  std::string health_node_json(std::string_view node, const filter_expr* filter = nullptr) const;
  /// Appends the body of /v1/health/state/<state> (`any` or a status) to `out`: every such check, sorted by node
  /// then CheckID.
  void append_health_state_json(std::string& out, std::string_view state, const filter_expr* filter) const;
  /// The body of /v1/health/service/<name>: one {Node, Service, Checks} entry per instance, sorted by node then
  /// service ID; `passing_only` drops instances with any non-passing check.
  std::string health_service_json(std::string_view name, bool passing_only, const filter_expr* filter,
                                  std::string_view datacenter) const;
  /// The body of /v1/catalog/node/<node>; `null` for an unknown node.
  std::string catalog_node_json(std::string_view node, std::string_view datacenter) const;

 private:
  struct service_row {
    service svc;
    std::vector<std::string> tags;
    std::uint16_t port = 0;
    std::uint64_t create_index = 0;
    std::uint64_t modify_index = 0;
  };
  struct check_row {
    health_check check;
    std::string type;
    std::uint64_t create_index = 0;
    std::uint64_t modify_index = 0;
  };
  // The rows a node contributes to /v1/health/state/any, as JSON, and what they were rendered from: a group query
  // re-reads thousands of unchanged nodes on every check change in the datacenter, so the server copies these
  // instead of rendering each row again. Valid while the node's checks index and its own indexes are unchanged
  // (every change to what its rows show moves one of them). Query side only; guarded with the state.
  struct rendered_rows {
    std::uint64_t checks_index = 0, create_index = 0, modify_index = 0;
    std::string json;  // rows separated by ',', no brackets
  };
  struct node_row {
    node_info info;
    std::map<std::string, service_row> services;  // by service ID
    std::map<std::string, check_row> checks;      // by check ID: Consul answers sorted by CheckID
    std::uint64_t create_index = 0;
    std::uint64_t modify_index = 0;
    std::uint64_t checks_index = 0;  // as node_checks_index_, for this row's lifetime
    mutable rendered_rows any_rows;
  };

  node_row* find(std::string_view name_or_id);
  const node_row* find(std::string_view name_or_id) const;
  node_row& ensure_node(std::string_view name, std::uint64_t index);
  void ensure_service(node_row& node, const std::string& id, const std::string& name, std::uint64_t index);
  // Index bookkeeping for the finer watches: a node's checks (and every service on it, for a node-level check),
  // a node's catalog entry, a service name.
  void checks_changed(node_row& node, std::string_view service_id, std::uint64_t index);
  void catalog_changed(const node_row& node, std::uint64_t index);
  void all_services_changed(const node_row& node, std::uint64_t index);
  void append_check_json(std::string& out, const node_row& row, const check_row& c) const;
  void append_node_json(std::string& out, const node_row& row, std::string_view datacenter) const;

  const std::string& any_rows_json(const node_row& row) const;

  std::map<std::string, node_row> nodes_;  // by lower-cased name
  // The same rows by their exact name: a group filter names thousands of nodes, each looked up per answer (bexpr's
  // == is exact, so the exact spelling is the key).
  std::unordered_map<std::string, std::map<std::string, node_row>::const_iterator> by_exact_name_;
  // Kept after a node or service is gone, so a query held on it still wakes when it comes back.
  std::map<std::string, std::uint64_t, std::less<>> node_checks_index_;   // by lower-cased node name
  std::map<std::string, std::uint64_t, std::less<>> node_catalog_index_;  // by lower-cased node name
  std::map<std::string, std::uint64_t, std::less<>> service_index_;       // by service name
  std::uint64_t raft_;
  std::uint64_t checks_index_;
  std::uint64_t catalog_index_;
};

}  // namespace coalias::testing::detail
