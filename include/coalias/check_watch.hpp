// Following one check from a coroutine or a callback: the pipeline API.
//
//   coalias::check_watch sidecar = agent.watch("sidecar-alias");
//   co_await sidecar.async_until(coalias::status::passing, asio::use_awaitable);  // hold start-up until healthy
//   for (;;) feed(co_await sidecar.async_next(asio::use_awaitable));              // every change, no polling
//
// Thread safety: one operation at a time per `check_watch`, started from any thread; its handlers run on the
// handler's associated executor (the watch's executor by default). The local state it follows may be written
// from any thread. Destroy the watch before the `local_state`.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/detail/change_wait.hpp>
#include <coalias/health_check.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace coalias {

class check_watch {
 public:
  using executor_type = asio::any_io_executor;
  using version = std::shared_ptr<const health_check>;

  check_watch(local_state& state, std::string check_id, const executor_type& ex);
  check_watch(const check_watch&) = delete;
  check_watch& operator=(const check_watch&) = delete;

  executor_type get_executor() noexcept { return wakeups_.get_executor(); }
  const std::string& check_id() const noexcept { return check_id_; }

  /// Waits for the check's next version: the first call completes with the current one; later calls as soon
  /// as it differs from the one this watch last delivered. Versions change only when a check's status, output
  /// or definition changes; null means the check is not registered.
  ///
  /// Completion signature: `void(std::error_code, std::shared_ptr<const health_check>)`. Errors:
  /// `asio::error::operation_aborted` when cancelled (the version is then null).
  ///
  /// Per-operation cancellation: terminal, partial and total all abandon the wait. Nothing is lost: the watch
  /// stays usable and the next call delivers whatever changed meanwhile.
  ///
  /// Thread safety: one `async_next` or `async_until` at a time per watch; the handler never runs inside this
  /// call.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_next(CompletionToken&& token = {}) {
    return detail::async_wait_for_change<version>(
        wakeups_, [this](std::error_code&) { return poll(std::nullopt); }, std::forward<CompletionToken>(token));
  }

  /// Waits until the check is registered with status `s`, and completes with that version (at once if it
  /// already is and this watch has not delivered that version yet).
  ///
  /// Completion signature: `void(std::error_code, std::shared_ptr<const health_check>)`. Errors:
  /// `asio::error::operation_aborted` when cancelled.
  ///
  /// Per-operation cancellation: terminal, partial and total all abandon the wait; the watch stays usable.
  ///
  /// Thread safety: one `async_next` or `async_until` at a time per watch; the handler never runs inside this
  /// call.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_until(status s, CompletionToken&& token = {}) {
    return detail::async_wait_for_change<version>(
        wakeups_, [this, s](std::error_code&) { return poll(s); }, std::forward<CompletionToken>(token));
  }

 private:
  /// The current version if it is new to this watch (and has status `wanted`, when given).
  std::optional<version> poll(std::optional<status> wanted);

  local_state& state_;
  std::string check_id_;
  wake_channel wakeups_;
  local_state::watch registration_;  // after wakeups_: unregisters before the channel goes
  version last_;
  bool delivered_ = false;
};

}  // namespace coalias
