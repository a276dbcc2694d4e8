// The lifecycle of every coroutine coalias owns: start only after a predecessor ended, stop by cancellation,
// and a done latch that completes every waiter once the body can no longer act.
#pragma once

#include <coalias/wake_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include <atomic>
#include <exception>
#include <memory>

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

/// True if the calling thread is running `strand` or the io_context below it.
bool running_in_this_thread(const asio::any_io_executor& strand) noexcept;

/// Waits for a task's end (not cancellable: the latch closes promptly once a stop was requested).
asio::awaitable<void> join(structured_task& task);

}  // namespace coalias::detail
