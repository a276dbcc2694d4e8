#include <coalias/check_watch.hpp>

#include <asio/use_awaitable.hpp>

namespace coalias {

check_watch::check_watch(local_state& state, std::string check_id, const asio::any_io_executor& ex)
    : state_(state),
      check_id_(std::move(check_id)),
      wakeups_(ex, wake_capacity),
      registration_(state_.watch_check(check_id_, wakeups_)) {}

asio::awaitable<std::shared_ptr<const health_check>> check_watch::next() {
  for (;;) {
    // Registered before this read, so a change after it leaves a wake-up pending: none is lost.
    auto current = state_.check(check_id_);
    if (!delivered_ || current != last_) {
      delivered_ = true;
      last_ = current;
      co_return current;
    }
    co_await wakeups_.async_receive(asio::use_awaitable);
  }
}

asio::awaitable<std::shared_ptr<const health_check>> check_watch::until(status s) {
  for (;;) {
    auto current = co_await next();
    if (current && current->status == s) co_return current;
  }
}

}  // namespace coalias
