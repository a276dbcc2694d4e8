// One running alias check: a task on its own strand that keeps the alias's own check in the local state
// equal to the aggregate of what it mirrors. The low-level handle; most programs let an `agent` or an
// `alias_registry` own their aliases.
//
// Lifetime: the handle owns the task. `async_stop` completes only after the task has ended, and after that the
// task never writes again. Destroying a handle whose task was never asked to stop asks it to stop, but cannot
// wait for it; debug builds assert, because the task may then still touch the local state. Call `async_stop`
// first.
//
// Thread safety: `async_stop` may be called from any thread.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <coalias/detail/completion.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <memory>
#include <string>
#include <system_error>

namespace coalias {

namespace detail {
class alias_task;
}  // namespace detail

class alias_check {
 public:
  /// Starts a local alias (`def.target.node` empty) on a strand of `ex`. Its own check `def.check_id` should be
  /// registered in `state` with `type` = `alias_check_type` (an `alias_registry` does both): without that
  /// type, other aliases count it and two aliases of each other feed each other. Writes to an unregistered
  /// check are dropped.
  /// Throws `std::system_error(errc::invalid_argument)` for a remote target or an empty check ID.
  static alias_check start_local(const asio::any_io_executor& ex, local_state& state, alias_definition def);

  alias_check() = default;
  alias_check(alias_check&&) noexcept = default;
  alias_check& operator=(alias_check&& other) noexcept;
  ~alias_check();

  explicit operator bool() const noexcept { return task_ != nullptr; }
  /// The alias's own check ID.
  const std::string& check_id() const;

  /// The strand the task runs on.
  const asio::any_io_executor& get_executor() const;

  /// Stops the task and waits for its end. Precondition: the handle is not empty.
  ///
  /// Completion signature: `void(std::error_code)`, always success: the task has ended and will never write
  /// again. It completes at once (posted) if the task had already ended.
  ///
  /// Per-operation cancellation: none. A stop is already prompt (microseconds), and completing before the end
  /// would break its one promise, so emitted cancellation is ignored: `async_stop(...) || timer` returns only
  /// after the task ended.
  ///
  /// Thread safety: any thread; the handler runs on its associated executor (the alias's strand by default).
  template <class CompletionToken = asio::default_completion_token_t<asio::any_io_executor>>
  auto async_stop(CompletionToken&& token = {}) {
    // The initiation holds the task, not the handle: a deferred stop may be launched after the handle moved.
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [task = task_](auto handler) {
          stop_then(task, detail::make_completion<std::error_code>(std::move(handler), executor_of(*task)));
        },
        token);
  }

 private:
  friend class alias_registry;
  explicit alias_check(std::shared_ptr<detail::alias_task> task) noexcept : task_(std::move(task)) {}
  void request_stop() noexcept;
  static void stop_then(const std::shared_ptr<detail::alias_task>& task, detail::completion_ptr<std::error_code> done);
  static const asio::any_io_executor& executor_of(const detail::alias_task& task) noexcept;

  std::shared_ptr<detail::alias_task> task_;
};

}  // namespace coalias
