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

/// Every --config, loaded together; at least one check. Throws `config_error`.
std::vector<check_definition> load(const std::vector<std::filesystem::path>& configs);

/// Loads every --config, then runs the checks until SIGINT or SIGTERM arrives on `signals` (which must hold those
/// and SIGHUP, installed before this starts: a stop signal while a large configuration loads is not lost). Returns
/// the exit status: 0; `cli::ex_usage` for a configuration error (one line on `log`); `cli::ex_unavailable` when
/// the agent cannot say who it is or --listen cannot bind.
asio::awaitable<int> run(const options& opts, asio::signal_set& signals, event_log& log);

}  // namespace coalias::agent_cli
