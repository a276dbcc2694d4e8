// The queue of injected faults, consulted once per request.
//
// Thread safety: all members may be called from any thread.
#pragma once

#include <coalias/testing/consul_test_server.hpp>

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>

namespace coalias::testing::detail {

class fault_queue {
 public:
  void push(fault f);
  void clear();
  /// The first queued fault whose prefix matches `path`, counted as applied; a counted fault is used up
  /// after its last hit, a persistent one stays.
  std::optional<fault> take(std::string_view path);
  std::uint64_t applied() const;

 private:
  mutable std::mutex mutex_;
  std::deque<fault> faults_;
  std::uint64_t applied_ = 0;
};

}  // namespace coalias::testing::detail
