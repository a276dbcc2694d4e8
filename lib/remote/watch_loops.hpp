// The loops that read Consul for the node watches, each a structured_task owned by the hub:
//  - node_loop: one node's own blocking query on /v1/health/node/<node>; it wakes only when that node's checks
//    change. Used while the hub watches at most `blocking_slots()` (token, node) pairs.
//  - group_loop: one blocking query on /v1/health/state/any with a filter naming a share of the nodes
//    (`Node == "a" or Node == "b" ...`); it wakes on any check change in the datacenter, and its answer is split by
//    node. Used beyond that, at most `blocking_slots()` groups in all, so no node waits for a connection.
// Both apply the same rules: the first request is non-blocking (index 0), so a loop that replaces another misses
// nothing; an index that goes backwards resets, never below 1; after an answer with a new index the next request
// goes at once, else requests are spaced by min_request_spacing (Consul's hot-loop guard is about answers that did
// not move the index); they back off after failures; a failure is followed by a non-blocking re-read.
#pragma once

#include "core/structured_task.hpp"
#include "remote/consul_api.hpp"
#include "remote/node_watch.hpp"

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace coalias::detail {

class remote_hub_impl;

class watch_loop : public structured_task {
 protected:
  /// Keeps `hub` (and so the HTTP client) alive until the loop has ended. `id` marks its answers (node_watch owner).
  watch_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id);

  /// Waits until the next request may go: at once after an answer whose index moved forward (`advanced`: a change
  /// is waiting to be read, and re-reading it cannot be a hot loop), else `min_request_spacing` after the last
  /// request; a backoff once more than `backoff_after` consecutive requests failed. Sets `last_request` to now.
  asio::awaitable<void> pace(asio::steady_timer& pause, std::chrono::steady_clock::time_point& last_request,
                             int failures, bool advanced);

  const std::shared_ptr<remote_hub_impl> hub_;
  remote::consul_api& api_;
  const remote_options& options_;
  const std::uint64_t id_;

 private:
  std::chrono::milliseconds backoff(int failures);
  std::uint64_t jitter_state_;
};

/// The blocking-query loop of one node.
class node_loop final : public watch_loop {
 public:
  node_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id,
            std::shared_ptr<node_watch> watch);

 private:
  asio::awaitable<void> run() override;
  const std::shared_ptr<node_watch> watch_;
};

/// One blocking query for the nodes of `watches` (all with the same token).
class group_loop final : public watch_loop {
 public:
  group_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id,
             std::string token, std::vector<std::shared_ptr<node_watch>> watches);

  /// `Node == "a" or Node == "b" ...`, each name a bexpr string.
  static std::string filter_for(const std::vector<std::shared_ptr<node_watch>>& watches);

 private:
  asio::awaitable<void> run() override;
  // Hands each node its rows of a good answer.
  asio::awaitable<void> absorb(remote::health_answer& answer);
  const std::string token_;
  const std::vector<std::shared_ptr<node_watch>> watches_;  // sorted by node_key()
  const std::string filter_;
};

}  // namespace coalias::detail
