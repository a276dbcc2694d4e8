// The one owner: a node's local state, the aliases that run on it, and (for remote aliases) the hub that talks
// to a Consul agent, created together and stopped together in the right order.
//
//   coalias::agent node(io.get_executor(), "node-1");
//   node.state().add_service({"web", "web"});
//   co_await node.async_add(mirror, asio::use_awaitable);
//   ...
//   co_await node.async_shutdown(asio::use_awaitable);  // aliases first, then remote queries
//
// Lifetime: `async_shutdown` completes once every task the agent owns has ended; then the agent may be
// destroyed, before its io_context (a remote hub's sockets and timers belong to that io_context). The agent
// must outlive the completion of every operation started on it. Debug builds assert if an agent is destroyed with aliases still
// running. The parts stay reachable (`state()`, `aliases()`, `remote()`) for those who compose their own.
//
// Thread safety: every member function may be called from any thread, concurrently.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)

#include <coalias/alias_definition.hpp>
#include <coalias/alias_registry.hpp>
#include <coalias/check_watch.hpp>
#include <coalias/consul_config.hpp>
#include <coalias/detail/completion.hpp>
#include <coalias/local_state.hpp>
#include <coalias/remote_hub.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <system_error>

namespace coalias {

class agent {
 public:
  using executor_type = asio::any_io_executor;

  /// An agent for local aliases only: remote definitions fail with `errc::invalid_argument`.
  agent(const executor_type& ex, std::string node_name);
  /// An agent that also runs remote aliases, through blocking queries on the Consul agent `config` names
  /// (e.g. `from_environment()`). Throws `std::system_error` if curl cannot be initialised.
  agent(const executor_type& ex, std::string node_name, consul_config config,
        remote_options options = remote_options());
  agent(const agent&) = delete;
  agent& operator=(const agent&) = delete;
  ~agent();

  executor_type get_executor() const noexcept { return executor_; }
  const std::string& node_name() const noexcept { return state_.node_name(); }

  /// The services and checks that local aliases read, and where every alias writes its own check.
  local_state& state() noexcept { return state_; }
  alias_registry& aliases() noexcept { return aliases_; }
  /// The hub of remote aliases; null for an agent made without a Consul configuration.
  remote_hub* remote() noexcept { return hub_.get(); }

  /// Follows one check of this agent (see `check_watch`), on the agent's executor.
  check_watch watch(std::string check_id) { return check_watch(state_, std::move(check_id), executor_); }

  /// Registers the alias's own check and starts the alias (see `alias_registry::async_add`).
  ///
  /// Completion signature: `void(std::error_code)`. Errors: `errc::alias_exists`, `errc::invalid_argument`
  /// (a bad definition, or a remote one on an agent without a Consul configuration), `errc::unknown_service`,
  /// `errc::shut_down`. On error nothing was registered.
  ///
  /// Per-operation cancellation: none; it waits only for an alias of the same ID that is being removed.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_add(alias_definition def, CompletionToken&& token = {}) {
    return aliases_.async_add(std::move(def), std::forward<CompletionToken>(token));
  }

  /// Adds the alias or replaces the one with the same ID without a flap; the new task starts only after the
  /// old one ended (see `alias_registry::async_replace`).
  ///
  /// Completion signature: `void(std::error_code)`, after the old task ended. Errors: as `async_add`, except
  /// `errc::alias_exists`.
  ///
  /// Per-operation cancellation: none; emitted cancellation is ignored, so completion means the old task ended.
  ///
  /// Thread safety: any thread; concurrent replaces of one ID chain in call order.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_replace(alias_definition def, CompletionToken&& token = {}) {
    return aliases_.async_replace(std::move(def), std::forward<CompletionToken>(token));
  }

  /// Stops the alias, waits for its end, then deregisters its check (see `alias_registry::async_remove`).
  ///
  /// Completion signature: `void(std::error_code)`, after the task ended. Errors: `errc::unknown_check` if no
  /// alias had that ID.
  ///
  /// Per-operation cancellation: none; emitted cancellation is ignored, so completion means the task ended.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_remove(std::string check_id, CompletionToken&& token = {}) {
    return aliases_.async_remove(std::move(check_id), std::forward<CompletionToken>(token));
  }

  /// Stops every alias, then every remote query, and completes once all of them and every registry operation
  /// in flight have ended. Checks stay in `state()`.
  ///
  /// Completion signature: `void(std::error_code)`, always success.
  ///
  /// Per-operation cancellation: none; emitted cancellation is ignored, so completion always means the end.
  ///
  /// Thread safety: any thread; calling it again is harmless.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler) {
          start_shutdown(detail::make_completion<std::error_code>(std::move(handler), executor_));
        },
        token);
  }

 private:
  void start_shutdown(detail::completion_ptr<std::error_code> done);

  // Declared in destruction order reversed: aliases go first, then the hub, then the state they touch.
  const executor_type executor_;
  local_state state_;
  std::unique_ptr<remote_hub> hub_;
  alias_registry aliases_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace coalias
