// A local alias: re-evaluates from the agent's own state on every wake-up and on a refresh period.
#include "core/alias_task.hpp"

#include <coalias/aggregate.hpp>

#include <optional>

namespace coalias::detail {
namespace {

class local_alias final : public alias_task {
 public:
  local_alias(std::shared_ptr<alias_lane> lane, local_state& state, alias_definition def)
      : alias_task(std::move(lane), state, std::move(def.check_id)),
        target_{state.node_name(), std::move(def.target.service_id)},
        period_(def.refresh) {}

 private:
  // Watches before the first read (a change after the read then leaves a wake-up queued). The refresh wheel
  // wakes the task through the same path as the state: one place re-evaluates, and a missed edge is repaired
  // within one period even if no wake-up ever comes (race 2).
  void begin() override {
    registration_ = state_.watch_service(target_.service_id, *this);
    refresh_ = lane_->add_refresh(*this, period_);
  }

  void evaluate() override { publish(state_.aggregate(target_, self_)); }

  void end() noexcept override {
    if (refresh_) lane_->remove_refresh(period_, *refresh_);
    refresh_.reset();
    registration_ = {};
  }

  const alias_target target_;
  const std::chrono::milliseconds period_;
  local_state::watch registration_;
  std::optional<alias_lane::refresh_list::iterator> refresh_;  // set while in the lane's refresh wheel
};

}  // namespace

std::shared_ptr<alias_task> make_local_alias(std::shared_ptr<alias_lane> lane, local_state& state,
                                             alias_definition def) {
  return std::make_shared<local_alias>(std::move(lane), state, std::move(def));
}

}  // namespace coalias::detail
