// Type-erased completion of one GET: the engine stores it without knowing the handler type
// (Asio 1.22 has no any_completion_handler).
#pragma once

#include "http/request.hpp"

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <system_error>
#include <type_traits>
#include <utility>

namespace coalias::http::detail {

class completion {
 public:
  virtual ~completion() = default;
  /// Posts the handler with the result to its associated executor; called at most once.
  /// Destroying a completion that was never posted destroys the handler without invoking it.
  virtual void post(std::error_code ec, response r) = 0;
};

template <class Handler, class IoExecutor>
class completion_for final : public completion {
 public:
  completion_for(Handler handler, const IoExecutor& io_ex)
      : handler_(std::move(handler)),
        work_(asio::prefer(asio::get_associated_executor(handler_, io_ex), asio::execution::outstanding_work.tracked)) {}

  void post(std::error_code ec, response r) override {
    asio::post(work_, [h = std::move(handler_), ec, r = std::move(r)]() mutable {
      // The slot belongs to the handler's context: clear it there, where it is also emitted.
      asio::get_associated_cancellation_slot(h).clear();
      std::move(h)(ec, std::move(r));
    });
  }

 private:
  using work_executor = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler, IoExecutor>>(), asio::execution::outstanding_work.tracked))>;

  Handler handler_;
  work_executor work_;  // keeps the handler's context alive while curl works
};

}  // namespace coalias::http::detail
