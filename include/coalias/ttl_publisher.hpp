// Publishing checks of a `local_state` into a Consul agent as TTL checks, so the catalog (DNS, mesh routing,
// load balancers) sees what an alias sees.
//
// The rules, per published check: it is registered (`PUT /v1/agent/check/register`: ID, Name, Notes, ServiceID,
// TTL = publish_options::ttl, Status critical, an output saying it has not been evaluated yet), then its current
// state is sent at once (`PUT /v1/agent/check/update/<id>`, `{"Status", "Output"}`), then every change of status
// or output, and the unchanged state every ttl/3 so the TTL never runs out. A check that is not in the local
// state is published critical with `Check "<id>" is not registered in the local state`. Output is cut to 4,096
// bytes on a UTF-8 boundary (`truncate_output`). At most one request per check is in flight; changes made
// meanwhile coalesce and the latest state is sent next, so the last state always arrives. A 404 on an update
// (the agent restarted and forgot the check) re-registers it and sends the current state. A 500 `does not have
// associated TTL` (another check of that ID, not a TTL check, is registered) stops publishing that check, with
// `on_publish_failed` and `publish_stats::phase::given_up`, instead of fighting over the ID. Other failures retry
// after 100 ms (or `backoff_base`, if less); after `backoff_after` consecutive ones they back off from
// `backoff_base`, doubling up to `backoff_max` with up to 20% jitter, and the next attempt sends whatever the
// state is then. The token travels only in the `X-Consul-Token` header and never appears in a reason.
//
// Lifetime: `async_shutdown` completes once every check's task and every operation in flight has ended; only then
// may the publisher, and after it the local state, be destroyed (debug builds assert). The `consul_config` is
// copied; `publish_options::observer` must outlive the publisher.
//
// Thread safety: every member function may be called from any thread, concurrently. Handlers run on their
// associated executor, the publisher's executor by default, and never inside the initiating call. The checks'
// tasks run on one strand of the publisher; observer hooks are called there, one at a time.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/consul_config.hpp>
#include <coalias/detail/completion.hpp>
#include <coalias/local_state.hpp>
#include <coalias/observer.hpp>
#include <coalias/status.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace coalias {

struct publish_options {
  publish_options() = default;  // not an aggregate: g++ 12 and co_await temporaries (docs/toolchain.md)

  std::chrono::milliseconds ttl{std::chrono::seconds(30)};  ///< registered TTL; unchanged state re-sent every ttl/3
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};  ///< bounds each request
  std::chrono::milliseconds deregister_timeout{std::chrono::seconds(2)};  ///< bounds deregistration at stop
  /// Backoff after more than `backoff_after` consecutive failures, as remote_options.
  int backoff_after = 3;
  std::chrono::milliseconds backoff_base{2000};
  std::chrono::milliseconds backoff_max{60000};
  publish_observer* observer = nullptr;  ///< optional, not owned; must outlive the publisher
};

/// What is registered with the agent.
struct published_check {
  published_check() = default;  // not an aggregate, as publish_options

  std::string check_id;  ///< the local_state check followed, and the ID registered with Consul
  std::string name;      ///< empty: check_id
  std::string notes;
  std::string service_id;  ///< a service registered with the agent, or empty for a node-level check
};

/// Where one published check stands. A snapshot; `ttl_publisher::stats` takes a new one.
struct publish_stats {
  publish_stats() = default;

  enum class phase : std::uint8_t {
    registering,  ///< not (or no longer) registered with the agent: registration is under way or retried
    publishing,   ///< registered; the latest request succeeded
    failing,      ///< the latest request failed; retrying (with backoff after `backoff_after` failures)
    given_up,     ///< terminal: the agent holds a check of this ID without a TTL (see `error`)
  };
  phase state = phase::registering;
  std::optional<coalias::status> published;  ///< the status the agent last acknowledged
  std::string error;                         ///< the last failure's reason; empty once a request succeeds
  std::uint64_t registrations = 0;           ///< successful registrations (the first, after a 404, after replace)
  std::uint64_t updates = 0;                 ///< successful updates, heartbeats included
  std::uint64_t failures = 0;                ///< failed requests, all kinds
};

namespace detail {
class publisher_core;
}

class ttl_publisher {
 public:
  using executor_type = asio::any_io_executor;
  using completion_ptr = detail::completion_ptr<std::error_code>;

  /// Throws `std::system_error` if curl cannot be initialised, `errc::invalid_argument` for a ttl below 3 ms.
  ttl_publisher(const asio::any_io_executor& ex, local_state& state, consul_config config, publish_options options = {});
  ttl_publisher(const ttl_publisher&) = delete;
  ttl_publisher& operator=(const ttl_publisher&) = delete;
  /// Debug builds assert if checks still run (as ~alias_registry does): co_await async_shutdown() first.
  ~ttl_publisher();

  executor_type get_executor() const noexcept;

  /// Starts publishing `check`; registration happens in the background.
  ///
  /// Completion signature: `void(std::error_code)`. Errors: `errc::alias_exists` if the ID is already
  /// published, `errc::invalid_argument` for an empty ID, `errc::shut_down` after shutdown.
  ///
  /// Per-operation cancellation: none; it never waits, except for a predecessor of the same ID being removed:
  /// the new task starts only after that one ended.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_add(published_check check, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, published_check c) {
          start_add(core, std::move(c), false, completion_for(*core, std::move(handler)));
        },
        token, std::move(check));
  }

  /// Replaces the registration fields of a published check (or adds it), completing once the old task has
  /// ended; the new task then re-registers with the status last published, so the catalog shows no flap.
  ///
  /// Completion signature: `void(std::error_code)`. Errors: as `async_add`, except `errc::alias_exists`.
  ///
  /// Per-operation cancellation: none: emitted cancellation is ignored, and completion means the old task ended.
  ///
  /// Thread safety: any thread. Concurrent replaces of one ID chain in the order they were called.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_replace(published_check check, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, published_check c) {
          start_add(core, std::move(c), true, completion_for(*core, std::move(handler)));
        },
        token, std::move(check));
  }

  /// Stops publishing `check_id`: its task ends (a request in flight is aborted), then, when `deregister`, the
  /// check is deregistered (`PUT /v1/agent/check/deregister/<id>`, bounded by `deregister_timeout`; not for a
  /// check that was given up, whose ID belongs to another check).
  ///
  /// Completion signature: `void(std::error_code)`: once the task has ended and the deregistration finished or
  /// timed out. Errors: `errc::unknown_check` if the ID is not published (after shutdown, none is). A failed
  /// deregistration is reported to the observer, not here.
  ///
  /// Per-operation cancellation: none: emitted cancellation is ignored.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_remove(std::string check_id, bool deregister, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, std::string id, bool d) {
          start_remove(core, std::move(id), d, completion_for(*core, std::move(handler)));
        },
        token, std::move(check_id), deregister);
  }

  /// Stops every check (deregistering each when `deregister`, all at once, each bounded by
  /// `deregister_timeout`) and waits until every task and every operation in flight has ended; later adds fail
  /// with `errc::shut_down`. Calling it again is harmless.
  ///
  /// Completion signature: `void(std::error_code)`, always success.
  ///
  /// Per-operation cancellation: none: completion means nothing of the publisher runs any more.
  ///
  /// Thread safety: any thread, concurrently with every other operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(bool deregister, CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler, bool d) {
          start_shutdown(core, d, completion_for(*core, std::move(handler)));
        },
        token, deregister);
  }

  /// Where `check_id` stands; nullopt if it is not published. Any thread.
  std::optional<publish_stats> stats(const std::string& check_id) const;
  std::size_t size() const;

 private:
  using core_ptr = std::shared_ptr<detail::publisher_core>;
  template <class Handler>
  static completion_ptr completion_for(const detail::publisher_core& core, Handler&& handler) {
    return detail::make_completion<std::error_code>(std::forward<Handler>(handler), executor_of(core));
  }
  static const executor_type& executor_of(const detail::publisher_core& core) noexcept;
  static void start_add(const core_ptr& core, published_check check, bool replace, completion_ptr done);
  static void start_remove(const core_ptr& core, std::string check_id, bool deregister, completion_ptr done);
  static void start_shutdown(const core_ptr& core, bool deregister, completion_ptr done);

  core_ptr core_;  // shared with operations in flight
};

}  // namespace coalias
