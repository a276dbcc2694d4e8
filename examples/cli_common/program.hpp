// What every program's main shares: sysexits.h exit statuses, and running the program's coroutine to its exit
// status on one thread, with its stop signals installed before it starts.
//
// Thread safety: call from main, once.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)

#include <asio/awaitable.hpp>
#include <asio/signal_set.hpp>

#include <functional>
#include <initializer_list>
#include <string>

namespace coalias::cli {

constexpr int ex_usage = 64;        // EX_USAGE: a usage or configuration error
constexpr int ex_unavailable = 69;  // EX_UNAVAILABLE: a service the program needs cannot be used
constexpr int ex_software = 70;     // EX_SOFTWARE: a failure that is not the user's

/// Runs `body(signals)` on a single-threaded io_context until it ends and returns its exit status. `signals` holds
/// `signal_numbers`, installed before the body's first request goes out, so a stop signal is never missed. An
/// exception out of the body or out of the set-up is passed to `report` (its what(): the library's messages never
/// contain a token) and gives `ex_software`.
int run_program(std::initializer_list<int> signal_numbers,
                const std::function<asio::awaitable<int>(asio::signal_set&)>& body,
                const std::function<void(const std::string&)>& report);

}  // namespace coalias::cli
