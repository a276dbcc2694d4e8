// Remote aliases: aliases of a node or service elsewhere in a Consul cluster, kept current by blocking queries
// on Consul's HTTP API through libcurl's multi interface driven by Asio.
//
// A `remote_hub` talks to one Consul agent. Aliases of the same node with the same token share one blocking
// query (a "watch"), whose answers fan out to each alias's own aggregation; a watch starts with its first
// subscriber and ends with its last, so 10,000 aliases over 100 nodes need 100 watches, not 10,000.
//
// Connections: at most `consul_config::max_connections` (default 8), one kept for non-blocking requests. While
// at most `max_connections - 1` (token, node) pairs are watched, each has its own blocking query on
// /v1/health/node/<node>; beyond that, at most `max_connections - 1` group queries on /v1/health/state/any with
// a filter naming their share of the nodes cover them all, so no node waits for a connection. Groups re-form
// (cancelled and re-issued, first without blocking) when watches start or end. Over an https address (HTTP/2,
// 250 streams per connection) a blocking query holds a stream, not a connection: per-node queries go on up to
// `(max_connections - 1) * 250` watched nodes, and a cancelled query resets only its stream. See the README.
//
// Lifetime: `async_shutdown` completes once every watch has ended; shut the aliases that use the hub down first
// (an `agent` does both, in that order). Debug builds assert if a hub is destroyed with watches running.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/aggregate.hpp>
#include <coalias/alias_registry.hpp>
#include <coalias/consul_config.hpp>
#include <coalias/detail/change_wait.hpp>
#include <coalias/detail/completion.hpp>
#include <coalias/observer.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace coalias {

namespace detail {
class remote_hub_impl;
class node_watch;
}  // namespace detail

/// Timing of the blocking-query loop. The defaults are Consul's; tests shrink them.
struct remote_options {
  remote_options() = default;

  /// Client-side timeout of a non-blocking request; a blocking one may take wait + wait/8 longer.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  /// Least time between two requests of one watch, so a server that answers at once cannot cause a hot loop.
  std::chrono::milliseconds min_request_spacing{100};
  /// Backoff after more than `backoff_after` consecutive failures: `backoff_base`, doubling, up to `backoff_max`,
  /// plus up to 20% jitter (within the maximum).
  int backoff_after = 3;
  std::chrono::milliseconds backoff_base{std::chrono::seconds(2)};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(1)};
  /// Catalog look-ups (does the aliased service exist?) are tried this often, sleeping 1, 2, 3... times
  /// `catalog_retry_delay` in between; if all fail, the service is assumed to exist, as Consul does.
  int catalog_attempts = 3;
  std::chrono::milliseconds catalog_retry_delay{std::chrono::seconds(1)};
  /// Told of every failed query and of the first good answer after failures, per node (see observer.hpp).
  /// Optional, not owned; must outlive the hub.
  remote_observer* observer = nullptr;
};

/// One evaluation of a remote alias target.
struct remote_evaluation {
  remote_evaluation() = default;
  remote_evaluation(check_result r, std::uint64_t i) : result(std::move(r)), index(i) {}

  check_result result;
  std::uint64_t index = 0;  ///< the X-Consul-Index it came from; 0 if none yet
};

class remote_hub final : public detail::remote_alias_factory {
 public:
  using executor_type = asio::any_io_executor;

  /// Throws `std::system_error` if curl cannot be initialised.
  remote_hub(const asio::any_io_executor& ex, consul_config config, remote_options options = remote_options());
  remote_hub(const remote_hub&) = delete;
  remote_hub& operator=(const remote_hub&) = delete;
  /// Cancels every watch; it cannot wait for them. Debug builds assert unless the hub was shut down or has no
  /// watch left.
  ~remote_hub();

  executor_type get_executor() const noexcept;

  const consul_config& config() const noexcept;
  const remote_options& options() const noexcept;

  /// Follows one target from a coroutine (what `coalias-watch` does). A watcher subscribes on construction and
  /// unsubscribes on destruction. Use it from one coroutine at a time; destroy it before the hub.
  class watcher {
   public:
    /// `self` is never counted (an alias's own check); `token` overrides the configured one when not empty.
    watcher(remote_hub& hub, alias_target target, const asio::any_io_executor& ex, std::string token = {},
            check_key self = {});
    watcher(const watcher&) = delete;
    watcher& operator=(const watcher&) = delete;
    ~watcher();

    using executor_type = asio::any_io_executor;
    executor_type get_executor() noexcept { return wakeups_.get_executor(); }

    /// Waits for the next evaluation whose status or output differs from the last one delivered (the first
    /// call delivers the first evaluation). Follows Consul's error policy: the first failure is silent; from
    /// the second consecutive one the result is critical, `Failure checking aliased node or service: <error>`.
    ///
    /// Completion signature: `void(std::error_code, remote_evaluation)`. Errors: `errc::shut_down` once the
    /// hub has been shut down; `asio::error::operation_aborted` when cancelled.
    ///
    /// Per-operation cancellation: terminal, partial and total all abandon the wait; the watcher stays usable
    /// and the next call delivers whatever changed meanwhile.
    ///
    /// Thread safety: one `async_next` at a time per watcher, from any thread.
    template <class CompletionToken = asio::default_completion_token_t<executor_type>>
    auto async_next(CompletionToken&& token = {}) {
      return detail::async_wait_for_change<remote_evaluation>(
          wakeups_, [this](std::error_code& ec) { return poll(ec); }, std::forward<CompletionToken>(token));
    }

   private:
    std::optional<remote_evaluation> poll(std::error_code& ec);

    alias_target target_;
    check_key self_;
    wake_channel wakeups_;
    std::shared_ptr<detail::remote_hub_impl> hub_;
    std::shared_ptr<detail::node_watch> watch_;
    std::uint64_t subscription_ = 0;
    std::optional<check_result> last_;
  };

  /// Ends every watch and waits for their loops to finish; watchers then fail with `errc::shut_down`. Stop the
  /// aliases that use the hub first: their checks would otherwise show the shutdown as a failure.
  ///
  /// Completion signature: `void(std::error_code)`, always success: no query of the hub runs any more.
  ///
  /// Per-operation cancellation: none; emitted cancellation is ignored, so completion always means the end.
  ///
  /// Thread safety: any thread; calling it again is harmless.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [this](auto handler) {
          start_shutdown(detail::make_completion<std::error_code>(std::move(handler), get_executor()));
        },
        token);
  }

  /// Number of watches (blocking-query loops) running.
  std::size_t watch_count() const;

 private:
  std::shared_ptr<detail::alias_task> make_alias(std::shared_ptr<detail::alias_lane> lane, local_state& state,
                                                 alias_definition def) override;
  void start_shutdown(detail::completion_ptr<std::error_code> done);
  std::shared_ptr<detail::remote_hub_impl> impl_;
};

}  // namespace coalias
