#include "publish/publish_task.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/error.hpp>

#include <exception>

namespace coalias::publish {
namespace {

// What the agent shows between registration and the first update (Consul ignores it, but the intent is on record).
constexpr std::string_view not_evaluated = "Registered by coalias; not evaluated yet";

}  // namespace

publish_task::publish_task(std::shared_ptr<publish_lane> lane, published_check check,
                           std::shared_ptr<publish_task> carry_from)
    : alias_task(lane->lane(), lane->state(), check.check_id),
      pub_(std::move(lane)),
      check_(std::move(check)),
      carry_from_(std::move(carry_from)) {}

publish_stats publish_task::stats() const {
  std::lock_guard lock(pub_->stats_mutex());
  return stats_;
}

template <class F>
void publish_task::guarded(F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& x) {
    give_up(std::string("publishing stopped: ") + x.what(), false);
  } catch (...) {
    give_up("publishing stopped: unknown error", false);
  }
}

void publish_task::begin() {
  guarded([&] {
    if (carry_from_) {  // it has ended: its stats are final
      register_status_ = carry_from_->stats().published.value_or(status::critical);
      carry_from_.reset();
    }
    watch_ = state_.watch_check(check_id(), *this);  // before the first read: no change is missed
    lane_->add_refresh(*this, heartbeat());
    refreshing_ = true;
  });
}

// The check is no longer followed: no wake-up, heartbeat or retry reaches the task.
void publish_task::stop_following() noexcept {
  watch_ = {};
  if (refreshing_) lane_->remove_refresh(*this, heartbeat());
  refreshing_ = false;
  pub_->cancel_retry(*this);
}

void publish_task::end() noexcept {
  stop_following();
  if (step_ == step::in_flight) {
    defer_end();  // ended once the aborted request's handler ran: nothing of the task is left in flight
    cancel_.emit(asio::cancellation_type::terminal);
  }
}

// Every wake-up: a change, a heartbeat due, the start.
void publish_task::evaluate() {
  guarded([&] {
    const auto current = observe();
    // A request in flight (or a wait) reads the latest state when it ends: changes meanwhile coalesce.
    if (step_ != step::idle || !wants_request(current)) return;
    step_ = step::slot_wait;
    pub_->acquire(std::static_pointer_cast<publish_task>(shared_from_this()));
  });
}

bool publish_task::send() {
  if (!running() || step_ != step::slot_wait) return false;
  step_ = step::idle;
  guarded([&] {
    const auto current = observe();  // the latest state wins, whenever the slot came
    if (!wants_request(current)) return;
    registering_ = !registered_;
    std::string path, body;
    if (registering_) {
      path = agent_api::register_path();
      body = agent_api::register_body(check_, pub_->options().ttl, register_status_, not_evaluated);
    } else {
      sent_ = current;
      sent_changed_at_ = changed_at_;
      path = agent_api::check_path("update/", check_id());
      body = agent_api::update_body(wire_status(current), wire_output(current));
    }
    pub_->api().async_put(
        std::move(path), std::move(body), pub_->options().request_timeout,
        asio::bind_cancellation_slot(
            cancel_.slot(), asio::bind_executor(strand(), [self = std::static_pointer_cast<publish_task>(
                                                               shared_from_this())](std::error_code ec,
                                                                                    http::response resp) {
              self->on_response(ec, std::move(resp));
            })));
    step_ = step::in_flight;
  });
  return step_ == step::in_flight;
}

void publish_task::retry_due() {
  if (!running() || step_ != step::retry_wait) return;
  step_ = step::idle;
  evaluate();
}

void publish_task::on_response(std::error_code ec, http::response resp) {
  cancel_.slot().clear();  // frees the handler the request installed
  step_ = step::idle;
  pub_->release();  // may start other tasks' requests, here on the strand
  if (!running()) return resume_end();  // stopped: the request was aborted, the task ends now
  if (ec == asio::error::operation_aborted) return give_up("publishing stopped: " + ec.message(), false);
  guarded([&] { on_outcome(pub_->api().outcome(ec, std::move(resp))); });
}

void publish_task::on_outcome(const put_outcome& out) {
  publish_observer* const observer = pub_->options().observer;
  const std::string& id = check_id();
  if (out.ok) {
    const bool recovered = failures_ > 0;
    failures_ = 0;
    if (registering_) {
      registered_ = true;
      acked_.reset();  // the agent shows the registration's state: send the current one next
      acked_any_ = false;
      update_stats([](publish_stats& s) {
        ++s.registrations;
        s.error.clear();
      });
      if (observer) observer->on_registered(id);
    } else {
      const bool fresh = !acked_any_ || !same_wire(acked_, sent_);  // not a heartbeat
      const status published = wire_status(sent_);
      acked_ = std::move(sent_);
      acked_any_ = true;
      acked_at_ = clock::now();
      // The next heartbeat is due one period after this acknowledgement.
      lane_->remove_refresh(*this, heartbeat());
      lane_->add_refresh(*this, heartbeat());
      update_stats([&](publish_stats& s) {
        ++s.updates;
        s.published = published;
        s.state = publish_stats::phase::publishing;
        s.error.clear();
      });
      if (observer && fresh) observer->on_published(id, published, acked_at_ - sent_changed_at_);
    }
    if (observer && recovered) observer->on_publish_recovered(id);
    return evaluate();  // whatever changed meanwhile goes next
  }

  ++failures_;
  if (!registering_ && is_not_ttl(out)) {
    // Another check of this ID, not a TTL check, is registered: fighting over it would flap both.
    return give_up(out.reason + ": a check with this ID that is not a TTL check is registered with the agent; "
                                "coalias stopped publishing it",
                   true);
  }
  const bool lost = !registering_ && out.status == 404;  // the agent restarted: register again, then update
  if (lost) {
    registered_ = false;
    register_status_ = status::critical;
  }
  sent_.reset();
  update_stats([&](publish_stats& s) {
    ++s.failures;
    s.state = lost ? publish_stats::phase::registering : publish_stats::phase::failing;
    s.error = out.reason;
  });
  if (observer) observer->on_publish_failed(id, out.reason);
  if (lost && failures_ == 1) return evaluate();  // re-register at once; a 404 again backs off like any failure
  step_ = step::retry_wait;
  pub_->retry_after(*this, pub_->retry_delay(failures_));
}

// Terminal until the task is stopped: the check is no longer followed, its ID left to whoever holds it.
void publish_task::give_up(std::string why, bool failed_request) {
  step_ = step::given_up;
  stop_following();
  try {
    update_stats([&](publish_stats& s) {
      if (failed_request) ++s.failures;
      s.state = publish_stats::phase::given_up;
      s.error = why;
    });
    if (pub_->options().observer) pub_->options().observer->on_publish_failed(check_id(), why);
  } catch (...) {  // nothing better to do than stay given up
  }
}

publish_task::version publish_task::observe() {
  auto current = state_.check(check_id());
  if (!observed_any_ || current != observed_) {
    observed_ = current;
    observed_any_ = true;
    changed_at_ = clock::now();
  }
  return current;
}

bool publish_task::wants_request(const version& current) const {
  if (step_ == step::given_up) return false;
  return !registered_ || !acked_any_ || !same_wire(acked_, current) || clock::now() - acked_at_ >= heartbeat();
}

status publish_task::wire_status(const version& v) noexcept { return v ? v->status : status::critical; }

std::string publish_task::wire_output(const version& v) const {
  if (!v) return "Check \"" + check_id() + "\" is not registered in the local state";
  return std::string(truncate_output(v->output));
}

bool publish_task::same_wire(const version& a, const version& b) const {
  if (a == b) return true;
  if (!a || !b) return wire_status(a) == wire_status(b) && wire_output(a) == wire_output(b);
  return a->status == b->status && truncate_output(a->output) == truncate_output(b->output);
}

}  // namespace coalias::publish
