// An HTTP/1.1 server that answers health probes from a `local_state`: a Consul HTTP check, a Kubernetes probe or
// a load balancer can ask it how a check is doing.
//
// Routes (anything after '?' is ignored):
//   GET /health/<id>  200 passing, 429 warning, 503 critical (Consul's own HTTP check mapping), body
//                     {"id":"...","status":"...","output":"..."}; 404 for a check that is unknown or not served.
//                     <id> is one percent-decoded path segment, so an ID containing '/' is asked as %2F.
//   GET /health       the worst status over the served checks, same codes; body a JSON array of those objects in
//                     check ID order. No served check: 200 and `[]` (nothing is failing; a probe that must see a
//                     check asks /health/<id>).
//   GET /metrics      `endpoint_options::metrics()` as Prometheus text (version 0.0.4); 404 when not set.
//   HEAD              as GET, without the body. Other methods on these paths: 405 with `Allow: GET, HEAD`.
//   Other paths: 404. A request that cannot be parsed: 400; a head over `max_request_bytes` or with more than
//   `max_headers` header lines: 431. Both close the connection.
//
// Connections: keep-alive (HTTP/1.1 by default, HTTP/1.0 with `Connection: keep-alive`) and pipelining (answers
// in request order). A connection idle for `idle_timeout`, or whose request or answer takes longer than that
// (a slow client), is closed. Beyond `max_connections` open connections a new one is accepted and closed at
// once, without a byte, so a probe fails fast instead of waiting in the listen backlog.
//
// Every answer reads the local state at that moment: a check that flipped shows its new status in the very next
// answer.
//
// Lifetime: `async_shutdown` completes once the listening socket and every connection have ended; only then may
// the endpoint and the local state be destroyed (debug builds assert). The local state must outlive it.
//
// Thread safety: every member function may be called from any thread. Each connection runs on its own strand of
// the executor, so an io_context may be run by several threads; `serves` and `metrics` are then called from
// several threads at once and must be thread-safe.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/detail/completion.hpp>
#include <coalias/health_check.hpp>
#include <coalias/local_state.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace coalias {

namespace detail {
class endpoint_core;
}  // namespace detail

struct endpoint_options {
  endpoint_options() = default;

  /// Open connections at most; beyond, a new connection is accepted and closed at once.
  std::size_t max_connections = 256;
  /// Request line and headers at most (bytes); beyond: 431 and close. A body (which no route reads) may be
  /// this long too; a longer one: 400 and close.
  std::size_t max_request_bytes = 8192;
  /// Header lines at most; beyond: 431 and close.
  std::size_t max_headers = 64;
  /// A connection is closed when it has waited this long for a request, or one request and its answer took
  /// this long (a client sending or reading byte by byte).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  /// Which checks /health and /health/<id> show; empty: all.
  std::function<bool(const health_check&)> serves;
  /// The body of GET /metrics (Prometheus text format 0.0.4, e.g. `prometheus_metrics::render`); empty: 404.
  std::function<std::string()> metrics;
};

class health_endpoint {
 public:
  using executor_type = asio::any_io_executor;

  /// Binds `where` and listens at once (port 0: any free port, see `local_endpoint`); serving starts
  /// immediately. Throws `std::system_error` whose message names the address if it cannot bind or listen.
  health_endpoint(const executor_type& ex, const local_state& state, const asio::ip::tcp::endpoint& where,
                  endpoint_options options = endpoint_options());
  health_endpoint(const health_endpoint&) = delete;
  health_endpoint& operator=(const health_endpoint&) = delete;
  /// Debug builds assert unless `async_shutdown` completed. Release builds start the shutdown, which cannot be
  /// awaited from here: the local state must then outlive the connections.
  ~health_endpoint();

  executor_type get_executor() const noexcept;

  /// The address it listens on (the actual port when bound to port 0).
  asio::ip::tcp::endpoint local_endpoint() const;

  /// Open connections right now (for tests and operators). Any thread.
  std::size_t connection_count() const;

  /// Stops accepting, closes every connection (an answer being written is cut), and completes once the
  /// listening socket and every connection have ended. Calling it again is harmless.
  ///
  /// Completion signature: `void(std::error_code)`, always success.
  ///
  /// Per-operation cancellation: none; emitted cancellation is ignored, so completion (inside `||` too) always
  /// means nothing of the endpoint runs any more. That takes microseconds.
  ///
  /// Thread safety: any thread. The handler runs on its associated executor (the endpoint's by default), never
  /// inside the initiating call.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_shutdown(CompletionToken&& token = {}) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [core = core_](auto handler) {
          start_shutdown(core, detail::make_completion<std::error_code>(std::move(handler), executor_of(*core)));
        },
        token);
  }

 private:
  static const executor_type& executor_of(const detail::endpoint_core& core) noexcept;
  static void start_shutdown(const std::shared_ptr<detail::endpoint_core>& core,
                             detail::completion_ptr<std::error_code> done);

  std::shared_ptr<detail::endpoint_core> core_;
};

}  // namespace coalias
