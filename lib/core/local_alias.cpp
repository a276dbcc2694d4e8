// A local alias: re-evaluates from the agent's own state on every wake-up and on a refresh period.
//
// The local aliases of one service on one lane form a local_group, which holds the one watch of that service:
// a change queues the group once, and the group's turn evaluates every member. Watching one by one, the
// state's writer queued each alias under its lock, and a flip reaching 10,000 aliases spent about as long
// there as the lane spent evaluating them.
#include "core/alias_task.hpp"

#include <coalias/aggregate.hpp>

#include <atomic>
#include <cassert>
#include <string>

namespace coalias::detail {

class local_group;

namespace {

class local_alias final : public alias_task {
 public:
  local_alias(std::shared_ptr<alias_lane> lane, local_state& state, alias_definition def)
      : alias_task(std::move(lane), state, std::move(def.check_id)),
        service_id_(std::move(def.target.service_id)),
        period_(def.refresh) {}
  ~local_alias() override;

  /// The group's turn, within its round. Strand only.
  void evaluate_in(local_state::alias_round& round) {
    if (running()) round.update(own_check(), check_id_);
  }
  /// The group's turn, alone (where a failure ends the alias as any failed evaluation does). Strand only.
  void evaluate_alone() {
    if (running()) evaluate_guarded();
  }

  struct group_hook {
    local_alias* prev = nullptr;
    local_alias* next = nullptr;
  } hook;

 private:
  // Joins the group (its watch exists before the first read, so a change after that read leaves a wake-up
  // queued). The refresh wheel wakes the alias alone, through the same path as a start: one place
  // re-evaluates, and a missed edge is repaired within one period even if no wake-up ever comes (race 2).
  void begin() override;
  void evaluate() override { state_.update_alias_check(own_check(), check_id_, service_id_); }
  void end() noexcept override;
  void leave_group() noexcept;

  // Only what differs from alias to alias: the target's node is this agent's.
  const std::string service_id_;
  const std::chrono::milliseconds period_;
  std::shared_ptr<local_group> group_;  // from begin to end
};

}  // namespace

// Strand only, but for `wake`. Owned by its members (and, while queued, by the lane); watching and listed in
// the lane's local_groups() from its first member's begin to its last member's end.
class local_group final : public wake_target, public lane_entry, public std::enable_shared_from_this<local_group> {
 public:
  local_group(std::shared_ptr<alias_lane> lane, local_state& state, std::string service_id)
      : lane_(std::move(lane)), state_(state), service_id_(std::move(service_id)) {}
  ~local_group() { close(); }
  local_group(const local_group&) = delete;
  local_group& operator=(const local_group&) = delete;

  /// The lane's group for `service_id`, made (and watching `state`) if there is none.
  static std::shared_ptr<local_group> of(const std::shared_ptr<alias_lane>& lane, local_state& state,
                                         const std::string& service_id) {
    auto& groups = lane->local_groups();
    if (const auto it = groups.find(service_id); it != groups.end()) {
      assert(&it->second->state_ == &state && "a lane's local aliases share one state");
      return it->second->shared_from_this();
    }
    auto group = std::make_shared<local_group>(lane, state, service_id);
    // Watched only once owned: a wake-up before that would find no owner and be lost.
    group->registration_ = state.watch_service(service_id, *group);
    groups.insert_or_assign(service_id, group.get());
    return group;
  }

  void add(local_alias& member) noexcept {
    member.hook = {tail_, nullptr};
    (tail_ ? tail_->hook.next : head_) = &member;
    tail_ = &member;
  }
  void remove(local_alias& member) noexcept {
    (member.hook.prev ? member.hook.prev->hook.next : head_) = member.hook.next;
    (member.hook.next ? member.hook.next->hook.prev : tail_) = member.hook.prev;
    member.hook = {};
    if (!head_) close();
  }

  /// Any thread, even under the state's lock; coalesces as alias_task::wake does.
  void wake() noexcept override {
    if (queued_.exchange(true, std::memory_order_acq_rel)) return;
    if (auto self = weak_from_this().lock()) lane_->schedule(std::move(self));
  }

  void evaluate_queued() override {
    queued_.exchange(false, std::memory_order_acq_rel);  // before the reads: a later change queues it again
    for (local_alias* member = head_; member;) member = evaluate_round(member);
  }

 private:
  // Evaluates members from `first` on in one round of the state (one lock, one aggregation); returns the first
  // member left for the next round. A member whose write throws is evaluated again alone, after the lock,
  // where a failure ends it as usual (and unlinks it: hence the step past it first); if it succeeds alone, the
  // first throw (an allocation that failed) is forgotten.
  local_alias* evaluate_round(local_alias* first) {
    local_alias* member = first;
    try {
      local_state::alias_round round(state_, service_id_);
      for (; member && !round.full(); member = member->hook.next) member->evaluate_in(round);
      return member;
    } catch (...) {
    }
    local_alias* next = member->hook.next;
    member->evaluate_alone();
    return next;
  }

  // Stops watching and leaves the lane's list once the last member left, at that member's end: the group may
  // still be queued, and live on after the member's waiters heard of its end, when the state may be gone.
  void close() noexcept {
    registration_ = {};
    auto& groups = lane_->local_groups();
    if (const auto it = groups.find(service_id_); it != groups.end() && it->second == this) groups.erase(it);
  }

  const std::shared_ptr<alias_lane> lane_;
  local_state& state_;
  const std::string service_id_;
  local_state::watch registration_;
  local_alias* head_ = nullptr;
  local_alias* tail_ = nullptr;
  std::atomic<bool> queued_{false};
};

namespace {

void local_alias::begin() {
  group_ = local_group::of(lane_, state_, service_id_);
  group_->add(*this);
  lane_->add_refresh(*this, period_);
  refreshing_ = true;
}

void local_alias::end() noexcept {
  if (refreshing_) lane_->remove_refresh(*this, period_);
  refreshing_ = false;
  leave_group();
}

void local_alias::leave_group() noexcept {
  if (group_) group_->remove(*this);
  group_.reset();
}

// Ended tasks left their group already. One destroyed while it still runs (its io_context went first, with
// nothing left to run on the strand) leaves it here.
local_alias::~local_alias() { leave_group(); }

}  // namespace

std::shared_ptr<alias_task> make_local_alias(std::shared_ptr<alias_lane> lane, local_state& state,
                                             alias_definition def) {
  return std::make_shared<local_alias>(std::move(lane), state, std::move(def));
}

}  // namespace coalias::detail
