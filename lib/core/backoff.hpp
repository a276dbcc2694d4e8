// Consul's backoff after failed requests, shared by the remote queries and the TTL publisher.
//
// Thread safety: pure; any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace coalias::detail {

/// The wait after `failures` consecutive failures, more than `after` of them: `base`, doubled for each further
/// failure up to `max`, plus up to 20% jitter taken from `random` (any value), and never above `max`.
std::chrono::milliseconds backoff_delay(int failures, int after, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, std::uint64_t random) noexcept;

}  // namespace coalias::detail
