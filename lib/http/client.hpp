// coalias::http::client: HTTP requests over one libcurl multi handle, driven by Asio (no thread per request,
// no polling loop).
//
// Threading: the client owns a strand on the executor it was given; every curl call runs on that strand.
// async_get and async_request may be called from any thread, concurrently. The destructor may run on any thread, but not
// concurrently with async_get or async_request on the same
// client. A per-operation cancellation signal must be emitted from the
// handler's own context (as `||` and co_spawn do), which is the rule for every Asio operation.
//
// Lifetime: destroy the client before its execution context. In-flight transfers do not keep the client alive;
// destroying it aborts them.
//
// Connections: keep-alive with a cache that holds every capped connection; at most
// options::max_connections_per_host connections per host (further requests queue inside curl). Over https, curl
// offers h2 (ALPN) and, when the server takes it, multiplexes: a new transfer waits for an open connection to
// say whether it multiplexes (CURLOPT_PIPEWAIT) and shares it up to 250 concurrent streams (Consul's limit)
// before another connection is opened. Plain http is HTTP/1.1, one transfer per connection.
#pragma once

#include "http/completion.hpp"
#include "http/curl_error.hpp"
#include "http/request.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <type_traits>
#include <utility>

namespace coalias::http {

namespace detail {
class engine;
void start(const std::shared_ptr<engine>& e, std::uint64_t id, request req, std::unique_ptr<completion> done);
std::uint64_t next_id(engine& e) noexcept;
const asio::any_io_executor& io_executor(const engine& e) noexcept;
void cancel(const std::weak_ptr<engine>& e, std::uint64_t id);
}  // namespace detail

// Outside `client` so it can be a defaulted constructor argument there.
struct client_options {
  /// CURLMOPT_MAX_HOST_CONNECTIONS; 0: no cap. Over h2 curl gets less, ceil(transfers in flight / 250) + 1,
  /// while the server multiplexes (curl 7.88 would open a connection per transfer in a burst).
  std::size_t max_connections_per_host = 64;
  client_options() = default;
};

class client {
 public:
  using options = client_options;

  using executor_type = asio::any_io_executor;

  /// Throws std::bad_alloc if curl cannot create its multi handle, std::system_error if curl cannot initialise.
  explicit client(asio::any_io_executor ex, options opts = {});
  /// Aborts every transfer: their handlers complete with asio::error::operation_aborted.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  executor_type get_executor() const noexcept;

  /// Test hook: connections (sockets) opened so far by every client in this process. Thread-safe.
  static std::uint64_t connections_opened() noexcept;

  /// Starts a GET. Completes with void(std::error_code, response), posted to the handler's associated executor
  /// (the client's executor by default), never invoked from inside async_get.
  ///
  /// Any status code, 4xx and 5xx included, completes without error: judging the status is the caller's job.
  /// Errors:
  /// - curl_category(): transport failures: CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT (request::timeout),
  ///   CURLE_PARTIAL_FILE (body shorter than Content-Length), CURLE_GOT_NOTHING, CURLE_PEER_FAILED_VERIFICATION,
  ///   ...; response::error_detail then holds curl's text.
  /// - errc::body_too_large: the body exceeded request::max_body.
  /// - errc::invalid_argument: an empty URL, or CR/LF/NUL in a header or in the URL.
  /// - asio::error::operation_aborted: cancelled, or the client was destroyed.
  ///
  /// Per-operation cancellation: terminal, partial and total all abort the transfer at once and complete with
  /// operation_aborted. Over HTTP/1.1 its connection is closed, never returned to the pool half-read; over h2
  /// only its stream is reset, and the connection stays with the other transfers it carries. Cancelling after
  /// completion does nothing.
  template <class CompletionToken>
  auto async_get(request req, CompletionToken&& token) {
    req.method = "GET";
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        initiate_request{engine_}, token, std::move(req));
  }

  /// Starts a request with request::method and request::body (a PUT with an empty body sends
  /// `Content-Length: 0`). Completion, errors, threads and per-operation cancellation as async_get; also
  /// errc::invalid_argument for a method that is not an HTTP token, or a body on GET or HEAD.
  template <class CompletionToken>
  auto async_request(request req, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        initiate_request{engine_}, token, std::move(req));
  }

 private:
  struct cancel_on_signal {
    std::weak_ptr<detail::engine> engine;
    std::uint64_t id;
    void operator()(asio::cancellation_type type) const {
      if ((type & asio::cancellation_type::all) != asio::cancellation_type::none) detail::cancel(engine, id);
    }
  };

  struct initiate_request {
    std::shared_ptr<detail::engine> engine;

    template <class Handler>
    void operator()(Handler&& handler, request req) const {
      using handler_type = std::decay_t<Handler>;
      const std::uint64_t id = detail::next_id(*engine);
      auto slot = asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.template emplace<cancel_on_signal>(cancel_on_signal{engine, id});
      auto done = std::make_unique<detail::completion_for<handler_type, asio::any_io_executor>>(
          std::forward<Handler>(handler), detail::io_executor(*engine));
      detail::start(engine, id, std::move(req), std::move(done));
    }
  };

  std::shared_ptr<detail::engine> engine_;
};

}  // namespace coalias::http
