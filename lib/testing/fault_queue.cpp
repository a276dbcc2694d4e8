#include "fault_queue.hpp"

#include <utility>

namespace coalias::testing::detail {

void fault_queue::push(fault f) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(f));
}

void fault_queue::clear() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

std::optional<fault> fault_queue::take(std::string_view path) {
  std::lock_guard lock(mutex_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (path.substr(0, it->path_prefix.size()) != it->path_prefix) continue;
    ++applied_;
    fault hit = *it;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return hit;
  }
  return std::nullopt;
}

std::uint64_t fault_queue::applied() const {
  std::lock_guard lock(mutex_);
  return applied_;
}

}  // namespace coalias::testing::detail
