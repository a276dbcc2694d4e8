// What is known of one (token, node) pair, shared by every alias of that node: each answer that covers the node
// (its own query on /v1/health/node/<node>, or its share of a group query) fans out to every subscribed alias.
// The loops that read Consul are in watch_loops.hpp; exactly one of them owns a watch at a time.
#pragma once

#include "remote/consul_api.hpp"

#include <coalias/aggregate.hpp>
#include <coalias/consul_json.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coalias::detail {

/// What a watch knows, published as an immutable value each time it changes.
struct node_snapshot {
  std::shared_ptr<const std::vector<health_check>> checks;  ///< last good answer; null before the first
  std::uint64_t index = 0;                                  ///< X-Consul-Index of that answer
  std::optional<catalog_node> catalog;  ///< when some alias needed it; nullopt: unknown, assume present
  int failures = 0;                     ///< consecutive failed requests
  std::string error;                    ///< the last failure, when failures > 0
};

/// The alias rule applied to a snapshot: nullopt means "write nothing" (no answer yet, or a first failure).
std::optional<remote_evaluation> evaluate(const node_snapshot& snap, const alias_target& target,
                                          const check_key& self);

class remote_hub_impl;

class node_watch final {
 public:
  /// Keeps `hub` (and so the HTTP client, for catalog look-ups) alive.
  node_watch(std::shared_ptr<remote_hub_impl> hub, std::string node, std::string token);
  node_watch(const node_watch&) = delete;
  node_watch& operator=(const node_watch&) = delete;

  const std::string& node() const noexcept { return node_; }
  /// The node name lower-cased: Consul compares node names case-insensitively.
  const std::string& node_key() const noexcept { return node_key_; }
  const std::string& token() const noexcept { return token_; }

  /// Hands the watch to loop `loop`: from now on only its answers are published. Any thread.
  void set_owner(std::uint64_t loop);

  /// The node's name as a group filter spells it: the alias's spelling until the catalog showed Consul's own
  /// (bexpr's `==` is exact, whereas Consul matches node names case-insensitively everywhere else). Any thread.
  std::string filter_name() const;

  /// True when this node's rows of an answer (`rows`) would publish nothing and need no catalog look-up: the
  /// common case for the nodes of a group answer, decided without allocating. Any thread.
  bool settled(std::span<const health_check> rows) const;
  /// settled() of the rows last published: an answer that repeats them needs nothing of this watch. Any thread.
  bool settled() const;

  /// A good answer read by loop `loop`, `checks` being this node's rows: publishes it if it changes anything,
  /// asking the catalog first when an aliased service (or the node) has no checks. `by_name`: the rows came from a
  /// filter naming the node as filter_name() spells it; if the catalog knows the node by another spelling, that
  /// answer missed its rows: nothing is published, the spelling is learned and absorb returns false (the caller's
  /// group must re-form). Otherwise returns true. Runs on the caller's executor. Throws only on cancellation.
  asio::awaitable<bool> absorb(std::uint64_t loop, std::vector<health_check> checks, std::uint64_t index,
                               bool by_name = false);
  /// A failed request of loop `loop`: one more consecutive failure, with `error` as its reason.
  void absorb_failure(std::uint64_t loop, const std::string& error);

  /// Any thread. `ch` is woken on every published change until `unsubscribe`.
  std::uint64_t subscribe(wake_channel& ch, const std::string& service_id);
  /// Any thread. Returns the number of subscribers left.
  std::size_t unsubscribe(std::uint64_t id);

  std::shared_ptr<const node_snapshot> snapshot() const;

  /// The hub shut down: wakes every subscriber so none waits forever. Any thread.
  void close();
  bool closed() const;

 private:
  struct subscriber {
    wake_channel* channel;
    std::string service_id;
  };

  asio::awaitable<std::optional<catalog_node>> lookup_catalog();
  bool needs_catalog(std::span<const health_check> checks) const;
  bool needs_catalog_locked(std::span<const health_check> checks) const;  // mutex_ held
  void publish(std::uint64_t loop, node_snapshot next);

  const std::shared_ptr<remote_hub_impl> hub_;
  remote::consul_api& api_;
  const remote_options& options_;
  const std::string node_;
  const std::string node_key_;
  const std::string token_;

  mutable std::mutex mutex_;
  std::map<std::uint64_t, subscriber> subscribers_;
  std::map<std::string, int, std::less<>> wanted_services_;  // service ID -> subscribers; "" for node aliases
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
  std::shared_ptr<const node_snapshot> snapshot_ = std::make_shared<const node_snapshot>();
  std::uint64_t owner_ = 0;  // the loop whose answers are published; a retired loop's late answers are dropped
  std::string filter_name_;  // see filter_name()
};

}  // namespace coalias::detail
