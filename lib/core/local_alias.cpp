// A local alias: re-evaluates from the agent's own state on every wake-up and on a refresh period.
#include "core/alias_task.hpp"

#include <coalias/aggregate.hpp>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace coalias::detail {
namespace {

class local_alias final : public alias_task {
 public:
  local_alias(const asio::any_io_executor& ex, local_state& state, alias_definition def)
      : alias_task(ex, state, std::move(def.check_id)),
        target_{state.node_name(), std::move(def.target.service_id)},
        period_(def.refresh),
        wakeups_(strand_, wake_capacity),
        refresh_(strand_) {}

 private:
  // State lives in members rather than in the coroutine frame: an idle alias costs only what it holds.
  asio::awaitable<void> run() override {
    const running_guard guard(*this);
    for (;;) {
      evaluate();
      co_await wakeups_.async_receive(asio::use_awaitable);
    }
  }

  void evaluate() { publish(state_.aggregate(target_, self_)); }

  // The refresh timer feeds the same channel as the state's wake-ups: one wait, one place that re-evaluates,
  // and a missed edge is repaired within one period even if no wake-up ever comes (race 2).
  void arm_refresh() {
    refresh_.expires_after(period_);
    refresh_.async_wait([self = std::static_pointer_cast<local_alias>(shared_from_this())](std::error_code ec) {
      if (ec || !self->running_) return;  // the task has ended (a completion may already have been queued)
      wake(self->wakeups_);
      self->arm_refresh();
    });
  }

  // Watches before the first read (a change after the read then leaves a wake-up pending) and arms the refresh;
  // undoes both however the body ends.
  struct running_guard {
    explicit running_guard(local_alias& a) : alias(a) {
      alias.registration_ = alias.state_.watch_service(alias.target_.service_id, alias.wakeups_);
      alias.running_ = true;
      alias.arm_refresh();
    }
    ~running_guard() {
      alias.running_ = false;
      alias.refresh_.cancel();
      alias.registration_ = {};
    }
    local_alias& alias;
  };

  const alias_target target_;
  const std::chrono::milliseconds period_;
  wake_channel wakeups_;
  asio::steady_timer refresh_;
  local_state::watch registration_;
  bool running_ = false;  // strand only
};

}  // namespace

std::shared_ptr<alias_task> make_local_alias(const asio::any_io_executor& ex, local_state& state,
                                             alias_definition def) {
  return std::make_shared<local_alias>(ex, state, std::move(def));
}

}  // namespace coalias::detail
