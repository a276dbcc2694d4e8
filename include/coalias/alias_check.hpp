// One running alias check: a coroutine on its own strand that keeps the alias's own check in the local state
// equal to the aggregate of what it mirrors.
//
// Lifetime: the handle owns the task. `async_stop` completes only after the task has ended, and after that the
// task never writes again. Destroying a handle without stopping asks the task to stop but cannot wait for it;
// an `alias_registry` is the owner that always waits.
//
// Thread safety: `async_stop` and `stop` may be called from any thread. `stop` blocks, so it must not be called
// from a thread that runs the alias's executor (it throws `std::logic_error` rather than deadlock).
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>

#include <memory>
#include <string>
#include <system_error>

namespace coalias {

namespace detail {
class alias_task;
wake_channel& done_latch(alias_task& task) noexcept;
const asio::any_io_executor& task_executor(const alias_task& task) noexcept;
}  // namespace detail

class alias_check {
 public:
  /// Starts a local alias (`def.target.node` empty) on a strand of `ex`. Its own check `def.check_id` should be
  /// registered in `state` (an `alias_registry` does that); writes to an unregistered check are dropped.
  /// Throws `std::system_error(errc::invalid_argument)` for a remote target or an empty check ID.
  static alias_check start_local(const asio::any_io_executor& ex, local_state& state, alias_definition def);

  alias_check() = default;
  alias_check(alias_check&&) noexcept = default;
  alias_check& operator=(alias_check&& other) noexcept;
  ~alias_check();

  explicit operator bool() const noexcept { return task_ != nullptr; }
  /// The alias's own check ID.
  const std::string& check_id() const;

  /// Stops the task and completes, with signature `void(std::error_code)`, once it has ended. Completes with
  /// success at once if it already had. Cancelling this operation abandons only the wait (it then completes
  /// with `asio::error::operation_aborted`); the stop itself still happens. A handler with no associated
  /// executor runs on the alias's strand. Precondition: the handle is not empty.
  template <class CompletionToken = asio::default_completion_token_t<asio::any_io_executor>>
  auto async_stop(CompletionToken&& token = {}) {
    request_stop();
    return asio::async_compose<CompletionToken, void(std::error_code)>(stop_op{task_}, token,
                                                                        detail::task_executor(*task_));
  }

  /// Blocking form of `async_stop`, for threads outside the alias's executor.
  void stop();

 private:
  friend class alias_registry;
  explicit alias_check(std::shared_ptr<detail::alias_task> task) noexcept : task_(std::move(task)) {}
  void request_stop() noexcept;

  struct stop_op {
    std::shared_ptr<detail::alias_task> task;
    bool waiting = false;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}) {
      if (!waiting) {
        waiting = true;
        return detail::done_latch(*task).async_receive(std::move(self));
      }
      // The latch only ever closes: anything else means this wait itself was cancelled.
      self.complete(ec == asio::experimental::error::channel_closed ? std::error_code{}
                                                                    : std::error_code(asio::error::operation_aborted));
    }
  };

  std::shared_ptr<detail::alias_task> task_;
};

}  // namespace coalias
