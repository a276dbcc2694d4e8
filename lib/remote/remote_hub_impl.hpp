// The hub's shared state: the Consul API client, the watches keyed by (token, node), and the loops that read
// Consul for them. While at most `blocking_slots()` pairs are watched, each has its own node_loop; beyond that
// the nodes of each token are split into balanced group_loops, at most `blocking_slots()` in all (at least one per
// token), so no node's query waits for a connection behind held ones.
#pragma once

#include "remote/consul_api.hpp"
#include "remote/node_watch.hpp"
#include "remote/watch_loops.hpp"

#include <coalias/remote_hub.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace coalias::detail {

class remote_hub_impl : public std::enable_shared_from_this<remote_hub_impl> {
 public:
  remote_hub_impl(const asio::any_io_executor& ex, consul_config config, remote_options options);

  /// Subscribes `ch` to the watch of (`token`, `node`), starting it if it is the first subscriber.
  /// Any thread. Returns the watch and the subscription ID.
  std::pair<std::shared_ptr<node_watch>, std::uint64_t> subscribe(const std::string& node, const std::string& token,
                                                                  wake_channel& ch, const std::string& service_id);
  /// Any thread. Stops the watch when its last subscriber leaves.
  void unsubscribe(const std::shared_ptr<node_watch>& watch, std::uint64_t id);

  /// Any thread. The group of `token` must re-form: a node's filter spelling changed (node_watch::filter_name).
  void respell(const std::string& token);

  /// Closes every watch and stops every loop; returns every loop ever stopped that may still run, so each
  /// shutdown can wait for their ends.
  std::vector<std::shared_ptr<structured_task>> stop_all();
  std::size_t watch_count() const;
  /// True once shut down, or while no watch runs.
  bool idle() const;
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  remote::consul_api& api() noexcept { return api_; }
  const consul_config& config() const noexcept { return api_.config(); }
  const remote_options& options() const noexcept { return options_; }
  const std::string& effective_token(const std::string& token) const noexcept {
    return token.empty() ? api_.config().token : token;
  }

 private:
  using key = std::pair<std::string, std::string>;  // token, lower-cased node (Consul compares node names so)

  // The groups of one token: the watches they cover, in order, and their loops.
  struct group_set {
    std::vector<node_watch*> members;
    std::vector<std::shared_ptr<group_loop>> loops;
    bool respelled = false;  // a member's filter spelling changed: re-form even if the members did not
  };

  // Called with mutex_ held: re-plans the loops once, after the current burst of (un)subscriptions.
  void schedule_replan();
  // Starts, stops and re-forms loops to match the watches: per-node loops or groups.
  void replan();
  // Called with mutex_ held: stops `loop` and keeps it for shutdown to wait on.
  void retire(std::shared_ptr<structured_task> loop);

  asio::any_io_executor executor_;
  const remote_options options_;
  remote::consul_api api_;
  mutable std::mutex mutex_;
  std::map<key, std::shared_ptr<node_watch>> watches_;
  std::map<node_watch*, std::shared_ptr<node_loop>> node_loops_;  // per-node mode
  std::map<std::string, group_set> groups_;                       // group mode, by token
  // Stopping or stopped, kept so every shutdown can wait for them. Weak: a loop holds the hub, and a running
  // loop is kept alive by its own coroutine, so an expired one has ended.
  std::vector<std::weak_ptr<structured_task>> retired_;
  std::uint64_t next_loop_id_ = 1;
  bool replan_posted_ = false;
  bool stopped_ = false;
};

}  // namespace coalias::detail
