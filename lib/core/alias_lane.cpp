#include "core/alias_lane.hpp"

#include "core/alias_task.hpp"
#include "core/structured_task.hpp"

#include <asio/execution/context.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>

#include <algorithm>
#include <utility>

namespace coalias::detail {

alias_lane::alias_lane(const asio::any_io_executor& ex) : strand_(make_task_strand(ex)) {}

alias_lane::~alias_lane() {
  if (clock_) clock_->cancel(alarm_);
}

// The queued tasks hold the lane: a drain destroyed unrun (its io_context went first) must let go of them, or
// lane and tasks would keep each other alive.
struct alias_lane::drain_handler {
  explicit drain_handler(std::shared_ptr<alias_lane> l) : lane(std::move(l)) {}
  drain_handler(drain_handler&&) noexcept = default;
  drain_handler& operator=(drain_handler&&) = delete;
  ~drain_handler() {
    if (!lane) return;  // moved from, or ran
    std::vector<std::shared_ptr<lane_entry>> dropped;
    std::lock_guard lock(lane->mutex_);
    dropped.swap(lane->ready_);
  }
  void operator()() { std::exchange(lane, nullptr)->drain(); }
  std::shared_ptr<alias_lane> lane;
};

void alias_lane::schedule(std::shared_ptr<lane_entry> entry) {
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(entry));
    if (std::exchange(drain_posted_, true)) return;  // the posted handler has not taken the list yet
  }
  asio::post(strand_, drain_handler{shared_from_this()});
}

void alias_lane::drain() {
  {
    std::lock_guard lock(mutex_);
    draining_.swap(ready_);  // ready_ takes the last round's emptied list
    drain_posted_ = false;   // from here on, a wake-up posts a new handler
  }
  struct clear_on_exit {
    std::vector<std::shared_ptr<lane_entry>>& list;
    ~clear_on_exit() { list.clear(); }
  } clear{draining_};
  for (auto& entry : draining_) entry->evaluate_queued();
}

void alias_lane::refresh_list::push_back(alias_task& task) {
  auto& hook = task.refresh_hook();
  hook.prev = tail;
  hook.next = nullptr;
  (tail ? tail->refresh_hook().next : head) = &task;
  tail = &task;
}

void alias_lane::refresh_list::erase(alias_task& task) {
  auto& hook = task.refresh_hook();
  (hook.prev ? hook.prev->refresh_hook().next : head) = hook.next;
  (hook.next ? hook.next->refresh_hook().prev : tail) = hook.prev;
  hook = {};
}

void alias_lane::add_refresh(alias_task& task, std::chrono::milliseconds period) {
  task.refresh_hook().due = clock::now() + period;
  refresh_[period].push_back(task);
  if (!armed_for_ || task.refresh_hook().due < *armed_for_) arm();
}

void alias_lane::remove_refresh(alias_task& task, std::chrono::milliseconds period) {
  const auto bucket = refresh_.find(period);
  bucket->second.erase(task);
  if (!bucket->second.head) refresh_.erase(bucket);
  if (refresh_.empty() && clock_) {
    clock_->cancel(alarm_);  // nothing left to refresh: the context need not wait for the lane
    armed_for_.reset();
  }
}

// Waits for the earliest due entry. Each list is in due order, so only the fronts count.
void alias_lane::arm() {
  if (refresh_.empty()) return;
  auto earliest = clock::time_point::max();
  for (const auto& [period, list] : refresh_) earliest = std::min(earliest, list.head->refresh_hook().due);
  if (!clock_) clock_ = &asio::use_service<refresh_clock>(asio::query(strand_, asio::execution::context));
  armed_for_ = earliest;
  clock_->arm(alarm_, earliest, strand_);  // replaces an earlier time
}

// A fire posted before a re-arm or a cancel may still run: on_timer then finds nothing due and arms again.
void alias_lane::refresh_alarm::fire() noexcept {
  asio::post(lane.strand_, [weak = lane.weak_from_this()] {
    if (auto self = weak.lock()) self->on_timer();
  });
}

void alias_lane::on_timer() {
  armed_for_.reset();
  const auto now = clock::now();
  for (auto& [period, list] : refresh_) {
    // Re-armed one period from now, as a timer re-armed in its handler would be: the list stays in due order.
    // Each entry at most once, so a zero period (start_local accepts one) refreshes but cannot spin here.
    for (alias_task *task = list.head, *last = list.tail; task && task->refresh_hook().due <= now;) {
      alias_task* next = task == last ? nullptr : task->refresh_hook().next;
      list.erase(*task);
      task->refresh_hook().due = now + period;
      list.push_back(*task);
      task->wake();
      task = next;
    }
  }
  arm();
}

}  // namespace coalias::detail
