// GET /v1/agent/self on a coroutine that owns its HTTP client; the caller's cancellation reaches the transfer
// through co_spawn's slot.
#include <coalias/agent_self.hpp>

#include "core/ascii.hpp"
#include "http/client.hpp"
#include "remote/consul_api.hpp"

#include <coalias/error.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <simdjson.h>

namespace coalias::detail {
namespace {

agent_self failed(std::string why) {
  agent_self out;
  out.error = std::move(why);
  return out;
}

// `{"Config": {"NodeName": ..., "Datacenter": ...}, ...}`; everything else is skipped.
std::error_code parse_self(std::string_view body, agent_self& out) {
  using namespace simdjson;
  const padded_string json(body);
  ondemand::parser parser;
  ondemand::document doc;
  if (parser.iterate(json).get(doc)) return errc::malformed_json;
  ondemand::object config;
  if (auto e = doc["Config"].get_object().get(config))
    return e == INCORRECT_TYPE || e == NO_SUCH_FIELD ? errc::unexpected_json : errc::malformed_json;
  for (auto field : config) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return errc::malformed_json;
    std::string* to = key == "NodeName" ? &out.node_name : key == "Datacenter" ? &out.datacenter : nullptr;
    if (!to) continue;
    std::string_view text;
    if (auto e = field.value().get_string().get(text))
      return e == INCORRECT_TYPE ? errc::unexpected_json : errc::malformed_json;
    to->assign(text);
  }
  return out.node_name.empty() ? std::error_code(errc::unexpected_json) : std::error_code();
}

asio::awaitable<std::pair<std::error_code, agent_self>> query(consul_config config, std::chrono::milliseconds timeout) {
  http::client client(co_await asio::this_coro::executor);
  auto req = remote::consul_request(config, config.address.base_url() + "/v1/agent/self", config.token, timeout);
  auto [ec, resp] = co_await client.async_get(std::move(req), asio::experimental::as_tuple(asio::use_awaitable));
  if (ec) {
    auto why = resp.error_detail.empty() ? ec.message() : resp.error_detail;
    co_return std::pair(ec, failed(remote::redact(std::move(why), config.token)));
  }
  if (resp.status < 200 || resp.status > 299) {
    const std::string_view body = resp.body;
    auto detail = coalias::detail::error_excerpt(body.substr(0, body.find_first_of("\r\n")), 200);
    co_return std::pair(std::error_code(errc::http_status),
                        failed(remote::redact("Unexpected response code: " + std::to_string(resp.status) +
                                                  (detail.empty() ? "" : " (" + detail + ")"),
                                              config.token)));
  }
  agent_self self;
  if (auto e = parse_self(resp.body, self))
    co_return std::pair(e, failed("Invalid /v1/agent/self body: no Config.NodeName string"));
  co_return std::pair(std::error_code(), std::move(self));
}

}  // namespace

void start_agent_self(const asio::any_io_executor& ex, consul_config config, std::chrono::milliseconds timeout,
                      asio::cancellation_slot slot, completion_ptr<std::error_code, agent_self> done) {
  asio::co_spawn(ex, query(std::move(config), timeout),
                 asio::bind_cancellation_slot(
                     slot, [done = std::move(done)](std::exception_ptr e, std::pair<std::error_code, agent_self> r) {
                       if (e) {  // cancellation ends the coroutine with operation_aborted; nothing else throws
                         std::error_code ec = asio::error::operation_aborted;
                         try {
                           std::rethrow_exception(e);
                         } catch (const std::system_error& x) {
                           ec = x.code();
                         } catch (...) {
                         }
                         done->dispatch(ec, failed(ec.message()));
                         return;
                       }
                       done->dispatch(r.first, std::move(r.second));
                     }));
}

}  // namespace coalias::detail
