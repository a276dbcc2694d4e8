#include <coalias/remote_hub.hpp>

#include "core/ascii.hpp"
#include "remote/remote_hub_impl.hpp"

#include <coalias/error.hpp>

#include <asio/post.hpp>

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
    watch = std::make_shared<node_watch>(shared_from_this(), node, effective_token(token));
    schedule_replan();
  }
  const auto id = watch->subscribe(ch, service_id);
  return {watch, id};
}

void remote_hub_impl::unsubscribe(const std::shared_ptr<node_watch>& watch, std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (watch->unsubscribe(id) > 0) return;
  const auto it = std::find_if(watches_.begin(), watches_.end(), [&](const auto& w) { return w.second == watch; });
  if (it == watches_.end()) return;  // already stopped by stop_all
  watches_.erase(it);
  // A node's own loop stops at once; groups re-form with the next re-plan.
  if (const auto loop = node_loops_.find(watch.get()); loop != node_loops_.end()) {
    retire(loop->second);
    node_loops_.erase(loop);
  }
  schedule_replan();
}

void remote_hub_impl::respell(const std::string& token) {
  std::lock_guard lock(mutex_);
  const auto set = groups_.find(token);
  if (set == groups_.end()) return;
  set->second.respelled = true;
  schedule_replan();
}

void remote_hub_impl::retire(std::shared_ptr<structured_task> loop) {
  loop->request_stop();  // posted, never inline
  // Forget retired loops that have ended; keep the rest for shutdown to wait on.
  std::erase_if(retired_, [](const auto& l) { return l.expired(); });
  retired_.push_back(std::move(loop));
}

void remote_hub_impl::schedule_replan() {
  if (replan_posted_ || stopped_) return;
  replan_posted_ = true;
  // Posted: a burst of subscriptions (a registry adding thousands of aliases) re-forms the groups once.
  asio::post(executor_, [self = shared_from_this()] { self->replan(); });
}

void remote_hub_impl::replan() {
  std::lock_guard lock(mutex_);
  replan_posted_ = false;
  if (stopped_) return;
  const std::size_t slots = api_.blocking_slots();
  if (watches_.size() <= slots) {
    // Per-node mode: every watch has its own blocking query, which wakes only when its node changes.
    for (auto& [token, set] : groups_)
      for (auto& loop : set.loops) retire(loop);
    groups_.clear();
    for (const auto& [k, watch] : watches_) {
      if (node_loops_.contains(watch.get())) continue;
      const auto id = next_loop_id_++;
      watch->set_owner(id);
      auto loop = std::make_shared<node_loop>(executor_, shared_from_this(), id, watch);
      loop->start();
      node_loops_.emplace(watch.get(), std::move(loop));
    }
    return;
  }
  // Group mode: the blocking slots are shared out between the tokens, each token's nodes between its groups.
  for (auto& [watch, loop] : node_loops_) retire(loop);
  node_loops_.clear();
  std::map<std::string, std::vector<std::shared_ptr<node_watch>>> by_token;
  for (const auto& [k, watch] : watches_) by_token[k.first].push_back(watch);
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (by_token.contains(it->first)) {
      ++it;
      continue;
    }
    for (auto& loop : it->second.loops) retire(loop);
    it = groups_.erase(it);
  }
  // Every group query wakes on any check change in the datacenter, so there are few of them, over h2 as well.
  // Each token gets an equal share of them (the first tokens one more, so no slot is left idle), at least one.
  const std::size_t queries = api_.group_queries();
  const std::size_t per_token = std::max<std::size_t>(1, queries / by_token.size());
  std::size_t spare = by_token.size() < queries ? queries % by_token.size() : 0;
  for (const auto& [token, watches] : by_token) {
    std::vector<node_watch*> members;
    members.reserve(watches.size());
    for (const auto& w : watches) members.push_back(w.get());
    const std::size_t n = watches.size();
    const std::size_t share = per_token + (spare > 0 ? 1 : 0);
    if (spare > 0) --spare;
    const std::size_t k = std::min(share, n);
    auto& set = groups_[token];
    if (set.members == members && set.loops.size() == k && !set.respelled) continue;  // keep the held queries
    set.respelled = false;
    // Re-form: the old loops are cancelled (their transfers aborted) and the new ones start with a non-blocking
    // read, so a change made meanwhile is seen; a late answer of an old loop is no longer published.
    for (auto& loop : set.loops) retire(loop);
    set.loops.clear();
    set.members = std::move(members);
    for (std::size_t g = 0; g < k; ++g) {
      std::vector<std::shared_ptr<node_watch>> share(watches.begin() + static_cast<std::ptrdiff_t>(g * n / k),
                                                     watches.begin() + static_cast<std::ptrdiff_t>((g + 1) * n / k));
      const auto id = next_loop_id_++;
      for (const auto& w : share) w->set_owner(id);
      auto loop = std::make_shared<group_loop>(executor_, shared_from_this(), id, token, std::move(share));
      loop->start();
      set.loops.push_back(std::move(loop));
    }
  }
}

std::vector<std::shared_ptr<structured_task>> remote_hub_impl::stop_all() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  // Retired loops stay listed after a shutdown, so a second shutdown also waits for them (a loop that has
  // ended completes its wait at once).
  for (auto& [k, w] : watches_) w->close();
  watches_.clear();
  for (auto& [w, loop] : node_loops_) retired_.push_back(loop);
  node_loops_.clear();
  for (auto& [token, set] : groups_)
    for (auto& loop : set.loops) retired_.push_back(loop);
  groups_.clear();
  std::vector<std::shared_ptr<structured_task>> all;
  for (auto& weak : retired_) {
    if (auto loop = weak.lock()) {
      loop->request_stop();
      all.push_back(std::move(loop));
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
