#include "core/backoff.hpp"

#include <algorithm>

namespace coalias::detail {

std::chrono::milliseconds backoff_delay(int failures, int after, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, std::uint64_t random) noexcept {
  const int doublings = std::min(failures - after - 1, 30);
  auto wait = base;
  for (int i = 0; i < doublings && wait < max; ++i) wait *= 2;
  wait = std::min(wait, max);
  const auto extra = wait.count() > 0 ? static_cast<long>(random % static_cast<std::uint64_t>(wait.count() / 5 + 1)) : 0;
  return std::min(wait + std::chrono::milliseconds(extra), max);
}

}  // namespace coalias::detail
