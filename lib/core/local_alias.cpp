// A local alias: re-evaluates from the agent's own state on every wake-up and on a refresh period.
#include "core/alias_task.hpp"

#include <coalias/aggregate.hpp>

namespace coalias::detail {
namespace {

class local_alias final : public alias_task {
 public:
  local_alias(std::shared_ptr<alias_lane> lane, local_state& state, alias_definition def)
      : alias_task(std::move(lane), state, std::move(def.check_id)),
        service_id_(std::move(def.target.service_id)),
        period_(def.refresh) {}

 private:
  // Watches before the first read (a change after the read then leaves a wake-up queued). The refresh wheel
  // wakes the task through the same path as the state: one place re-evaluates, and a missed edge is repaired
  // within one period even if no wake-up ever comes (race 2).
  void begin() override {
    registration_ = state_.watch_service(service_id_, *this);
    lane_->add_refresh(*this, period_);
    refreshing_ = true;
  }

  void evaluate() override { state_.update_alias_check(own_check(), check_id_, service_id_); }

  void end() noexcept override {
    if (refreshing_) lane_->remove_refresh(*this, period_);
    refreshing_ = false;
    registration_ = {};
  }

  // Only what differs from alias to alias: the target's node is this agent's.
  const std::string service_id_;
  const std::chrono::milliseconds period_;
  local_state::watch registration_;
};

}  // namespace

std::shared_ptr<alias_task> make_local_alias(std::shared_ptr<alias_lane> lane, local_state& state,
                                             alias_definition def) {
  return std::make_shared<local_alias>(std::move(lane), state, std::move(def));
}

}  // namespace coalias::detail
