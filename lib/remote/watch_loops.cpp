#include "remote/watch_loops.hpp"

#include "consul/url.hpp"
#include "core/ascii.hpp"
#include "remote/remote_hub_impl.hpp"

#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <unordered_map>

namespace coalias::detail {

using clock = std::chrono::steady_clock;

watch_loop::watch_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id)
    : structured_task(ex),
      hub_(std::move(hub)),
      api_(hub_->api()),
      options_(hub_->options()),
      id_(id),
      jitter_state_(reinterpret_cast<std::uintptr_t>(this) | 1) {}

std::chrono::milliseconds watch_loop::backoff(int failures) {
  const int doublings = std::min(failures - options_.backoff_after - 1, 30);
  auto wait = options_.backoff_base;
  for (int i = 0; i < doublings && wait < options_.backoff_max; ++i) wait *= 2;
  wait = std::min(wait, options_.backoff_max);
  // Up to 20% jitter, so loops that failed together do not retry together (xorshift: no shared RNG state).
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const auto extra = wait.count() > 0 ? static_cast<long>(jitter_state_ % static_cast<std::uint64_t>(wait.count() / 5 + 1)) : 0;
  return std::min(wait + std::chrono::milliseconds(extra), options_.backoff_max);
}

asio::awaitable<void> watch_loop::pace(asio::steady_timer& pause, clock::time_point& last_request, int failures) {
  // Space requests out, and back off once failures pile up: a failing or instant server sees a bounded rate.
  auto earliest = last_request + options_.min_request_spacing;
  if (failures > options_.backoff_after) earliest = std::max(earliest, clock::now() + backoff(failures));
  if (clock::now() < earliest) {
    pause.expires_at(earliest);
    co_await pause.async_wait(asio::use_awaitable);
  }
  last_request = clock::now();
}

// Consul's rules: an index that goes backwards resets to 0; never block on less than 1 afterwards.
static std::uint64_t next_index(std::uint64_t answered, std::uint64_t index) {
  return std::max<std::uint64_t>(answered < index ? 0 : answered, 1);
}

// ---- node_loop ----------------------------------------------------------------------------------------------

node_loop::node_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id,
                     std::shared_ptr<node_watch> watch)
    : watch_loop(ex, std::move(hub), id), watch_(std::move(watch)) {}

asio::awaitable<void> node_loop::run() {
  asio::steady_timer pause(strand_);
  consul_json_parser parser(api_.config().max_body);
  remote::health_answer answer;
  std::uint64_t index = 0;  // the first read never blocks: whatever happened before this loop is seen
  int failures = 0;
  clock::time_point last_request{};
  for (;;) {
    co_await pace(pause, last_request, failures);
    const auto outcome = co_await api_.health_node(watch_->node(), watch_->token(), index, parser, answer);
    if (outcome.ec) {
      ++failures;
      watch_->absorb_failure(id_, outcome.error);
      // Re-read without blocking once the agent answers again: blocking on the old index would keep the alias
      // failed for up to `wait` on a quiet node although the agent is back.
      index = 0;
      continue;
    }
    failures = 0;
    index = next_index(answer.index, index);
    std::vector<health_check> checks = answer.checks;  // named: see group_loop::run
    co_await watch_->absorb(id_, std::move(checks), answer.index, parser);
  }
}

// ---- group_loop ---------------------------------------------------------------------------------------------

group_loop::group_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id,
                       std::string token, std::vector<std::shared_ptr<node_watch>> watches)
    : watch_loop(ex, std::move(hub), id),
      token_(std::move(token)),
      watches_(std::move(watches)),
      filter_(filter_for(watches_)) {}

std::string group_loop::filter_for(const std::vector<std::shared_ptr<node_watch>>& watches) {
  std::string filter;
  for (const auto& w : watches) {
    if (!filter.empty()) filter += " or ";
    filter += "Node == ";
    consul::append_bexpr_string(filter, w->node());
  }
  return filter;
}

asio::awaitable<void> group_loop::run() {
  asio::steady_timer pause(strand_);
  consul_json_parser parser(api_.config().max_body);
  remote::health_answer answer;
  std::unordered_map<std::string, std::vector<health_check>> by_node;  // lower-cased node name -> its rows
  std::uint64_t index = 0;  // the first read never blocks: nothing that happened while groups re-formed is missed
  int failures = 0;
  clock::time_point last_request{};
  for (;;) {
    co_await pace(pause, last_request, failures);
    const auto outcome = co_await api_.health_state_any(filter_, token_, index, parser, answer);
    if (outcome.ec) {
      ++failures;
      for (const auto& w : watches_) w->absorb_failure(id_, outcome.error);
      index = 0;  // as node_loop: re-read at once when the agent answers again
      continue;
    }
    failures = 0;
    index = next_index(answer.index, index);
    // Each node gets its own rows, as /v1/health/node/<node> would have answered; none at all is an empty list.
    by_node.clear();
    for (auto& c : answer.checks) by_node[ascii_lower(c.node)].push_back(std::move(c));
    for (const auto& w : watches_) {
      // A named value, not a temporary in the co_await expression: g++ 12 mis-destroys those (docs/toolchain.md).
      std::vector<health_check> mine;
      if (const auto rows = by_node.find(w->node_key()); rows != by_node.end()) mine = std::move(rows->second);
      co_await w->absorb(id_, std::move(mine), answer.index, parser);
    }
  }
}

}  // namespace coalias::detail
