#include "remote/node_watch.hpp"

#include "remote/remote_hub_impl.hpp"

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <unordered_set>

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

node_watch::node_watch(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::string node,
                       std::string token)
    : structured_task(ex),
      hub_(std::move(hub)),
      api_(hub_->api()),
      options_(hub_->options()),
      node_(std::move(node)),
      token_(std::move(token)),
      jitter_state_(reinterpret_cast<std::uintptr_t>(this) | 1) {}

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

void node_watch::publish(node_snapshot next) {
  auto snap = std::make_shared<const node_snapshot>(std::move(next));
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snap);
  for (auto& [id, sub] : subscribers_) wake(*sub.channel);
}

bool node_watch::needs_catalog(const std::vector<health_check>& checks) const {
  // Only this node's checks say a service exists: an answer may hold rows of other nodes (a node ID in the path,
  // a proxy), and the aggregation skips those too.
  std::unordered_set<std::string_view> found;
  bool node_has_checks = false;
  for (const auto& c : checks) {
    if (!node_names_equal(c.node, node_)) continue;
    node_has_checks = true;
    if (!c.service_id.empty()) found.insert(c.service_id);
  }
  std::lock_guard lock(mutex_);
  for (const auto& [service, count] : wanted_services_) {
    if (service.empty() ? !node_has_checks : !found.contains(service)) return true;
  }
  return false;
}

std::chrono::milliseconds node_watch::backoff(int failures) {
  const int doublings = std::min(failures - options_.backoff_after - 1, 30);
  auto wait = options_.backoff_base;
  for (int i = 0; i < doublings && wait < options_.backoff_max; ++i) wait *= 2;
  wait = std::min(wait, options_.backoff_max);
  // Up to 20% jitter, so watches that failed together do not retry together (xorshift: no shared RNG state).
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const auto extra = wait.count() > 0 ? static_cast<long>(jitter_state_ % static_cast<std::uint64_t>(wait.count() / 5 + 1)) : 0;
  return std::min(wait + std::chrono::milliseconds(extra), options_.backoff_max);
}

asio::awaitable<std::optional<catalog_node>> node_watch::lookup_catalog(consul_json_parser& parser) {
  asio::steady_timer pause(strand_);
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

asio::awaitable<void> node_watch::run() {
  using clock = std::chrono::steady_clock;
  asio::steady_timer pause(strand_);
  consul_json_parser parser(api_.config().max_body);
  remote::health_answer answer;
  std::uint64_t index = 0;
  int failures = 0;
  clock::time_point last_request{};

  for (;;) {
    // Space requests out, and back off once failures pile up: a failing or instant server sees a bounded rate.
    auto earliest = last_request + options_.min_request_spacing;
    if (failures > options_.backoff_after) earliest = std::max(earliest, clock::now() + backoff(failures));
    if (clock::now() < earliest) {
      pause.expires_at(earliest);
      co_await pause.async_wait(asio::use_awaitable);
    }
    last_request = clock::now();

    const auto outcome = co_await api_.health_node(node_, token_, index, parser, answer);
    const auto previous = snapshot();
    if (outcome.ec) {
      node_snapshot next = *previous;
      next.failures = ++failures;
      next.error = outcome.error;
      publish(std::move(next));
      // Re-read without blocking once the agent answers again: blocking on the old index would keep the alias
      // failed for up to `wait` on a quiet node although the agent is back.
      index = 0;
      continue;
    }
    failures = 0;

    // Consul's rules: an index that goes backwards resets to 0; never block on less than 1 afterwards.
    index = answer.index < index ? 0 : answer.index;
    index = std::max<std::uint64_t>(index, 1);

    const bool changed = !previous->checks || *previous->checks != answer.checks || previous->failures != 0;
    // While an aliased service (or node) has no checks, only the catalog tells whether it exists, and a service
    // without checks comes and goes without moving any check: ask after every answer, as Consul does.
    std::optional<catalog_node> catalog;
    if (needs_catalog(answer.checks)) catalog = co_await lookup_catalog(parser);
    // A wake-up is not a change: the index of an unknown node moves with every check in the cluster.
    if (!changed && catalog == previous->catalog) continue;
    node_snapshot next;
    next.checks = std::make_shared<const std::vector<health_check>>(answer.checks);
    next.index = answer.index;
    next.catalog = std::move(catalog);
    publish(std::move(next));
  }
}

}  // namespace coalias::detail
