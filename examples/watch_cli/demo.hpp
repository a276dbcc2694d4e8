// coalias-watch --demo: an embedded Consul test server whose checks flap on a schedule, followed through a remote
// hub exactly as a real Consul would be, so a newcomer sees remote aliasing without a Consul.
//
// Thread safety: run_demo is one coroutine; the test server it starts runs on its own thread.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/signal_set.hpp>

#include <chrono>
#include <cstdio>

namespace coalias::watch_cli {

/// Runs one round of the script (each step `step` apart), printing `# <step>` lines and the alias's transitions
/// in the plain format to `out`, then returns 0. Ends early, also with 0, when `stop` delivers a signal.
/// Throws std::system_error if the test server cannot start.
asio::awaitable<int> run_demo(asio::signal_set& stop, std::FILE* out,
                              std::chrono::milliseconds step = std::chrono::milliseconds(500));

}  // namespace coalias::watch_cli
