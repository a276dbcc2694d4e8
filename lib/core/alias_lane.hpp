// Where alias tasks run: a strand, a ready list that turns one wake-up round into one handler, and one refresh
// wheel for every alias on the lane. An alias_registry shares one lane among all its local aliases, so an idle
// alias holds no pending operation, no timer and no strand of its own, and a flip that wakes 10,000 aliases
// posts one handler instead of 10,000. The local aliases of one service share one watch of it (a local_group),
// so that flip also queues one entry, not 10,000.
#pragma once

#include "core/refresh_clock.hpp"

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace coalias::detail {

class alias_task;
class local_group;

/// What a lane's ready list holds: a task, or a group of tasks that one wake-up evaluates together.
class lane_entry {
 public:
  /// Called by the lane, on the strand, for an entry that was scheduled.
  virtual void evaluate_queued() = 0;

 protected:
  ~lane_entry() = default;
};

class alias_lane : public std::enable_shared_from_this<alias_lane> {
 public:
  using clock = std::chrono::steady_clock;

  /// A lane on a new strand of `ex`.
  explicit alias_lane(const asio::any_io_executor& ex);
  ~alias_lane();
  alias_lane(const alias_lane&) = delete;
  alias_lane& operator=(const alias_lane&) = delete;

  /// Every task of the lane runs here.
  const asio::any_io_executor& strand() const noexcept { return strand_; }

  /// Any thread: calls `entry->evaluate_queued()` on the strand soon. Entries queued before the lane's handler
  /// runs are evaluated by that one handler, in the order they were queued.
  void schedule(std::shared_ptr<lane_entry> entry);

  /// Strand only: the groups of local aliases on this lane, by the service they watch (see local_group). A
  /// group is listed from its creation until its last member leaves it.
  std::unordered_map<std::string, local_group*>& local_groups() noexcept { return local_groups_; }

  /// The refresh wheel. Strand only. A task is woken every `period` (first one period after `add_refresh`) until
  /// `remove_refresh`. Tasks of one period sit in one list in due order, so arming and re-arming are O(1); the
  /// list runs through the tasks' own hooks, so it allocates nothing.
  struct refresh_hook {
    alias_task* prev = nullptr;
    alias_task* next = nullptr;
    clock::time_point due{};
  };
  void add_refresh(alias_task& task, std::chrono::milliseconds period);
  void remove_refresh(alias_task& task, std::chrono::milliseconds period);

 private:
  struct drain_handler;
  struct refresh_alarm final : refresh_clock::alarm {
    explicit refresh_alarm(alias_lane& l) : lane(l) {}
    void fire() noexcept override;
    alias_lane& lane;
  };
  void drain();
  void arm();
  void on_timer();

  const asio::any_io_executor strand_;

  std::mutex mutex_;  // guards ready_ and drain_posted_
  std::vector<std::shared_ptr<lane_entry>> ready_;
  bool drain_posted_ = false;
  // Strand only: the round being evaluated. The two lists trade places each round and keep their capacity, so
  // a wake-up round allocates nothing (a fan-out to 10,000 aliases regrew a 256 KiB list, page faults and all,
  // on every flip). A task is queued at most once at a time, so each holds at most one entry per task.
  std::vector<std::shared_ptr<lane_entry>> draining_;
  std::unordered_map<std::string, local_group*> local_groups_;

  // Strand only. The clock is found on first use: a lane of one remote alias never needs it.
  struct refresh_list {
    alias_task* head = nullptr;
    alias_task* tail = nullptr;
    void push_back(alias_task& task);
    void erase(alias_task& task);
  };
  std::map<std::chrono::milliseconds, refresh_list> refresh_;
  refresh_clock* clock_ = nullptr;
  refresh_alarm alarm_{*this};
  std::optional<clock::time_point> armed_for_;
};

}  // namespace coalias::detail
