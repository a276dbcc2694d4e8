// The running checks of coalias-agent: each definition runs as an alias of a `coalias::agent` (and, when
// publishing, is kept registered with the Consul agent as a TTL check); a reload applies a new set of definitions
// as a difference, so unchanged checks never stop.
//
// Thread safety: every member on the executor's one thread; one operation at a time (the caller awaits each).
#pragma once

#include "events.hpp"
#include "status_log.hpp"

#include <coalias/agent.hpp>
#include <coalias/check_definitions.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <string>
#include <vector>

namespace coalias::agent_cli {

class check_set {
 public:
  check_set(coalias::agent& node, event_log& log);

  /// Makes the running set `defs` (their targets resolved): stops the removed checks, replaces the changed ones
  /// (each old task ends before its successor starts), starts the new ones. A check the library refuses is
  /// logged and left out.
  asio::awaitable<reload_counts> apply(std::vector<check_definition> defs);

  /// Stops every check, then the agent's queries.
  asio::awaitable<void> shutdown();

  status_log& statuses() noexcept { return statuses_; }
  std::size_t size() const noexcept { return running_.size(); }

 private:
  void ensure_service(const std::string& service_id);
  asio::awaitable<bool> add(const check_definition& def, bool replace);

  // Whether the running check must be replaced to become `next`: what it aliases, or how it is registered.
  bool differs(const alias_target& running, const check_definition& next) const;

  coalias::agent& node_;
  event_log& log_;
  status_log statuses_;
  // What each running check aliases; the rest of its definition is its check in the local state. Kept this small
  // because it is paid per check (agent_memory bench).
  std::map<std::string, alias_target, std::less<>> running_;
};

}  // namespace coalias::agent_cli
