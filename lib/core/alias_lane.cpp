#include "core/alias_lane.hpp"

#include "core/alias_task.hpp"
#include "core/structured_task.hpp"

#include <asio/post.hpp>

#include <algorithm>

namespace coalias::detail {

alias_lane::alias_lane(const asio::any_io_executor& ex) : strand_(make_task_strand(ex)) {}

void alias_lane::schedule(std::shared_ptr<alias_task> task) {
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(task));
    if (std::exchange(drain_posted_, true)) return;  // the posted handler has not taken the list yet
  }
  asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

void alias_lane::drain() {
  std::vector<std::shared_ptr<alias_task>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(ready_);
    drain_posted_ = false;  // from here on, a wake-up posts a new handler
  }
  for (auto& task : batch) task->evaluate_queued();
  // Give the list's capacity back for the next round, unless another round filled it meanwhile.
  batch.clear();
  std::lock_guard lock(mutex_);
  if (ready_.empty()) ready_.swap(batch);
}

alias_lane::refresh_list::iterator alias_lane::add_refresh(alias_task& task, std::chrono::milliseconds period) {
  auto& list = refresh_[period];
  const auto it = list.insert(list.end(), refresh_entry{&task, clock::now() + period});
  if (!armed_for_ || it->due < *armed_for_) arm();
  return it;
}

void alias_lane::remove_refresh(std::chrono::milliseconds period, refresh_list::iterator it) {
  const auto bucket = refresh_.find(period);
  bucket->second.erase(it);
  if (bucket->second.empty()) refresh_.erase(bucket);
  if (refresh_.empty() && timer_) {
    timer_->cancel();  // nothing left to refresh: the pending wait must not keep the lane alive
    armed_for_.reset();
  }
}

// Waits for the earliest due entry. Each list is in due order, so only the fronts count.
void alias_lane::arm() {
  if (refresh_.empty()) return;
  auto earliest = clock::time_point::max();
  for (const auto& [period, list] : refresh_) earliest = std::min(earliest, list.front().due);
  if (!timer_) timer_.emplace(strand_);
  armed_for_ = earliest;
  timer_->expires_at(earliest);  // cancels an earlier wait, whose handler then returns
  timer_->async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->on_timer();
  });
}

void alias_lane::on_timer() {
  armed_for_.reset();
  const auto now = clock::now();
  for (auto& [period, list] : refresh_) {
    // Re-armed one period from now, as a timer re-armed in its handler would be: the list stays in due order.
    // At most one round per entry, so a zero period (start_local accepts one) refreshes but cannot spin here.
    for (std::size_t n = list.size(); n > 0 && list.front().due <= now; --n) {
      list.front().due = now + period;
      list.splice(list.end(), list, list.begin());
      list.back().task->wake();
    }
  }
  arm();
}

}  // namespace coalias::detail
