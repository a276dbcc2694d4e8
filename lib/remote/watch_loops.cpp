#include "remote/watch_loops.hpp"

#include "consul/url.hpp"
#include "core/ascii.hpp"
#include "core/backoff.hpp"
#include "remote/remote_hub_impl.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <span>

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
  // The jitter keeps loops that failed together from retrying together (xorshift: no shared RNG state).
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  return backoff_delay(failures, options_.backoff_after, options_.backoff_base, options_.backoff_max, jitter_state_);
}

asio::awaitable<void> watch_loop::pace(asio::steady_timer& pause, clock::time_point& last_request, int failures,
                                       bool advanced) {
  // Space requests out, and back off once failures pile up: a failing or instant server sees a bounded rate. An
  // answer with a new index is a change that already happened: the next read (blocking on that index) goes at once,
  // so a flip that follows another within the spacing is not held back by it.
  auto earliest = advanced && failures == 0 ? clock::time_point{} : last_request + options_.min_request_spacing;
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
  bool advanced = false;
  clock::time_point last_request{};
  for (;;) {
    co_await pace(pause, last_request, failures, advanced);
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
    advanced = answer.index > index;
    index = next_index(answer.index, index);
    std::vector<health_check> checks = answer.checks;  // named: see group_loop::run
    co_await watch_->absorb(id_, std::move(checks), answer.index);
  }
}

// ---- group_loop ---------------------------------------------------------------------------------------------

namespace {

// Orders node names as Consul compares them: ASCII case folded.
int compare_nodes(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    // As unsigned bytes, as std::string orders the watches' lower-cased keys.
    const auto x = static_cast<unsigned char>(ascii_lower(a[i])), y = static_cast<unsigned char>(ascii_lower(b[i]));
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

bool node_less(const health_check& a, const health_check& b) noexcept { return compare_nodes(a.node, b.node) < 0; }

// Ends once every job has ended. The jobs run concurrently on `strand`: the catalog look-up of one node does not
// hold up the others of its group. Cancelling the caller cancels every job and still waits for them all, so none
// outlives its loop; then it throws operation_aborted.
asio::awaitable<void> run_all(const asio::any_io_executor& strand, std::vector<asio::awaitable<void>> jobs) {
  struct join {
    join(const asio::any_io_executor& ex, std::size_t n) : left(n), done(ex, wake_capacity), signals(n) {}
    std::size_t left;  // strand only
    wake_channel done;
    std::vector<asio::cancellation_signal> signals;
  };
  auto j = std::make_shared<join>(strand, jobs.size());
  co_await asio::this_coro::throw_if_cancelled(false);  // the waits below must happen even once cancelled
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    asio::co_spawn(strand, std::move(jobs[i]),
                   asio::bind_cancellation_slot(j->signals[i].slot(), [j](const std::exception_ptr&) {
                     if (--j->left == 0) wake(j->done);
                   }));
  }
  bool cancelled = (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
  if (!cancelled) {
    auto [ec] = co_await j->done.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
    cancelled = static_cast<bool>(ec);
  }
  if (cancelled) {
    for (auto& s : j->signals) s.emit(asio::cancellation_type::terminal);
    co_await asio::this_coro::reset_cancellation_state();  // this wait for the jobs' ends cannot be cancelled
    if (j->left > 0) co_await j->done.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_await asio::this_coro::throw_if_cancelled(true);
  if (cancelled) throw std::system_error(asio::error::operation_aborted);
}

std::vector<std::shared_ptr<node_watch>> sorted_by_node(std::vector<std::shared_ptr<node_watch>> watches) {
  std::sort(watches.begin(), watches.end(), [](const auto& a, const auto& b) { return a->node_key() < b->node_key(); });
  return watches;
}

}  // namespace

group_loop::group_loop(const asio::any_io_executor& ex, std::shared_ptr<remote_hub_impl> hub, std::uint64_t id,
                       std::string token, std::vector<std::shared_ptr<node_watch>> watches)
    : watch_loop(ex, std::move(hub), id),
      token_(std::move(token)),
      watches_(sorted_by_node(std::move(watches))),
      filter_(filter_for(watches_)) {}

std::string group_loop::filter_for(const std::vector<std::shared_ptr<node_watch>>& watches) {
  std::string filter;
  for (const auto& w : watches) {
    if (!filter.empty()) filter += " or ";
    filter += "Node == ";
    consul::append_bexpr_string(filter, w->filter_name());
  }
  return filter;
}

asio::awaitable<void> group_loop::run() {
  asio::steady_timer pause(strand_);
  consul_json_parser parser(api_.config().max_body);
  remote::health_answer answer;  // its rows are parsed in place answer after answer: no allocation once warm
  std::uint64_t index = 0;  // the first read never blocks: nothing that happened while groups re-formed is missed
  int failures = 0;
  bool advanced = false;
  clock::time_point last_request{};
  for (;;) {
    co_await pace(pause, last_request, failures, advanced);
    const auto outcome = co_await api_.health_state_any(filter_, token_, index, parser, answer);
    if (outcome.ec) {
      ++failures;
      for (const auto& w : watches_) w->absorb_failure(id_, outcome.error);
      index = 0;  // as node_loop: re-read at once when the agent answers again
      continue;
    }
    failures = 0;
    advanced = answer.index > index;
    index = next_index(answer.index, index);
    // The same rows as last time (a wake-up caused elsewhere in the datacenter): nothing to absorb unless a watch
    // still needs something, such as a catalog look-up after every answer, or a recovery after a failure.
    if (answer.same_body && std::all_of(watches_.begin(), watches_.end(), [](const auto& w) { return w->settled(); }))
      continue;
    co_await absorb(answer);
  }
}

asio::awaitable<void> group_loop::absorb(remote::health_answer& answer) {
  // Each node gets its own rows, as /v1/health/node/<node> would have answered (none at all: an empty list). Consul
  // answers sorted by node; sorted here too otherwise, so each node's rows are one run, matched against the
  // watches (sorted by node) in one pass. Only the nodes whose rows changed, or that need the catalog, are
  // absorbed: a wake-up caused elsewhere in the datacenter costs a comparison per node, no allocation.
  auto& rows = answer.checks;
  if (!std::is_sorted(rows.begin(), rows.end(), node_less)) std::stable_sort(rows.begin(), rows.end(), node_less);
  std::vector<std::pair<std::shared_ptr<node_watch>, std::vector<health_check>>> changed;
  auto at = rows.begin();
  for (const auto& w : watches_) {
    while (at != rows.end() && compare_nodes(at->node, w->node_key()) < 0) ++at;
    auto end = at;
    while (end != rows.end() && compare_nodes(end->node, w->node_key()) == 0) ++end;
    const std::span<const health_check> mine(at, end);
    at = end;
    if (w->settled(mine)) continue;
    changed.emplace_back(w, std::vector<health_check>(mine.begin(), mine.end()));
  }
  if (changed.empty()) co_return;
  bool respelled = false;
  if (changed.size() == 1) {
    respelled = !co_await changed.front().first->absorb(id_, std::move(changed.front().second), answer.index, true);
  } else {
    std::vector<asio::awaitable<void>> jobs;
    jobs.reserve(changed.size());
    for (auto& [w, mine] : changed)
      jobs.push_back([](std::shared_ptr<node_watch> w, std::uint64_t id, std::vector<health_check> mine,
                        std::uint64_t index, bool& respelled) -> asio::awaitable<void> {
        if (!co_await w->absorb(id, std::move(mine), index, true)) respelled = true;
      }(w, id_, std::move(mine), answer.index, respelled));
    co_await run_all(strand_, std::move(jobs));
  }
  // A node known to Consul by another spelling: the group re-forms with it (see node_watch::filter_name).
  if (respelled) hub_->respell(token_);
}

}  // namespace coalias::detail
