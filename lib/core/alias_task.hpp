// The lifecycle every alias check shares, local or remote: start only after the predecessor ended, stop by
// cancellation, and a done latch that completes every stop waiter once the task can no longer write.
#pragma once

#include <coalias/aggregate.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <string>

namespace coalias::detail {

class alias_task : public std::enable_shared_from_this<alias_task> {
 public:
  using strand_type = asio::any_io_executor;  // a strand; see make_task_strand

  /// `check_id` names the alias's own check, which the task writes through `state`.
  alias_task(const asio::any_io_executor& ex, local_state& state, std::string check_id);
  alias_task(const alias_task&) = delete;
  alias_task& operator=(const alias_task&) = delete;
  virtual ~alias_task() = default;

  /// Runs the body once `predecessor` (if any) has ended, so two tasks never write the same check (race 3).
  void start(std::shared_ptr<alias_task> predecessor);

  /// Asks the task to end; any thread, idempotent. `done()` closes once it has.
  void request_stop();

  /// Closed when the task has ended; receiving on it then completes with `channel_closed`. Any thread.
  wake_channel& done() noexcept { return done_; }
  const strand_type& strand() const noexcept { return strand_; }
  const std::string& check_id() const noexcept { return self_.check_id; }

 protected:
  /// The alias's body; runs on `strand()`, ends by exception when cancelled.
  virtual asio::awaitable<void> run() = 0;
  /// Writes the alias's own check. Only ever called from `run()`.
  void publish(const check_result& result);

  const strand_type strand_;
  local_state& state_;
  const check_key self_;  // never counted by its own aggregation

 private:
  void spawn();
  void finish();
  void report_failure(std::exception_ptr e);

  asio::cancellation_signal cancel_;
  wake_channel done_;
  bool stop_requested_ = false;  // strand only
  std::atomic<bool> stop_posted_{false};
};

/// A strand over `ex`. Over an io_context's own executor the strand fits any_io_executor's inline buffer, so
/// the many copies an alias's channels, timer and handlers hold allocate nothing (a strand over an
/// any_io_executor would be boxed on the heap by every copy: about 440 bytes per alias).
asio::any_io_executor make_task_strand(const asio::any_io_executor& ex);

/// True if the calling thread is running `strand` or the io_context below it.
bool running_in_this_thread(const asio::any_io_executor& strand) noexcept;

/// Makes the task for a local alias (an empty `def.target.node`).
std::shared_ptr<alias_task> make_local_alias(const asio::any_io_executor& ex, local_state& state,
                                             alias_definition def);

}  // namespace coalias::detail
