// coalias-agent's life cycle: learn the agent's node when needed, start the checks, follow signals (SIGHUP
// reloads, SIGINT/SIGTERM stop), and stop everything in order.
//
// Thread safety: `run` is one coroutine on a one-thread io_context.
#pragma once

#include "events.hpp"
#include "options.hpp"

#include <coalias/check_definitions.hpp>

#include <asio/awaitable.hpp>
#include <asio/signal_set.hpp>

#include <vector>

namespace coalias::agent_cli {

constexpr int ex_usage = 64;        // sysexits.h EX_USAGE: a usage or configuration error
constexpr int ex_unavailable = 69;  // sysexits.h EX_UNAVAILABLE: the Consul agent cannot say who it is
constexpr int ex_software = 70;     // sysexits.h EX_SOFTWARE: a failure that is not the user's

/// Every --config, loaded together; at least one check. Throws `config_error`.
std::vector<check_definition> load(const std::vector<std::filesystem::path>& configs);

/// Runs `defs` until SIGINT or SIGTERM arrives on `signals` (which must hold those and SIGHUP); returns the exit
/// status.
asio::awaitable<int> run(const options& opts, std::vector<check_definition> defs, asio::signal_set& signals,
                         event_log& log);

}  // namespace coalias::agent_cli
