#include "remote/consul_api.hpp"

#include "consul/response_meta.hpp"
#include "consul/url.hpp"
#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace coalias::remote {
namespace {

// A server's error body, shortened to one line for an alias's output.
std::string first_line(std::string_view body) {
  return coalias::detail::error_excerpt(body.substr(0, body.find_first_of("\r\n")), 200);
}

// Consul's HTTPS listener (h2) allows this many concurrent streams per connection.
constexpr std::size_t h2_streams_per_connection = 250;

// Blocking queries may hold every connection but one: catalog look-ups and first reads always get through.
std::size_t connection_slot_count(std::size_t max_connections) {
  return max_connections > 1 ? max_connections - 1 : 1;
}

// Over https (h2) a blocking query holds a stream, not a connection: 250 of them share one connection.
std::size_t blocking_slot_count(const consul_config& c) {
  const bool h2 = c.address.type() == consul_address::kind::tcp && c.address.tls();
  return connection_slot_count(c.max_connections) * (h2 ? h2_streams_per_connection : 1);
}

// Returns a held blocking-query slot, however the query ends.
class slot_guard {
 public:
  slot_guard() = default;
  slot_guard(const slot_guard&) = delete;
  slot_guard& operator=(const slot_guard&) = delete;
  ~slot_guard() {
    if (slots_) (void)slots_->try_send(std::error_code{});
  }
  void hold(token_channel& slots) noexcept { slots_ = &slots; }

 private:
  token_channel* slots_ = nullptr;
};

}  // namespace

std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "<redacted>");
  return text;
}

consul_api::consul_api(const asio::any_io_executor& ex, consul_config config,
                       std::chrono::milliseconds request_timeout)
    : config_(std::move(config)), request_timeout_(request_timeout), client_(ex, [&] {
        http::client_options o;
        o.max_connections_per_host = config_.max_connections;
        return o;
      }()),
      blocking_slots_(ex, blocking_slot_count(config_)) {
  for (std::size_t i = 0; i < blocking_slot_count(config_); ++i)
    (void)blocking_slots_.try_send(std::error_code{});
}

// A blocking query may be held for wait + wait/16 (the server's jitter): allow more, plus the ordinary margin.
std::chrono::milliseconds consul_api::timeout_for(std::uint64_t index) const {
  return index > 0 ? config_.wait + config_.wait / 8 + request_timeout_ : request_timeout_;
}

http::request consul_request(const consul_config& config, std::string url, const std::string& token,
                             std::chrono::milliseconds timeout) {
  http::request req;
  req.url = std::move(url);
  if (config.address.type() == consul_address::kind::unix_socket) req.unix_socket = config.address.unix_socket();
  if (!token.empty()) req.headers.emplace_back("X-Consul-Token", token);  // only ever a header
  req.timeout = timeout;
  req.tls.ca_file = config.tls.ca_file;
  req.tls.ca_path = config.tls.ca_path;
  req.tls.cert_file = config.tls.cert_file;
  req.tls.key_file = config.tls.key_file;
  req.tls.server_name = config.tls.server_name;
  req.tls.verify = config.tls.verify;
  return req;
}

http::request consul_api::make_request(std::string url, const std::string& token,
                                       std::chrono::milliseconds timeout) const {
  auto req = consul_request(config_, std::move(url), token, timeout);
  req.max_body = config_.max_body;
  return req;
}

asio::awaitable<call_outcome> consul_api::get(http::request req, const std::string& token, http::response& out) {
  auto [ec, resp] = co_await client_.async_get(std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) throw std::system_error(ec);  // cancellation ends the caller
  if (ec) co_return call_outcome{ec, redact(resp.error_detail.empty() ? ec.message() : resp.error_detail, token)};
  if (resp.status < 200 || resp.status > 299) {
    auto detail = first_line(resp.body);
    co_return call_outcome{errc::http_status,
                           redact("Unexpected response code: " + std::to_string(resp.status) +
                                      (detail.empty() ? "" : " (" + detail + ")"),
                                  token)};
  }
  out = std::move(resp);
  co_return call_outcome{};
}

std::size_t consul_api::blocking_slots() const noexcept { return blocking_slot_count(config_); }

std::size_t consul_api::group_queries() const noexcept { return connection_slot_count(config_.max_connections); }

asio::awaitable<call_outcome> consul_api::health_node(const std::string& node, const std::string& token,
                                                      std::uint64_t index, consul_json_parser& parser,
                                                      health_answer& out) {
  std::string url;
  if (const auto bad = consul::append_path_segment(url, node))
    co_return call_outcome{bad, "Invalid node name"};
  url = consul::health_node_url(config_, node, index, config_.wait);  // named: g++ 12 and co_await temporaries
  co_return co_await health_get(std::move(url), token, index, parser, out, false);
}

asio::awaitable<call_outcome> consul_api::health_state_any(const std::string& filter, const std::string& token,
                                                           std::uint64_t index, consul_json_parser& parser,
                                                           health_answer& out) {
  auto url = consul::health_state_url(config_, "any", filter, index, config_.wait);  // named, as above
  co_return co_await health_get(std::move(url), token, index, parser, out, true);
}

asio::awaitable<call_outcome> consul_api::health_get(std::string url, const std::string& token, std::uint64_t index,
                                                     consul_json_parser& parser, health_answer& out, bool keep_body) {
  slot_guard slot;
  if (index > 0) {
    co_await blocking_slots_.async_receive(asio::use_awaitable);  // cancellable: nothing is held until it completes
    slot.hold(blocking_slots_);
  }
  http::response resp;
  auto req = make_request(std::move(url), token, timeout_for(index));
  if (keep_body) {
    out.spare.clear();  // only its memory is wanted
    req.response_buffer = std::move(out.spare);
  }
  auto outcome = co_await get(std::move(req), token, resp);
  if (outcome.ec) co_return outcome;

  consul::response_meta meta;
  std::string_view bad_header;
  if (const auto ec = consul::parse_response_meta_from(resp.headers, meta, &bad_header))
    co_return call_outcome{ec, "Invalid " + std::string(bad_header) + " header"};
  out.same_body = keep_body && !out.body.empty() && resp.body == out.body;
  if (out.same_body) {
    out.spare = std::move(resp.body);
  } else {
    out.body.clear();  // `checks` are about to change: until they parse, no body matches them
    if (const auto ec = parser.parse_health_node(resp.body, out.checks))
      co_return call_outcome{ec, redact("Invalid response body: " + parser.last_error(), token)};
    if (keep_body) {
      out.spare = std::move(out.body);
      out.body = std::move(resp.body);
    }
  }
  out.index = meta.index;
  co_return call_outcome{};
}

asio::awaitable<call_outcome> consul_api::catalog_node(const std::string& node, const std::string& token,
                                                       consul_json_parser& parser, coalias::catalog_node& out) {
  std::string url;
  if (const auto bad = consul::append_path_segment(url, node))
    co_return call_outcome{bad, "Invalid node name"};
  url = consul::catalog_node_url(config_, node);
  http::response resp;
  auto outcome = co_await get(make_request(std::move(url), token, timeout_for(0)), token, resp);
  if (outcome.ec) co_return outcome;
  if (const auto ec = parser.parse_catalog_node(resp.body, out))
    co_return call_outcome{ec, redact("Invalid catalog response body: " + parser.last_error(), token)};
  co_return call_outcome{};
}

}  // namespace coalias::remote
