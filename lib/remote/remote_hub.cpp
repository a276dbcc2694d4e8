#include <coalias/remote_hub.hpp>

#include "core/ascii.hpp"
#include "remote/remote_hub_impl.hpp"

#include <coalias/error.hpp>

#include <algorithm>
#include <cassert>

namespace coalias {
namespace detail {

remote_hub_impl::remote_hub_impl(const asio::any_io_executor& ex, consul_config config, remote_options options)
    : executor_(ex), options_(std::move(options)), api_(ex, std::move(config), options_.request_timeout) {}

std::pair<std::shared_ptr<node_watch>, std::uint64_t> remote_hub_impl::subscribe(const std::string& node,
                                                                                 const std::string& token,
                                                                                 wake_channel& ch,
                                                                                 const std::string& service_id) {
  std::string lowered = ascii_lower(node);
  std::lock_guard lock(mutex_);
  if (stopped_) throw std::system_error(errc::shut_down, "remote hub");
  auto& watch = watches_[key{effective_token(token), std::move(lowered)}];
  if (!watch) {
    watch = std::make_shared<node_watch>(executor_, shared_from_this(), node, effective_token(token));
    watch->start();
  }
  const auto id = watch->subscribe(ch, service_id);
  return {watch, id};
}

void remote_hub_impl::unsubscribe(const std::shared_ptr<node_watch>& watch, std::uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (watch->unsubscribe(id) > 0) return;
    const auto it = std::find_if(watches_.begin(), watches_.end(), [&](const auto& w) { return w.second == watch; });
    if (it == watches_.end()) return;  // already stopped by stop_all
    watches_.erase(it);
    // Forget retired watches that are gone; keep the rest for shutdown to wait on.
    std::erase_if(retired_, [](const auto& w) { return w.expired(); });
    retired_.push_back(watch);
  }
  watch->request_stop();  // outside the lock
}

std::vector<std::shared_ptr<node_watch>> remote_hub_impl::stop_all() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  // Retired watches stay listed after a shutdown, so a second shutdown also waits for them (a watch that has
  // ended completes its wait at once).
  for (auto& [k, w] : watches_) retired_.push_back(w);
  watches_.clear();
  std::vector<std::shared_ptr<node_watch>> all;
  for (auto& weak : retired_) {
    if (auto w = weak.lock()) {
      w->close();
      w->request_stop();
      all.push_back(std::move(w));
    }
  }
  return all;
}

std::size_t remote_hub_impl::watch_count() const {
  std::lock_guard lock(mutex_);
  return watches_.size();
}

bool remote_hub_impl::idle() const {
  std::lock_guard lock(mutex_);
  return stopped_ || watches_.empty();
}

}  // namespace detail

remote_hub::remote_hub(const asio::any_io_executor& ex, consul_config config, remote_options options)
    : impl_(std::make_shared<detail::remote_hub_impl>(ex, std::move(config), std::move(options))) {}

remote_hub::~remote_hub() {
  assert(impl_->idle() && "coalias::remote_hub destroyed with watches running: co_await async_shutdown() first");
  impl_->stop_all();
}

remote_hub::executor_type remote_hub::get_executor() const noexcept { return impl_->executor(); }
const consul_config& remote_hub::config() const noexcept { return impl_->config(); }
const remote_options& remote_hub::options() const noexcept { return impl_->options(); }
std::size_t remote_hub::watch_count() const { return impl_->watch_count(); }

void remote_hub::start_shutdown(detail::completion_ptr<std::error_code> done) {
  detail::when_all_ended(impl_->stop_all(), [done = std::move(done)] { done->post(std::error_code{}); });
}

// --- watcher ----------------------------------------------------------------------------------------------

remote_hub::watcher::watcher(remote_hub& hub, alias_target target, const asio::any_io_executor& ex,
                             std::string token, check_key self)
    : target_(std::move(target)), self_(std::move(self)), wakeups_(ex, wake_capacity), hub_(hub.impl_) {
  std::tie(watch_, subscription_) = hub_->subscribe(target_.node, token, wakeups_, target_.service_id);
}

remote_hub::watcher::~watcher() { hub_->unsubscribe(watch_, subscription_); }

std::optional<remote_evaluation> remote_hub::watcher::poll(std::error_code& ec) {
  if (watch_->closed()) {
    ec = errc::shut_down;
    return std::nullopt;
  }
  auto ev = detail::evaluate(*watch_->snapshot(), target_, self_);
  if (!ev || (last_ && ev->result == *last_)) return std::nullopt;
  last_ = ev->result;
  return ev;
}

}  // namespace coalias
