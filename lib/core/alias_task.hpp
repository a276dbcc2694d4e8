// The lifecycle every alias check shares, local or remote: start only after the predecessor ended, stop by
// cancellation, and a done latch that completes every stop waiter once the task can no longer write.
#pragma once

#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <exception>
#include <memory>

namespace coalias::detail {

class alias_task : public std::enable_shared_from_this<alias_task> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  alias_task(const asio::any_io_executor& ex, local_state& state, alias_definition def);
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
  const alias_definition& definition() const noexcept { return def_; }

 protected:
  /// The alias's body; runs on `strand()`, ends by exception when cancelled.
  virtual asio::awaitable<void> run() = 0;
  /// Writes the alias's own check. Only ever called from `run()`.
  void publish(const check_result& result);

  const strand_type strand_;
  local_state& state_;
  const alias_definition def_;

 private:
  void spawn();
  void finish();
  void report_failure(std::exception_ptr e);

  asio::cancellation_signal cancel_;
  wake_channel done_;
  bool stop_requested_ = false;  // strand only
  std::atomic<bool> stop_posted_{false};
};

/// Makes the task for a local alias (an empty `def.target.node`).
std::shared_ptr<alias_task> make_local_alias(const asio::any_io_executor& ex, local_state& state,
                                             alias_definition def);

}  // namespace coalias::detail
