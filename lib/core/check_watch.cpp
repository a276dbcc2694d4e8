#include <coalias/check_watch.hpp>

namespace coalias {

check_watch::check_watch(local_state& state, std::string check_id, const executor_type& ex)
    : state_(state),
      check_id_(std::move(check_id)),
      wakeups_(ex, wake_capacity),
      registration_(state_.watch_check(check_id_, wakeups_)) {}

std::optional<check_watch::version> check_watch::poll(std::optional<status> wanted) {
  // Registered before this read, so a change after it leaves a wake-up pending: none is lost.
  auto current = state_.check(check_id_);
  if (delivered_ && current == last_) return std::nullopt;
  delivered_ = true;
  last_ = current;
  if (wanted && !(current && current->status == *wanted)) return std::nullopt;
  return current;
}

}  // namespace coalias
