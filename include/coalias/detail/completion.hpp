// A type-erased completion handler: non-template code stores a handler without knowing its type (Asio 1.22 has
// no any_completion_handler). Every public asynchronous operation of coalias hands its handler to one of these.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace coalias::detail {

template <class... Args>
class completion {
 public:
  virtual ~completion() = default;
  /// Posts the handler with `args` to its associated executor, never running it inline; call at most once.
  /// Destroying a completion that was never posted destroys the handler without invoking it.
  virtual void post(Args... args) = 0;
  /// Like `post`, but runs the handler inline when the calling thread already runs in its executor. Only for
  /// callers that are themselves handlers, so never inside the initiating function.
  virtual void dispatch(Args... args) = 0;
};

template <class... Args>
using completion_ptr = std::unique_ptr<completion<Args...>>;

template <class Handler, class IoExecutor, class... Args>
class completion_for final : public completion<Args...> {
 public:
  completion_for(Handler handler, const IoExecutor& io_ex)
      : handler_(std::move(handler)),
        work_(asio::prefer(asio::get_associated_executor(handler_, io_ex), asio::execution::outstanding_work.tracked)) {}

  void post(Args... args) override { asio::post(work_, invoker(std::move(args)...)); }
  void dispatch(Args... args) override { asio::dispatch(work_, invoker(std::move(args)...)); }

 private:
  auto invoker(Args... args) {
    return [h = std::move(handler_), ... args = std::move(args)]() mutable {
      // The slot belongs to the handler's context: clear it there, where it is also emitted.
      asio::get_associated_cancellation_slot(h).clear();
      std::move(h)(std::move(args)...);
    };
  }

  using work_executor = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler, IoExecutor>>(), asio::execution::outstanding_work.tracked))>;

  Handler handler_;
  work_executor work_;  // keeps the handler's context alive while the operation runs
};

/// Wraps `handler`; `io_ex` is the executor it runs on when it has none of its own.
template <class... Args, class Handler, class IoExecutor>
completion_ptr<Args...> make_completion(Handler&& handler, const IoExecutor& io_ex) {
  return std::make_unique<completion_for<std::decay_t<Handler>, IoExecutor, Args...>>(std::forward<Handler>(handler),
                                                                                      io_ex);
}

}  // namespace coalias::detail
