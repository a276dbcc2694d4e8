// One published check's task: registers it with the agent and keeps the agent's copy equal to the local state's,
// one request at a time.
//
// Not a coroutine (as alias_task, whose lifecycle it shares): between requests a published check is only its
// members. The local state wakes it by a direct call when the check changes, the lane's wheel when a heartbeat
// is due, the lane's timer when a retry is; each wake-up reads the latest state, so changes made while a
// request is in flight coalesce and the latest is sent next. The request in flight is a callback; a stop
// cancels it, and the task ends (its waiters hear, a replacement may start) only once that callback has run.
#pragma once

#include "core/alias_task.hpp"
#include "publish/publish_lane.hpp"

#include <coalias/health_check.hpp>
#include <coalias/local_state.hpp>
#include <coalias/ttl_publisher.hpp>

#include <asio/cancellation_signal.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace coalias::publish {

class publish_task final : public coalias::detail::alias_task {
 public:
  using clock = publish_lane::clock;

  /// `carry_from`: the task this one replaces; its last published status is registered, so the catalog shows
  /// no flap. Null for a fresh check.
  publish_task(std::shared_ptr<publish_lane> lane, published_check check, std::shared_ptr<publish_task> carry_from);

  publish_stats stats() const;

  /// The lane's calls, on the strand: a request slot is the task's (false: it has nothing to send and gave the
  /// slot back); a retry wait is over.
  bool send();
  void retry_due();
  /// When the retry is due; the lane's key (max: no retry waits).
  clock::time_point retry_at = clock::time_point::max();

 private:
  enum class step : unsigned char {
    idle,        // nothing to send: waits for a wake-up
    slot_wait,   // waits for a request slot
    in_flight,   // a request is in flight
    retry_wait,  // waits to retry a failed request
    given_up,    // the agent holds a check of this ID without a TTL: inert until stopped
  };

  void begin() override;
  void evaluate() override;
  void end() noexcept override;

  using version = std::shared_ptr<const health_check>;
  /// Reads the check's latest version, noting when it changed.
  version observe();
  /// Whether a request is due for `current`: not when the agent's copy is current and no heartbeat is due.
  bool wants_request(const version& current) const;
  /// What the agent is sent for a version; a missing check is critical.
  static status wire_status(const version& v) noexcept;
  std::string wire_output(const version& v) const;
  bool same_wire(const version& a, const version& b) const;
  std::chrono::milliseconds heartbeat() const noexcept { return pub_->options().ttl / 3; }
  void on_response(std::error_code ec, http::response resp);
  void on_outcome(const put_outcome& out);
  /// `failed_request`: a request's answer gave it up (counted as a failure), not an error of coalias's.
  void give_up(std::string why, bool failed_request);
  void stop_following() noexcept;
  /// Runs `f`; anything it throws ends publishing the check (given up), never the local state's check.
  template <class F>
  void guarded(F&& f) noexcept;
  template <class F>
  void update_stats(F f) {
    std::lock_guard lock(pub_->stats_mutex());
    f(stats_);
  }

  const std::shared_ptr<publish_lane> pub_;
  const published_check check_;
  std::shared_ptr<publish_task> carry_from_;      // dropped once read, when the task begins
  local_state::watch watch_;                      // wakes the task on every change of the check

  // Strand only.
  step step_ = step::idle;
  bool registered_ = false;
  bool registering_ = false;  // the request in flight is a registration
  status register_status_ = status::critical;
  int failures_ = 0;
  version observed_;       // the latest version read (null: not in the local state)
  bool observed_any_ = false;
  clock::time_point changed_at_{};
  version sent_;   // the version of the update in flight
  clock::time_point sent_changed_at_{};        // when it was first read
  version acked_;  // the version the agent acknowledged since the registration
  bool acked_any_ = false;
  clock::time_point acked_at_{};
  asio::cancellation_signal cancel_;  // aborts the request in flight at a stop

  publish_stats stats_;  // guarded by pub_->stats_mutex()
};

}  // namespace coalias::publish
