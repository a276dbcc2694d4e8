// The coalescing wake-up signal: a concurrent Asio channel of capacity 1 carrying no data.
//
// A writer calls `wake(ch)` from any thread: it never blocks, and while one wake-up is pending further ones are
// absorbed, because the receiver re-reads the whole state anyway. A wake-up is never lost: it stays buffered until
// received. The receiver co_awaits `ch.async_receive(token)` on the channel's executor.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <asio/any_io_executor.hpp>
#include <asio/experimental/basic_concurrent_channel.hpp>
#include <asio/experimental/channel_error.hpp>

#include <cassert>
#include <cstddef>
#include <optional>
#include <system_error>
#include <utility>

namespace coalias {

/// The channel's buffer: room for exactly one element. Asio's default, std::deque, allocates over 500 bytes per
/// channel up front; with 100,000 idle aliases that alone would cost 50 MB.
/// Only for channels of capacity 0 or 1, which is all a wake channel ever is.
template <class Element>
class one_slot_buffer {
 public:
  void push_back(Element e) {
    assert(!slot_ && "one_slot_buffer holds one element: a wake_channel's capacity must be 0 or 1");
    slot_.emplace(std::move(e));
  }
  Element& front() { return *slot_; }
  void pop_front() { slot_.reset(); }
  std::size_t size() const noexcept { return slot_.has_value() ? 1 : 0; }
  void clear() noexcept { slot_.reset(); }

 private:
  std::optional<Element> slot_;
};

/// Channel traits for `void(std::error_code)`: Asio 1.22's default traits are ambiguous for that signature
/// (asio issue #1102), so these spell out the cancelled and closed completions.
struct wake_traits {
  template <class...>
  struct rebind {
    using other = wake_traits;
  };
  template <class Element>
  struct container {
    using type = one_slot_buffer<Element>;
  };
  using receive_cancelled_signature = void(std::error_code);
  template <class F>
  static void invoke_receive_cancelled(F f) {
    const std::error_code e = asio::experimental::error::channel_cancelled;
    static_cast<F&&>(f)(e);
  }
  using receive_closed_signature = void(std::error_code);
  template <class F>
  static void invoke_receive_closed(F f) {
    const std::error_code e = asio::experimental::error::channel_closed;
    static_cast<F&&>(f)(e);
  }
};

using wake_channel =
    asio::experimental::basic_concurrent_channel<asio::any_io_executor, wake_traits, void(std::error_code)>;

/// Capacity of a wake channel: one pending wake-up is enough. (A capacity-0 channel serves as a latch that is
/// only ever closed.)
inline constexpr std::size_t wake_capacity = 1;

/// Signals `ch`; coalesces with a pending wake-up. Any thread.
inline void wake(wake_channel& ch) noexcept { (void)ch.try_send(std::error_code{}); }

}  // namespace coalias
