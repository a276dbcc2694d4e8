// The running checks of coalias-agent: each definition runs as an alias of a `coalias::agent` and, when
// publishing, is kept registered with the Consul agent as a TTL check by a `ttl_publisher` following the alias's
// own check; a reload applies a new set of definitions as a difference, so unchanged checks never stop.
//
// Thread safety: every member on the executor's one thread; one operation at a time (the caller awaits each).
#pragma once

#include "events.hpp"
#include "status_log.hpp"

#include <coalias/agent.hpp>
#include <coalias/check_definitions.hpp>
#include <coalias/ttl_publisher.hpp>

#include <asio/awaitable.hpp>

#include <map>
#include <string>
#include <vector>

namespace coalias::agent_cli {

class check_set {
 public:
  /// `publisher`: null for --no-publish; else it must outlive this and publish from `node.state()`.
  check_set(coalias::agent& node, ttl_publisher* publisher, event_log& log);

  /// Makes the running set `defs` (their targets resolved): stops the removed checks, replaces the changed ones
  /// (each old task ends before its successor starts), starts the new ones. A check the library refuses is
  /// logged and left out.
  asio::awaitable<reload_counts> apply(std::vector<check_definition> defs);

  /// Stops publishing (deregistering each published check when `deregister`, bounded by the publisher's
  /// deregister_timeout), then every check, then the agent's queries.
  asio::awaitable<void> shutdown(bool deregister);

  status_log& statuses() noexcept { return statuses_; }
  std::size_t size() const noexcept { return running_.size(); }

 private:
  void ensure_service(const std::string& service_id);
  // What the publisher is to register (or re-register, `replace`).
  struct registration {
    published_check check;
    bool replace = false;
  };
  asio::awaitable<bool> add(const check_definition& def, bool replace);
  asio::awaitable<void> publish(std::vector<registration> regs);
  asio::awaitable<void> remove(std::string check_id);

  // Whether the running check's registration (name, notes, service) differs from `next`'s.
  bool registration_differs(const check_definition& next) const;

  coalias::agent& node_;
  ttl_publisher* const publisher_;
  event_log& log_;
  status_log statuses_;
  // What each running check aliases; the rest of its definition is its check in the local state. Kept this small
  // because it is paid per check (agent_memory bench).
  std::map<std::string, alias_target, std::less<>> running_;
};

}  // namespace coalias::agent_cli
