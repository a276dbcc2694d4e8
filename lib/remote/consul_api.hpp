// The two Consul endpoints a remote alias reads, over the curl transport, with Consul's error conventions.
#pragma once

#include "http/client.hpp"

#include <coalias/consul_config.hpp>
#include <coalias/consul_json.hpp>
#include <coalias/health_check.hpp>
#include <coalias/wake_channel.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <system_error>
#include <vector>

namespace coalias::remote {

/// A channel of tokens: a counting semaphore that waits the Asio way (cancellable, any executor).
struct token_traits : wake_traits {
  template <class...>
  struct rebind {
    using other = token_traits;
  };
  template <class Element>
  struct container {
    using type = std::deque<Element>;
  };
};
using token_channel =
    asio::experimental::basic_concurrent_channel<asio::any_io_executor, token_traits, void(std::error_code)>;

/// How a call ended. `error` is a human-readable reason for an alias's output: never the token.
struct call_outcome {
  std::error_code ec;
  std::string error;
};

struct health_answer {
  std::vector<health_check> checks;
  std::uint64_t index = 0;  ///< X-Consul-Index; 0 if the header was absent
  /// health_state_any only: the body `checks` were parsed from, and whether the last answer's body was the same,
  /// byte for byte (then it was not parsed again: `checks` still hold its rows). Clear `body` to have the next
  /// answer parsed whatever it is.
  std::string body;
  bool same_body = false;
  std::string spare;  ///< health_state_any only: a spent body, the next answer's receive buffer
};

class consul_api {
 public:
  /// `request_timeout` bounds non-blocking requests; a blocking one gets more than the server may hold it.
  consul_api(const asio::any_io_executor& ex, consul_config config, std::chrono::milliseconds request_timeout);

  const consul_config& config() const noexcept { return config_; }

  /// GET /v1/health/node/<node>, blocking on `index` when it is positive. Throws only on cancellation.
  asio::awaitable<call_outcome> health_node(const std::string& node, const std::string& token, std::uint64_t index,
                                            consul_json_parser& parser, health_answer& out);

  /// GET /v1/health/state/any?filter=<filter>, blocking on `index` when it is positive: the checks of every node
  /// the filter names, in one answer. Such a query wakes on every check change in the datacenter, so most answers
  /// repeat the last one but for the index: a body equal to `out.body` is not parsed (out.same_body). Throws only on
  /// cancellation.
  asio::awaitable<call_outcome> health_state_any(const std::string& filter, const std::string& token,
                                                 std::uint64_t index, consul_json_parser& parser, health_answer& out);

  /// The blocking queries that may be held at once: max_connections - 1 (at least 1) over HTTP/1.1 (plain http,
  /// unix socket), where each holds a connection; (max_connections - 1) * 250 over https, where each holds one of
  /// the 250 h2 streams a Consul connection carries.
  std::size_t blocking_slots() const noexcept;

  /// How many group queries cover the nodes once they outnumber blocking_slots(): max_connections - 1 (at least
  /// 1), over either transport, since each one wakes on every check change in the datacenter.
  std::size_t group_queries() const noexcept;

  /// GET /v1/catalog/node/<node>. Throws only on cancellation.
  asio::awaitable<call_outcome> catalog_node(const std::string& node, const std::string& token,
                                             consul_json_parser& parser, coalias::catalog_node& out);

 private:
  http::request make_request(std::string url, const std::string& token, std::chrono::milliseconds timeout) const;
  asio::awaitable<call_outcome> get(http::request req, const std::string& token, http::response& out);
  // A health endpoint's answer (a JSON array of checks and X-Consul-Index), through a blocking slot if `index` > 0.
  // `keep_body`: the body is kept in `out.body`, and one equal to the last is not parsed (see health_state_any).
  asio::awaitable<call_outcome> health_get(std::string url, const std::string& token, std::uint64_t index,
                                           consul_json_parser& parser, health_answer& out, bool keep_body);

  std::chrono::milliseconds timeout_for(std::uint64_t index) const;

  const consul_config config_;
  const std::chrono::milliseconds request_timeout_;
  http::client client_;
  // Slots for blocking queries, one token each: a query holds its connection for up to `wait`, so one that
  // waited inside curl for a free connection would spend its own timeout queueing and fail on a quiet cluster.
  // Queries beyond the cap wait here, untimed, and one connection stays free for catalog look-ups. Over h2 the
  // slots are streams: curl fills a connection to 250 streams before opening the next.
  token_channel blocking_slots_;
};

/// A request to the Consul agent `config` names: its unix socket if it has one, its TLS settings, and `token` (when
/// not empty) as the X-Consul-Token header, never in the URL. Callers add the method, body and size limit.
http::request consul_request(const consul_config& config, std::string url, const std::string& token,
                             std::chrono::milliseconds timeout);

/// Replaces every occurrence of `secret` in `text` (defence in depth: a server may echo what it was sent).
std::string redact(std::string text, const std::string& secret);

}  // namespace coalias::remote
