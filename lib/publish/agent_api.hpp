// The agent's check endpoints a ttl_publisher calls, over the curl transport: request bodies, URLs and outcomes.
// Private to the library.
//
// Thread safety: `put` and `async_put` may be called from any thread; the client serialises on its strand.
#pragma once

#include "http/client.hpp"

#include <coalias/consul_config.hpp>
#include <coalias/status.hpp>
#include <coalias/ttl_publisher.hpp>

#include <asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace coalias::publish {

/// How a PUT ended. `reason` is one line for an observer or a log: never the token.
struct put_outcome {
  put_outcome() = default;
  bool ok = false;   ///< 2xx
  long status = 0;   ///< HTTP status; 0 for a transport failure
  std::string body;  ///< the response body (Consul's error text)
  std::string reason;
};

class agent_api {
 public:
  agent_api(const asio::any_io_executor& ex, consul_config config);

  /// A PUT of `body` to `path` (from "/v1/..."), bounded by `timeout`. Throws only on cancellation.
  asio::awaitable<put_outcome> put(std::string path, std::string body, std::chrono::milliseconds timeout);
  /// The same with a callback, run on the client's executor (deregistration at stop, outside any task). An
  /// aborted transfer (the api destroyed) completes with status 0.
  void async_put(std::string path, std::string body, std::chrono::milliseconds timeout,
                 std::function<void(put_outcome)> done);

  static std::string register_path() { return "/v1/agent/check/register"; }
  /// `prefix` + the ID as one percent-encoded path segment ("update/", "deregister/").
  static std::string check_path(std::string_view action, std::string_view check_id);
  /// The registration body; `output` is sent too, though Consul ignores it at registration.
  static std::string register_body(const published_check& check, std::chrono::milliseconds ttl, status s,
                                   std::string_view output);
  static std::string update_body(status s, std::string_view output);

 private:
  http::request make_request(std::string path, std::string body, std::chrono::milliseconds timeout) const;
  static put_outcome outcome_of(std::error_code ec, http::response resp, const std::string& token);

  const consul_config config_;
  http::client client_;
};

/// True for Consul's answer to an update of a check that has no TTL: the ID belongs to another check.
bool is_not_ttl(const put_outcome& o);

}  // namespace coalias::publish
