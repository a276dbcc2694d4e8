// The catalog the test server serves: nodes, their services and checks, and Consul's raft-like indexes.
//
// Thread safety: none; the server guards one instance with a mutex.
#pragma once

#include <coalias/health_check.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coalias::testing::detail {

/// The state tables whose indexes blocking queries watch.
enum class table { checks, catalog };

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

  /// The body of /v1/health/node/<node>: a JSON array sorted by CheckID; `[]` for an unknown node.
  std::string health_node_json(std::string_view node) const;
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
  struct node_row {
    node_info info;
    std::map<std::string, service_row> services;  // by service ID
    std::map<std::string, check_row> checks;      // by check ID: Consul answers sorted by CheckID
    std::uint64_t create_index = 0;
    std::uint64_t modify_index = 0;
  };

  node_row* find(std::string_view name_or_id);
  const node_row* find(std::string_view name_or_id) const;
  node_row& ensure_node(std::string_view name, std::uint64_t index);
  void ensure_service(node_row& node, const std::string& id, const std::string& name, std::uint64_t index);

  std::map<std::string, node_row> nodes_;  // by lower-cased name
  std::uint64_t raft_;
  std::uint64_t checks_index_;
  std::uint64_t catalog_index_;
};

}  // namespace coalias::testing::detail
