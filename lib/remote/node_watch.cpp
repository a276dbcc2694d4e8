#include "remote/node_watch.hpp"

#include "core/ascii.hpp"
#include "remote/remote_hub_impl.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace coalias::detail {

std::optional<remote_evaluation> evaluate(const node_snapshot& snap, const alias_target& target,
                                          const check_key& self) {
  // Consul's policy: the first failure is silent; from the second consecutive one the alias is critical.
  if (snap.failures >= 2)
    return remote_evaluation{{status::critical, "Failure checking aliased node or service: " + snap.error}, snap.index};
  if (snap.failures == 1 || !snap.checks) return std::nullopt;
  aggregator agg(target, self);
  for (const auto& c : *snap.checks) agg.add(c);
  presence p = presence::present;
  if (agg.needs_presence() && snap.catalog) {
    const auto& ids = snap.catalog->service_ids;
    if (!snap.catalog->found)
      p = presence::node_missing;
    else if (!target.service_id.empty() && std::find(ids.begin(), ids.end(), target.service_id) == ids.end())
      p = presence::service_missing;
  }
  return remote_evaluation{agg.finish(p), snap.index};
}

node_watch::node_watch(std::shared_ptr<remote_hub_impl> hub, std::string node, std::string token)
    : hub_(std::move(hub)),
      api_(hub_->api()),
      options_(hub_->options()),
      node_(std::move(node)),
      node_key_(ascii_lower(node_)),
      token_(std::move(token)),
      filter_name_(node_) {}

void node_watch::set_owner(std::uint64_t loop) {
  std::lock_guard lock(mutex_);
  owner_ = loop;
}

std::uint64_t node_watch::subscribe(wake_channel& ch, const std::string& service_id) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  subscribers_.emplace(id, subscriber{&ch, service_id});
  ++wanted_services_[service_id];
  if (snapshot_->checks || snapshot_->failures) wake(ch);  // something to evaluate already
  return id;
}

std::size_t node_watch::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (const auto it = subscribers_.find(id); it != subscribers_.end()) {
    const auto wanted = wanted_services_.find(it->second.service_id);
    if (--wanted->second == 0) wanted_services_.erase(wanted);
    subscribers_.erase(it);
  }
  return subscribers_.size();
}

std::shared_ptr<const node_snapshot> node_watch::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void node_watch::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& [id, sub] : subscribers_) wake(*sub.channel);
}

bool node_watch::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void node_watch::publish(std::uint64_t loop, node_snapshot next) {
  auto snap = std::make_shared<const node_snapshot>(std::move(next));
  std::lock_guard lock(mutex_);
  if (loop != owner_) return;  // a loop that was retired (groups re-formed, mode switched) answered late
  snapshot_ = std::move(snap);
  for (auto& [id, sub] : subscribers_) wake(*sub.channel);
}

bool node_watch::needs_catalog(std::span<const health_check> checks) const {
  std::lock_guard lock(mutex_);
  return needs_catalog_locked(checks);
}

bool node_watch::needs_catalog_locked(std::span<const health_check> checks) const {
  // Only this node's checks say a service exists: an answer may hold rows of other nodes (a node ID in the path,
  // a proxy), and the aggregation skips those too. A linear scan: a node has a handful of rows and of services.
  for (const auto& wanted : wanted_services_) {
    const std::string& service = wanted.first;  // not a structured binding: clang 14 cannot capture those
    const bool shown = std::any_of(checks.begin(), checks.end(), [&](const health_check& c) {
      return node_names_equal(c.node, node_) && (service.empty() || c.service_id == service);
    });
    if (!shown) return true;
  }
  return false;
}

std::string node_watch::filter_name() const {
  std::lock_guard lock(mutex_);
  return filter_name_;
}

bool node_watch::settled(std::span<const health_check> rows) const {
  const auto previous = snapshot();
  if (!previous->checks || previous->failures != 0) return false;
  if (!std::equal(rows.begin(), rows.end(), previous->checks->begin(), previous->checks->end())) return false;
  return !needs_catalog(rows);
}

bool node_watch::settled() const {
  // One lock, no snapshot copy: a group asks this of each of its thousands of nodes on every repeated answer.
  std::lock_guard lock(mutex_);
  return snapshot_->checks && snapshot_->failures == 0 && !needs_catalog_locked(*snapshot_->checks);
}

asio::awaitable<std::optional<catalog_node>> node_watch::lookup_catalog() {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  // Its own parser: the look-ups of a group's nodes run concurrently.
  consul_json_parser parser(api_.config().max_body);
  for (int attempt = 1; attempt <= options_.catalog_attempts; ++attempt) {
    catalog_node out;
    const auto outcome = co_await api_.catalog_node(node_, token_, parser, out);
    if (!outcome.ec) co_return out;
    if (attempt < options_.catalog_attempts) {
      pause.expires_after(options_.catalog_retry_delay * attempt);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
  co_return std::nullopt;  // could not be determined: assume it exists, as Consul does
}

asio::awaitable<bool> node_watch::absorb(std::uint64_t loop, std::vector<health_check> checks, std::uint64_t index,
                                         bool by_name) {
  const auto previous = snapshot();
  const bool changed = !previous->checks || *previous->checks != checks || previous->failures != 0;
  if (previous->failures != 0 && options_.observer != nullptr) options_.observer->on_query_recovered(node_);
  // While an aliased service (or node) has no checks, only the catalog tells whether it exists, and a service
  // without checks comes and goes without moving any check: ask after every answer, as Consul does.
  std::optional<catalog_node> catalog;
  if (needs_catalog(checks)) {
    catalog = co_await lookup_catalog();
    if (by_name && catalog && catalog->found && !catalog->node.empty()) {
      std::lock_guard lock(mutex_);
      if (catalog->node != filter_name_) {
        filter_name_ = catalog->node;  // the filter asked for another spelling: its rows are not this node's
        co_return false;
      }
    }
  }
  // A wake-up is not a change: the index of an unknown node moves with every check in the cluster.
  if (!changed && catalog == previous->catalog) co_return true;
  node_snapshot next;
  next.checks = std::make_shared<const std::vector<health_check>>(std::move(checks));
  next.index = index;
  next.catalog = std::move(catalog);
  publish(loop, std::move(next));
  co_return true;
}

void node_watch::absorb_failure(std::uint64_t loop, const std::string& error) {
  if (options_.observer != nullptr) options_.observer->on_query_failed(node_, error);
  node_snapshot next = *snapshot();
  ++next.failures;
  next.error = error;
  publish(loop, std::move(next));
}

}  // namespace coalias::detail
