// The owner of alias checks, by check ID, as Consul's agent holds them. Most programs use it through an
// `agent`, which also owns the local state and the remote hub; use it directly to compose your own.
//
// Every operation keeps one rule: a task for a check ID starts only after the previous task for that ID has
// ended, so an old task can never write after its replacement started (race 3 of Consul #5876). Each alias's
// own check is registered in the local state when it is added and deregistered when it is removed.
//
// Lifetime: `async_shutdown` completes once every alias and every operation in flight has ended; only then may
// the registry, the local state and a remote hub it uses be destroyed. Debug builds assert if a registry is
// destroyed with aliases still running.
//
// Thread safety: every member function may be called from any thread, concurrently. Handlers run on their
// associated executor, the registry's executor by default, and never inside the initiating call.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/alias_check.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/detail/completion.hpp>
#include <coalias/local_state.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

namespace coalias {

namespace detail {
class alias_task;
class alias_lane;
class registry_core;
/// What the registry needs to run remote aliases: a `remote_hub` (pass one to the constructor).
class remote_alias_factory {
 public:
  /// Throws `std::system_error` for a definition it cannot run. `lane`: the registry's, shared by all its aliases
  /// (one strand; a lane per remote alias would cost it about 300 bytes more).
  virtual std::shared_ptr<alias_task> make_alias(std::shared_ptr<alias_lane> lane, local_state& state,
                                                 alias_definition def) = 0;

 protected:
  ~remote_alias_factory() = default;
};
}  // namespace detail

class alias_registry {
 public:
  using executor_type = asio::any_io_executor;
  using completion_ptr = detail::completion_ptr<std::error_code>;

  /// A registry of local aliases only: remote definitions fail with `errc::invalid_argument`.
  alias_registry(const executor_type& ex, local_state& state);
  /// A registry that runs remote aliases (a non-empty `target.node`) through `remote`, a `remote_hub` that must
  /// outlive it.
  alias_registry(const executor_type& ex, local_state& state, detail::remote_alias_factory& remote);
  alias_registry(const alias_registry&) = delete;
  alias_registry& operator=(const alias_registry&) = delete;
  ~alias_registry();

  executor_type get_executor() const noexcept;

  /// Registers the alias's own check (critical until first evaluated) and starts the alias.
  ///
  /// Completion signature: `void(std::error_code)`. Errors: `errc::alias_exists` if the ID is taken,
  /// `errc::invalid_argument` for a bad definition (including a remote one without a hub, or a node name that
  /// cannot be a path segment), `errc::unknown_service` if `def.service_id` is not registered,
  /// `errc::shut_down` after shutdown. On error nothing was registered.
  ///
  /// Per-operation cancellation: none. The operation waits only when the ID belongs to an alias being removed:
  /// it then completes after that alias ended, and the new one starts only then.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_add(alias_definition def, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, alias_definition d) {
          start_add(core, std::move(d), false, completion_for(*core, std::move(handler)));
        },
        token, std::move(def));
  }

  /// Adds the alias or replaces the one with the same check ID, completing once the old task has ended; the
  /// new one starts only then. The check keeps its status and output across the replacement: no flap.
  ///
  /// Completion signature: `void(std::error_code)`. Errors: as `async_add`, except `errc::alias_exists`.
  ///
  /// Per-operation cancellation: none. Emitted cancellation is ignored, so the operation (inside `||` too)
  /// completes only after the old task ended; that takes microseconds.
  ///
  /// Thread safety: any thread. Concurrent replaces of one ID chain in the order they were called.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_replace(alias_definition def, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, alias_definition d) {
          start_add(core, std::move(d), true, completion_for(*core, std::move(handler)));
        },
        token, std::move(def));
  }

  /// Stops the alias, waits for its end, then deregisters its check (unless an add or replace took the ID over
  /// meanwhile).
  ///
  /// Completion signature: `void(std::error_code)`. Errors: `errc::unknown_check` if no alias had that ID
  /// (after shutdown, none has).
  ///
  /// Per-operation cancellation: none, as `async_replace`: completion means the task has ended.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_remove(std::string check_id, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, std::string id) {
          start_remove(core, std::move(id), completion_for(*core, std::move(handler)));
        },
        token, std::move(check_id));
  }

  /// Stops every alias and waits until all of them, and every operation already in flight, have ended; later
  /// adds fail with `errc::shut_down`. The aliases' checks stay in the local state, as an agent that stops
  /// leaves its catalog entries behind. Calling it again is harmless.
  ///
  /// Completion signature: `void(std::error_code)`, always success.
  ///
  /// Per-operation cancellation: none: completion means nothing of the registry runs any more.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler) { start_shutdown(core, completion_for(*core, std::move(handler))); }, token);
  }

  std::size_t size() const;
  bool contains(const std::string& check_id) const;

 private:
  // Initiations hold the core, not the registry: a deferred operation may be launched after the registry moved
  // out of reach, and an operation in flight keeps what it touches alive.
  using core_ptr = std::shared_ptr<detail::registry_core>;
  template <class Handler>
  static completion_ptr completion_for(const detail::registry_core& core, Handler&& handler) {
    return detail::make_completion<std::error_code>(std::forward<Handler>(handler), executor_of(core));
  }
  static const executor_type& executor_of(const detail::registry_core& core) noexcept;
  static void start_add(const core_ptr& core, alias_definition def, bool replace, completion_ptr done);
  static void start_remove(const core_ptr& core, std::string check_id, completion_ptr done);
  static void start_shutdown(const core_ptr& core, completion_ptr done);

  std::shared_ptr<detail::registry_core> core_;  // shared with operations in flight
};

}  // namespace coalias
