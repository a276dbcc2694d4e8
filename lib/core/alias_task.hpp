// An alias check's task: keeps the alias's own check in the local state equal to what it mirrors.
//
// Not a coroutine: an idle alias is only its members, with no frame, no pending receive and no timer wait (an
// alias_registry runs 100,000 of them). A wake-up queues the task on its lane, whose handler calls `evaluate()`
// on the lane's strand; the lane's refresh wheel wakes it every refresh period. The lifecycle is
// structured_task's: the task begins only after its predecessor ended, a stop ends it on the strand, and the
// waiters of `when_ended` hear of the end only once the task can no longer write.
#pragma once

#include "core/alias_lane.hpp"

#include <coalias/aggregate.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>

#include <asio/post.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <string>

namespace coalias::detail {

class alias_task : public std::enable_shared_from_this<alias_task>, public wake_target, public lane_entry {
 public:
  /// `check_id` names the alias's own check, which the task writes through `state`.
  alias_task(std::shared_ptr<alias_lane> lane, local_state& state, std::string check_id);
  alias_task(const alias_task&) = delete;
  alias_task& operator=(const alias_task&) = delete;
  virtual ~alias_task() = default;

  const std::string& check_id() const noexcept { return check_id_; }

  /// Begins once `predecessor` (if any) has ended. Call once.
  void start(std::shared_ptr<alias_task> predecessor = nullptr);

  /// Asks the task to end; any thread, idempotent.
  void request_stop();
  bool stop_requested() const noexcept { return stop_posted_.load(); }

  /// Calls `f()` on the strand once the task has ended. Nothing can cancel this wait: whoever waits for an end
  /// hears of it only after the task has ended, whatever its own caller emits. Any thread.
  template <class F>
  void when_ended(F f) {
    asio::post(strand(), [self = shared_from_this(), f = std::move(f)]() mutable {
      if (self->phase_ == phase::ended) return std::move(f)();
      self->add_waiter(std::make_unique<waiter_for<F>>(std::move(f)));
    });
  }

  /// The strand the task runs on (its lane's).
  const asio::any_io_executor& strand() const noexcept { return lane_->strand(); }

  /// Any thread, even under the local state's lock: asks for an evaluation on the strand. Coalesces while one
  /// is queued; the queued one reads the state after every earlier change, so none is missed.
  void wake() noexcept override;

  /// Called by the lane on the strand for a task `wake` (or `start`) queued.
  void evaluate_queued() override;
  /// The task's place in its lane's refresh wheel (lane only).
  alias_lane::refresh_hook& refresh_hook() noexcept { return refresh_; }

 protected:
  /// Strand only. `begin` subscribes to the task's wake-ups before the first `evaluate` (so a change after that
  /// read leaves a wake-up queued); `end` undoes it. `begin` may throw: the task then fails (see `fail`).
  virtual void begin() = 0;
  virtual void evaluate() = 0;
  virtual void end() noexcept = 0;

  /// From `end`: an operation that `end` cancelled has yet to complete (a request in flight). The task then
  /// ends, and its waiters hear, only at `resume_end`, which the operation's handler calls on the strand.
  void defer_end() noexcept { end_deferred_ = true; }
  /// Ends a task whose `end` deferred; a no-op otherwise. Strand only.
  void resume_end() noexcept {
    if (phase_ == phase::ending) finish();
  }

  /// Writes the alias's own check (a no-op when nothing changed). Only from `evaluate`.
  void publish(const check_result& result);
  /// The own check's slot, for writes that bypass `publish` (local aliases). Only from `evaluate`.
  local_state::check_pin& own_check() noexcept { return own_; }
  /// Runs `evaluate`; a throw ends the task (see `fail`). Strand only, while running.
  void evaluate_guarded();
  bool running() const noexcept { return phase_ == phase::running; }

  const std::shared_ptr<alias_lane> lane_;
  local_state& state_;
  const std::string check_id_;  // the own check: never counted by its own aggregation
  bool refreshing_ = false;      // strand only: in the lane's refresh wheel (local aliases)

 private:
  enum class phase : unsigned char { waiting, running, ending, ended };

  struct waiter {
    virtual ~waiter() = default;
    virtual void call() = 0;
    std::unique_ptr<waiter> next;
  };
  template <class F>
  struct waiter_for final : waiter {
    explicit waiter_for(F fn) : f(std::move(fn)) {}
    void call() override { std::move(f)(); }
    F f;
  };

  void launch();
  /// `end`, then `finish` unless `end` deferred it.
  void stop_running() noexcept;
  /// A task that dies of anything but a stop must not leave a stale status behind.
  void fail(std::exception_ptr e) noexcept;
  void finish() noexcept;
  void add_waiter(std::unique_ptr<waiter> w);

  alias_lane::refresh_hook refresh_;
  local_state::check_pin own_;       // the own check's slot: a write needs no look-up; unpinned at the end
  std::unique_ptr<waiter> waiters_;  // strand only; made only when someone waits
  std::atomic<bool> queued_{false};
  std::atomic<bool> stop_posted_{false};
  phase phase_ = phase::waiting;  // strand only
  bool end_deferred_ = false;     // strand only
};

/// Makes the task for a local alias (an empty `def.target.node`), on `lane`.
std::shared_ptr<alias_task> make_local_alias(std::shared_ptr<alias_lane> lane, local_state& state,
                                             alias_definition def);

}  // namespace coalias::detail
