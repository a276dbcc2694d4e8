// The operation behind every "next change" wait (`check_watch::async_next`, `remote_hub::watcher::async_next`):
// poll; when nothing is ready, wait on a wake channel and poll again.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)

#include <coalias/wake_channel.hpp>

#include <asio/async_result.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <optional>
#include <system_error>
#include <utility>

namespace coalias::detail {

/// `Poll` is `std::optional<T>(std::error_code&)`: a value when one is ready, else nullopt, with the error set
/// when the wait can never succeed.
template <class T, class Poll>
class change_wait_op {
 public:
  change_wait_op(wake_channel& ch, Poll poll) : channel_(&ch), poll_(std::move(poll)) {}

  template <class Self>
  void operator()(Self& self, std::error_code ec = {}) {
    if (!started_) {
      started_ = true;
      // Waiting has no side effect, so every kind of cancellation may abandon it.
      self.reset_cancellation_state(asio::enable_total_cancellation());
      return asio::post(channel_->get_executor(), std::move(self));  // never complete inside the initiation
    }
    if (ec || self.get_cancellation_state().cancelled() != asio::cancellation_type::none)
      return self.complete(asio::error::operation_aborted, T{});
    std::error_code failure;
    if (auto value = poll_(failure)) return self.complete(std::error_code{}, std::move(*value));
    if (failure) return self.complete(failure, T{});
    channel_->async_receive(std::move(self));  // a wake-up that arrived after the poll is still buffered here
  }

 private:
  wake_channel* channel_;
  Poll poll_;
  bool started_ = false;
};

template <class T, class CompletionToken, class Poll>
auto async_wait_for_change(wake_channel& ch, Poll poll, CompletionToken&& token) {
  return asio::async_compose<CompletionToken, void(std::error_code, T)>(change_wait_op<T, Poll>(ch, std::move(poll)),
                                                                        token, ch);
}

}  // namespace coalias::detail
