// The lifecycle of every coroutine coalias owns: start only after a predecessor ended, stop by cancellation,
// and a done latch that completes every waiter once the body can no longer act.
#pragma once

#include <coalias/wake_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include <atomic>
#include <exception>
#include <cstddef>
#include <memory>
#include <system_error>
#include <vector>

namespace coalias::detail {

class structured_task : public std::enable_shared_from_this<structured_task> {
 public:
  explicit structured_task(const asio::any_io_executor& ex);
  structured_task(const structured_task&) = delete;
  structured_task& operator=(const structured_task&) = delete;
  virtual ~structured_task() = default;

  /// Runs the body once `predecessor` (if any) has ended. Call once.
  void start(std::shared_ptr<structured_task> predecessor = nullptr);

  /// Asks the task to end; any thread, idempotent. `done()` closes once it has.
  void request_stop();
  bool stop_requested() const noexcept { return stop_posted_.load(); }

  /// Closed when the task has ended; receiving on it then completes with `channel_closed`. Any thread.
  wake_channel& done() noexcept { return done_; }

  /// Calls `f()` on the strand once the task has ended. Nothing can cancel this wait: whoever waits for an end
  /// hears of it only after the body has finished, whatever its own caller emits. Any thread.
  template <class F>
  void when_ended(F f) {
    done_.async_receive([f = std::move(f)](std::error_code) mutable { std::move(f)(); });
  }
  /// The task's strand: its body and every handler of its own objects run here.
  const asio::any_io_executor& strand() const noexcept { return strand_; }

 protected:
  /// The body; runs on `strand()`, ends by exception when cancelled.
  virtual asio::awaitable<void> run() = 0;
  /// Called on the strand when the body died of anything but a stop.
  virtual void on_failure(std::exception_ptr) {}

  const asio::any_io_executor strand_;

 private:
  void spawn();
  void finish();

  asio::cancellation_signal cancel_;
  wake_channel done_;
  bool stop_requested_ = false;  // strand only
  std::atomic<bool> stop_posted_{false};
};

/// A strand over `ex`. Over an io_context's own executor the strand fits any_io_executor's inline buffer, so
/// the many copies a task's channels, timers and handlers hold allocate nothing (a strand over an
/// any_io_executor would be boxed on the heap by every copy: about 440 bytes per alias).
asio::any_io_executor make_task_strand(const asio::any_io_executor& ex);

/// Calls `f()` once every task in `tasks` has ended: on the strand of the last one to end, or inline when
/// `tasks` is empty (so callers must not hold locks that `f` takes). Nothing can cancel the wait.
template <class Task, class F>
void when_all_ended(const std::vector<std::shared_ptr<Task>>& tasks, F f) {
  struct barrier {
    barrier(std::size_t n, F fn) : left(n), f(std::move(fn)) {}
    void arrive() {
      if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) std::move(f)();
    }
    std::atomic<std::size_t> left;
    F f;
  };
  auto all = std::make_shared<barrier>(tasks.size() + 1, std::move(f));
  for (const auto& task : tasks) task->when_ended([all] { all->arrive(); });
  all->arrive();  // the +1: no arrival can finish the barrier before every wait was started
}

}  // namespace coalias::detail
