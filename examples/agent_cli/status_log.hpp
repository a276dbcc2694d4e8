// Logs each status change of the running checks (and each check's first evaluation) through the event log.
//
// One coroutine for all checks: every followed check signals one wake channel, and a wake-up re-reads the
// followed checks (cheap next to the network round trip that changed one). A check registered but not evaluated
// yet (critical, no output) is not logged.
//
// Thread safety: `follow`, `forget` and `run` on the executor's one thread (coalias-agent runs one).
#pragma once

#include "events.hpp"

#include <coalias/local_state.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>

namespace coalias::agent_cli {

class status_log {
 public:
  status_log(const asio::any_io_executor& ex, local_state& state, event_log& log);

  void follow(const std::string& check_id);
  void forget(const std::string& check_id);

  /// Logs changes until cancelled.
  asio::awaitable<void> run();

 private:
  struct entry {
    local_state::watch registration;
    std::optional<status> logged;
  };
  void scan();

  local_state& state_;
  event_log& log_;
  wake_channel wakeups_;
  std::map<std::string, entry, std::less<>> entries_;
};

}  // namespace coalias::agent_cli
