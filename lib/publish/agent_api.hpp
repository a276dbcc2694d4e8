// The agent's check endpoints a ttl_publisher calls, over the curl transport: request bodies, URLs and outcomes.
// Private to the library.
//
// Thread safety: `async_put` may be called from any thread; the client serialises on its strand.
#pragma once

#include "http/client.hpp"
#include "remote/consul_api.hpp"

#include <coalias/consul_config.hpp>
#include <coalias/status.hpp>
#include <coalias/ttl_publisher.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
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

  /// Starts a PUT of `body` to `path` (from "/v1/..."), bounded by `timeout`. `handler` is
  /// `void(std::error_code, http::response)`, as http::client::async_request (its associated executor and
  /// cancellation slot apply); `outcome` reads what it got.
  template <class Handler>
  void async_put(std::string path, std::string body, std::chrono::milliseconds timeout, Handler&& handler) {
    client_.async_request(make_request(std::move(path), std::move(body), timeout), std::forward<Handler>(handler));
  }
  /// How a PUT ended; an aborted one (cancelled, or the api destroyed) is a transport failure, status 0.
  put_outcome outcome(std::error_code ec, http::response resp) const;
  /// How many requests may run at once: one per connection to the agent.
  std::size_t max_connections() const noexcept { return std::max<std::size_t>(config_.max_connections, 1); }

  static std::string register_path() { return "/v1/agent/check/register"; }
  /// `prefix` + the ID as one percent-encoded path segment ("update/", "deregister/").
  static std::string check_path(std::string_view action, std::string_view check_id);
  /// The registration body; `output` is sent too, though Consul ignores it at registration.
  static std::string register_body(const published_check& check, std::chrono::milliseconds ttl, status s,
                                   std::string_view output);
  static std::string update_body(status s, std::string_view output);

 private:
  http::request make_request(std::string path, std::string body, std::chrono::milliseconds timeout) const;

  const consul_config config_;
  http::client client_;
};

/// True for Consul's answer to an update of a check that has no TTL: the ID belongs to another check.
bool is_not_ttl(const put_outcome& o);

}  // namespace coalias::publish
