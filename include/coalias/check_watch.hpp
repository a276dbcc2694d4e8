// Following one check from a coroutine: the pipeline API.
//
//   coalias::check_watch web_alias(state, "sidecar-alias", co_await asio::this_coro::executor);
//   co_await web_alias.until(coalias::status::passing);   // hold start-up until the dependency is healthy
//   for (;;) feed(co_await web_alias.next());              // every status or output change, no polling
//
// Thread safety: a `check_watch` is used by one coroutine at a time, on the executor it was made with; the
// local state it follows may be written from any thread. Destroy it before the `local_state`.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/health_check.hpp>
#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>

#include <memory>
#include <string>

namespace coalias {

class check_watch {
 public:
  check_watch(local_state& state, std::string check_id, const asio::any_io_executor& ex);
  check_watch(const check_watch&) = delete;
  check_watch& operator=(const check_watch&) = delete;

  /// Completes with the check's current version as soon as it differs from the one this watch last returned;
  /// the first call completes at once. Null means the check is not registered. Versions change only when a
  /// check's status or output (or its definition) changes.
  /// Cancellation: cancelling the awaiting coroutine abandons the wait (throws); the watch stays usable.
  asio::awaitable<std::shared_ptr<const health_check>> next();

  /// Completes once the check is registered with status `s`, returning that version.
  asio::awaitable<std::shared_ptr<const health_check>> until(status s);

 private:
  local_state& state_;
  std::string check_id_;
  wake_channel wakeups_;
  local_state::watch registration_;  // after wakeups_: unregisters before the channel goes
  std::shared_ptr<const health_check> last_;
  bool delivered_ = false;
};

}  // namespace coalias
