#include "core/alias_task.hpp"

#include <asio/dispatch.hpp>

#include <exception>
#include <string>
#include <utility>

namespace coalias::detail {

alias_task::alias_task(std::shared_ptr<alias_lane> lane, local_state& state, std::string check_id)
    : lane_(std::move(lane)), state_(state), check_id_(std::move(check_id)) {}

void alias_task::start(std::shared_ptr<alias_task> predecessor) {
  if (!predecessor) {
    // Through the lane's ready list rather than a handler of its own: adding 100,000 aliases at once then
    // queues 100,000 pointers, not 100,000 pending operations (see evaluate_queued).
    queued_.store(true);
    lane_->schedule(shared_from_this());
    return;
  }
  // The predecessor's waiters hear only after it ended: nothing can cancel this wait, so the chain old -> new
  // holds even when the new task is itself stopped before it began.
  predecessor->when_ended([self = shared_from_this()] {
    asio::dispatch(self->strand(), [self] { self->launch(); });
  });
}

void alias_task::request_stop() {
  if (stop_posted_.exchange(true)) return;
  // Posted, never run inline: the caller may hold locks.
  asio::post(strand(), [self = shared_from_this()] {
    if (self->phase_ != phase::running) return;  // not begun (launch will see the stop) or already ended
    self->stop_running();
  });
}

void alias_task::stop_running() noexcept {
  end();
  if (std::exchange(end_deferred_, false)) {
    phase_ = phase::ending;  // no longer running; finish() comes with resume_end()
    return;
  }
  finish();
}

void alias_task::launch() {
  if (stop_posted_.load()) return finish();  // stopped before it ever began: it never acts
  phase_ = phase::running;
  try {
    begin();
  } catch (...) {
    return fail(std::current_exception());
  }
  evaluate_guarded();
}

void alias_task::wake() noexcept {
  if (queued_.exchange(true, std::memory_order_acq_rel)) return;
  // Null while the task is being destroyed (its registrations then go with it). The lane keeps what it gets,
  // so a last reference is never dropped here, under the caller's locks.
  if (auto self = weak_from_this().lock()) lane_->schedule(std::move(self));
}

void alias_task::evaluate_queued() {
  // Cleared before the read: a change after this point queues the task again.
  queued_.exchange(false, std::memory_order_acq_rel);
  if (phase_ == phase::waiting) return launch();  // queued by start: nothing else queues a task not begun
  if (phase_ == phase::running) evaluate_guarded();
}

void alias_task::evaluate_guarded() {
  try {
    evaluate();
  } catch (...) {
    fail(std::current_exception());
  }
}

void alias_task::publish(const check_result& result) {
  state_.update_check(own_, check_id_, result.status, truncate_output(result.output));
}

void alias_task::fail(std::exception_ptr e) noexcept {
  std::string what = "unknown error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  // Not after a stop: a stop ends a running task at once, so a running task that throws was not stopped.
  try {
    publish({status::critical, "Alias check stopped: " + what});
  } catch (...) {  // nothing better to do than end
  }
  stop_running();
}

void alias_task::finish() noexcept {
  phase_ = phase::ended;
  own_.unpin();  // the task never writes again, and the state may go once the waiters heard
  for (auto w = std::move(waiters_); w; w = std::move(w->next)) w->call();
}

void alias_task::add_waiter(std::unique_ptr<waiter> w) {
  // Appended: waiters hear of the end in the order they asked.
  auto* slot = &waiters_;
  while (*slot) slot = &(*slot)->next;
  *slot = std::move(w);
}

}  // namespace coalias::detail
