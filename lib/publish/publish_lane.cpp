#include "publish/publish_lane.hpp"

#include "core/backoff.hpp"
#include "publish/publish_task.hpp"

#include <algorithm>
#include <cstdint>

namespace coalias::publish {
namespace {

// The first retries of a failed request, as a remote query spaces its requests.
constexpr std::chrono::milliseconds retry_spacing{100};

}  // namespace

publish_lane::publish_lane(const asio::any_io_executor& ex, local_state& state, consul_config config,
                           publish_options options)
    : lane_(std::make_shared<coalias::detail::alias_lane>(ex)),
      state_(state),
      options_(std::move(options)),
      api_(std::make_unique<agent_api>(ex, std::move(config))),
      free_slots_(api_->max_connections()),
      timer_(lane_->strand()),
      jitter_(std::random_device{}()) {}

void publish_lane::acquire(const std::shared_ptr<publish_task>& task) {
  if (free_slots_ == 0 || !waiting_.empty()) return waiting_.push_back(task);
  --free_slots_;
  if (!task->send()) ++free_slots_;
}

void publish_lane::release() {
  ++free_slots_;
  grant();
}

void publish_lane::grant() {
  while (free_slots_ > 0 && !waiting_.empty()) {
    const auto task = waiting_.front().lock();
    waiting_.pop_front();
    if (!task) continue;
    --free_slots_;
    if (!task->send()) ++free_slots_;  // it ended, or has nothing to send any more
  }
}

void publish_lane::retry_after(publish_task& task, std::chrono::milliseconds delay) {
  cancel_retry(task);
  task.retry_at = clock::now() + delay;
  retries_.emplace(task.retry_at, &task);
  if (task.retry_at < armed_for_) arm();
}

void publish_lane::cancel_retry(publish_task& task) noexcept {
  if (task.retry_at == clock::time_point::max()) return;
  retries_.erase({task.retry_at, &task});
  task.retry_at = clock::time_point::max();
  if (retries_.empty()) {
    timer_.cancel();  // nothing left to wait for: the pending wait must not keep the lane alive
    armed_for_ = clock::time_point::max();
  }
}

std::chrono::milliseconds publish_lane::retry_delay(int failures) {
  if (failures <= options_.backoff_after) return std::min(retry_spacing, options_.backoff_base);
  return detail::backoff_delay(failures, options_.backoff_after, options_.backoff_base, options_.backoff_max,
                               jitter_());
}

void publish_lane::arm() {
  armed_for_ = retries_.begin()->first;
  timer_.expires_at(armed_for_);  // cancels an earlier wait, whose handler then returns
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->on_timer();
  });
}

void publish_lane::on_timer() {
  armed_for_ = clock::time_point::max();
  const auto now = clock::now();
  while (!retries_.empty() && retries_.begin()->first <= now) {
    publish_task& task = *retries_.begin()->second;
    retries_.erase(retries_.begin());
    task.retry_at = clock::time_point::max();
    task.retry_due();  // may wait again: later than now, so this loop ends
  }
  if (!retries_.empty()) arm();
}

}  // namespace coalias::publish
