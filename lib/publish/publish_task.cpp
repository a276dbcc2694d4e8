#include "publish/publish_task.hpp"

#include <coalias/check_watch.hpp>
#include <coalias/health_check.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>

namespace coalias::publish {
namespace {

using clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

// What the agent shows between registration and the first update (Consul ignores it, but the intent is on record).
constexpr std::string_view not_evaluated = "Registered by coalias; not evaluated yet";
// The first retries of a failed request, as a remote query spaces its requests.
constexpr std::chrono::milliseconds retry_spacing{100};

}  // namespace

publish_task::publish_task(const asio::any_io_executor& ex, local_state& state, std::shared_ptr<agent_api> api,
                           published_check check, const publish_options& options,
                           std::shared_ptr<publish_task> carry_from)
    : structured_task(ex),
      state_(state),
      api_(std::move(api)),
      check_(std::move(check)),
      options_(options),
      carry_from_(std::move(carry_from)),
      jitter_(std::random_device{}()) {}

publish_stats publish_task::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

publish_task::wire_state publish_task::wire_of(const std::shared_ptr<const health_check>& version) const {
  if (!version) return {status::critical, "Check \"" + check_.check_id + "\" is not registered in the local state"};
  return {version->status, std::string(truncate_output(version->output))};
}

std::chrono::milliseconds publish_task::retry_delay(int failures) {
  if (failures <= options_.backoff_after) return std::min(retry_spacing, options_.backoff_base);
  const int doublings = std::min(failures - options_.backoff_after - 1, 30);
  auto wait = options_.backoff_base;
  for (int i = 0; i < doublings && wait < options_.backoff_max; ++i) wait *= 2;
  wait = std::min(wait, options_.backoff_max);
  std::uniform_int_distribution<std::int64_t> extra(0, wait.count() / 5);  // up to 20% jitter
  return std::min(wait + std::chrono::milliseconds(extra(jitter_)), options_.backoff_max);
}

asio::awaitable<void> publish_task::run() {
  publish_observer* const observer = options_.observer;
  const std::string& id = check_.check_id;
  status register_status = status::critical;
  if (carry_from_) {  // it has ended: its stats are final
    register_status = carry_from_->stats().published.value_or(status::critical);
    carry_from_.reset();
  }
  check_watch watch(state_, id, strand_);  // registered before the first read: no change is missed
  asio::steady_timer timer(strand_);
  const auto heartbeat = options_.ttl / 3;

  bool registered = false;
  std::shared_ptr<const health_check> observed;
  bool observed_any = false;
  clock::time_point changed_at = clock::now();
  std::optional<wire_state> acked;  // what the agent has acknowledged since the latest registration
  clock::time_point acked_at;
  int failures = 0;

  for (;;) {
    // The latest state always wins: whatever changed while a request was in flight is read here.
    auto current = state_.check(id);
    if (!observed_any || current != observed) {
      observed = current;
      observed_any = true;
      changed_at = clock::now();
    }
    const wire_state desired = wire_of(current);
    const bool registering = !registered;
    put_outcome out;
    if (registering) {
      out = co_await api_->put(agent_api::register_path(),
                               agent_api::register_body(check_, options_.ttl, register_status, not_evaluated),
                               options_.request_timeout);
    } else if (!acked || *acked != desired || clock::now() - acked_at >= heartbeat) {
      out = co_await api_->put(agent_api::check_path("update/", id), agent_api::update_body(desired.s, desired.output),
                               options_.request_timeout);
    } else {
      // Idle: until the check changes or the heartbeat is due.
      timer.expires_at(acked_at + heartbeat);
      co_await (watch.async_next(asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
      continue;
    }

    if (out.ok) {
      const bool recovered = failures > 0;
      failures = 0;
      if (registering) {
        registered = true;
        acked.reset();  // the agent shows the registration's state: send the current one next
        update_stats([](publish_stats& s) {
          ++s.registrations;
          s.error.clear();
        });
        if (observer) observer->on_registered(id);
      } else {
        const bool fresh = !acked || *acked != desired;  // not a heartbeat
        acked = desired;
        acked_at = clock::now();
        update_stats([&](publish_stats& s) {
          ++s.updates;
          s.published = desired.s;
          s.state = publish_stats::phase::publishing;
          s.error.clear();
        });
        if (observer && fresh) observer->on_published(id, desired.s, acked_at - changed_at);
      }
      if (observer && recovered) observer->on_publish_recovered(id);
      continue;
    }

    ++failures;
    if (!registering && is_not_ttl(out)) {
      // Another check of this ID, not a TTL check, is registered: fighting over it would flap both.
      const std::string why = out.reason + ": a check with this ID that is not a TTL check is registered with the "
                                           "agent; coalias stopped publishing it";
      update_stats([&](publish_stats& s) {
        ++s.failures;
        s.state = publish_stats::phase::given_up;
        s.error = why;
      });
      if (observer) observer->on_publish_failed(id, why);
      co_return;
    }
    const bool lost = !registering && out.status == 404;  // the agent restarted: register again, then update
    if (lost) {
      registered = false;
      register_status = status::critical;
    }
    update_stats([&](publish_stats& s) {
      ++s.failures;
      s.state = lost ? publish_stats::phase::registering : publish_stats::phase::failing;
      s.error = out.reason;
    });
    if (observer) observer->on_publish_failed(id, out.reason);
    if (lost && failures == 1) continue;  // re-register at once; a 404 again backs off like any failure
    timer.expires_after(retry_delay(failures));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

void publish_task::on_failure(std::exception_ptr e) {
  std::string why = "publishing stopped: ";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    why += x.what();
  } catch (...) {
    why += "unknown error";
  }
  update_stats([&](publish_stats& s) {
    s.state = publish_stats::phase::given_up;
    s.error = why;
  });
  if (options_.observer) options_.observer->on_publish_failed(check_.check_id, why);
}

}  // namespace coalias::publish
