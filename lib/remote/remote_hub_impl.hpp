// The hub's shared state: the Consul API client and the watches, keyed by (token, node).
#pragma once

#include "remote/consul_api.hpp"
#include "remote/node_watch.hpp"

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

  /// Stops every watch; returns every watch ever stopped that may still run, so each shutdown can wait for
  /// their ends.
  std::vector<std::shared_ptr<node_watch>> stop_all();
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

  asio::any_io_executor executor_;
  const remote_options options_;
  remote::consul_api api_;
  mutable std::mutex mutex_;
  std::map<key, std::shared_ptr<node_watch>> watches_;
  // Stopping or stopped, kept so every shutdown can wait for them. Weak: a watch holds the hub, and a running
  // watch is kept alive by its own loop, so an expired one has ended.
  std::vector<std::weak_ptr<node_watch>> retired_;
  bool stopped_ = false;
};

}  // namespace coalias::detail
