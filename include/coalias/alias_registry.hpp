// The owner of alias checks, by check ID, as Consul's agent holds them.
//
// Every operation keeps one rule: a task for a check ID starts only after the previous task for that ID has
// ended, so an old task can never write after its replacement started (race 3 of Consul #5876). Each alias's
// own check is registered in the local state when it is added and deregistered when it is removed.
//
// Operations complete with signature `void(std::exception_ptr)` through any completion token (they run as
// coroutines on the registry's executor): with `asio::use_awaitable` a failure is thrown as
// `std::system_error` with an `errc` code; with `asio::use_future` the future throws it.
//
// Thread safety: all member functions may be called from any thread, concurrently. `shutdown()` blocks and
// must not be called from a thread that runs the registry's executor.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/alias_check.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>

#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace coalias {

namespace detail {
class alias_task;
/// What the registry needs to run remote aliases: a `remote_hub` (pass one to the constructor).
class remote_alias_factory {
 public:
  virtual std::shared_ptr<alias_task> make_alias(const asio::any_io_executor& ex, local_state& state,
                                                 alias_definition def) = 0;

 protected:
  ~remote_alias_factory() = default;
};
}  // namespace detail

class alias_registry {
 public:
  /// A registry of local aliases only: remote definitions fail with `errc::invalid_argument`.
  alias_registry(const asio::any_io_executor& ex, local_state& state);
  /// A registry that runs remote aliases (a non-empty `target.node`) through `remote`, a `remote_hub` that must
  /// outlive it.
  alias_registry(const asio::any_io_executor& ex, local_state& state, detail::remote_alias_factory& remote);
  alias_registry(const alias_registry&) = delete;
  alias_registry& operator=(const alias_registry&) = delete;
  /// Asks every alias to stop; it cannot wait for them. Shut the registry down first.
  ~alias_registry();

  /// Registers the alias's check (critical until first evaluated) and starts it.
  /// Fails with `errc::alias_exists` if the ID is taken, `errc::invalid_argument` for a bad definition,
  /// `errc::unknown_service` if `def.service_id` is not registered, `errc::shut_down` after shutdown.
  template <class CompletionToken>
  auto async_add(alias_definition def, CompletionToken&& token) {
    return asio::co_spawn(executor_, add(std::move(def), false), std::forward<CompletionToken>(token));
  }

  /// Adds the alias or replaces the one with the same check ID: completes once the old task has ended and the
  /// new one has started. The check keeps its status and output across the replacement, so it does not flap.
  template <class CompletionToken>
  auto async_replace(alias_definition def, CompletionToken&& token) {
    return asio::co_spawn(executor_, add(std::move(def), true), std::forward<CompletionToken>(token));
  }

  /// Stops the alias, waits for its end, then deregisters its check. Completes with
  /// `void(std::exception_ptr, bool)`: false if no alias had that ID.
  template <class CompletionToken>
  auto async_remove(std::string check_id, CompletionToken&& token) {
    return asio::co_spawn(executor_, remove(std::move(check_id)), std::forward<CompletionToken>(token));
  }

  /// Stops every alias and waits for all of them; later adds fail with `errc::shut_down`. The aliases' checks
  /// stay in the local state, as an agent that stops leaves its catalog entries behind.
  template <class CompletionToken>
  auto async_shutdown(CompletionToken&& token) {
    return asio::co_spawn(executor_, shutdown_all(), std::forward<CompletionToken>(token));
  }
  /// Blocking form of `async_shutdown`.
  void shutdown();

  std::size_t size() const;
  bool contains(const std::string& check_id) const;

 private:
  struct entry {
    std::shared_ptr<detail::alias_task> task;
    bool removing = false;
  };

  asio::awaitable<void> add(alias_definition def, bool replace);
  asio::awaitable<bool> remove(std::string check_id);
  asio::awaitable<void> shutdown_all();
  void register_check(const alias_definition& def);

  asio::any_io_executor executor_;
  local_state& state_;
  detail::remote_alias_factory* remote_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, entry, std::less<>> aliases_;
  bool shut_down_ = false;
};

}  // namespace coalias
