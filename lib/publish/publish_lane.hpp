// What one ttl_publisher's tasks share: an alias_lane (one strand, one ready list, one heartbeat wheel), the
// agent's API, the options, the request slots and the retry timer. A published check is then only its task's
// members: no coroutine frame, no timer, no pending wait and no strand of its own (coalias-agent publishes
// 10,000 of them).
//
// Thread safety: the request slots and retries are strand only; the rest is immutable or locks.
#pragma once

#include "core/alias_lane.hpp"
#include "publish/agent_api.hpp"

#include <coalias/local_state.hpp>
#include <coalias/ttl_publisher.hpp>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <utility>

namespace coalias::publish {

class publish_task;

class publish_lane : public std::enable_shared_from_this<publish_lane> {
 public:
  using clock = std::chrono::steady_clock;

  publish_lane(const asio::any_io_executor& ex, local_state& state, consul_config config, publish_options options);

  const std::shared_ptr<coalias::detail::alias_lane>& lane() const noexcept { return lane_; }
  const asio::any_io_executor& strand() const noexcept { return lane_->strand(); }
  local_state& state() const noexcept { return state_; }
  const publish_options& options() const noexcept { return options_; }
  agent_api& api() const noexcept { return *api_; }
  /// Guards every task's publish_stats: `ttl_publisher::stats` reads them from any thread.
  std::mutex& stats_mutex() const noexcept { return stats_mutex_; }

  /// At most `max_connections` requests at once, so a thousand checks flipping together never spend their
  /// timeout queueing inside curl. Strand only. `acquire` calls `task->send()` once a slot is free (at once,
  /// or from a `release`), in the order tasks asked; `send` returns false when it no longer needs the slot.
  void acquire(const std::shared_ptr<publish_task>& task);
  void release();

  /// Wakes `task` (`task.retry_due()`) after `delay`; one wait per task. Strand only.
  void retry_after(publish_task& task, std::chrono::milliseconds delay);
  /// Forgets the task's wait, if any. Strand only.
  void cancel_retry(publish_task& task) noexcept;
  /// The wait after `failures` consecutive failures: 100 ms (or backoff_base, if less) at first, then the
  /// backoff from backoff_base, doubling up to backoff_max, with up to 20% jitter. Strand only.
  std::chrono::milliseconds retry_delay(int failures);

 private:
  void grant();
  void arm();
  void on_timer();

  const std::shared_ptr<coalias::detail::alias_lane> lane_;
  local_state& state_;
  const publish_options options_;
  const std::unique_ptr<agent_api> api_;
  mutable std::mutex stats_mutex_;

  // Strand only.
  std::size_t free_slots_;
  std::deque<std::weak_ptr<publish_task>> waiting_;  // weak: a task that ended meanwhile is skipped
  std::set<std::pair<clock::time_point, publish_task*>> retries_;  // a task leaves it before it ends
  asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();
  std::minstd_rand jitter_;
};

}  // namespace coalias::publish
