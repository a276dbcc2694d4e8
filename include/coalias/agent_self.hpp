// Who the Consul agent at an address is: `GET /v1/agent/self`, for the node name that an alias check without
// `alias_node` mirrors (Consul's alias check uses the local agent's node; a program outside Consul asks for it).
//
//   auto self = co_await coalias::async_agent_self(ex, coalias::from_environment(), asio::use_awaitable);
//
// The token travels only in the X-Consul-Token header and never appears in `agent_self::error`.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/consul_config.hpp>
#include <coalias/detail/completion.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>

#include <chrono>
#include <string>
#include <system_error>

namespace coalias {

struct agent_self {
  agent_self() = default;  // not an aggregate (g++ 12 and co_await, see docs/toolchain.md)

  std::string node_name;   ///< Config.NodeName
  std::string datacenter;  ///< Config.Datacenter
  std::string error;       ///< on failure, one line saying why (never the token)
};

namespace detail {
void start_agent_self(const asio::any_io_executor& ex, consul_config config, std::chrono::milliseconds timeout,
                      asio::cancellation_slot slot, completion_ptr<std::error_code, agent_self> done);
}

/// Asks the agent at `config.address` (with its token and TLS settings) for its node name and datacenter.
///
/// Completion signature: `void(std::error_code, agent_self)`. Errors (with `agent_self::error` saying more):
/// a transport error (curl's category) when the agent cannot be reached or `timeout` passes, `errc::http_status`
/// for a non-2xx answer (403 under ACLs), `errc::malformed_json` or `errc::unexpected_json` for a body without a
/// non-empty string `Config.NodeName`, `asio::error::operation_aborted` when cancelled.
///
/// Per-operation cancellation: terminal, partial and total abort the request at once (operation_aborted).
///
/// Thread safety: any thread; the handler runs on its associated executor (`ex` by default), never inside this
/// call. The execution context of `ex` must outlive the operation.
template <class CompletionToken>
auto async_agent_self(const asio::any_io_executor& ex, consul_config config, CompletionToken&& token,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return asio::async_initiate<CompletionToken, void(std::error_code, agent_self)>(
      [ex, timeout](auto handler, consul_config c) {
        asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
        detail::start_agent_self(ex, std::move(c), timeout, slot,
                                 detail::make_completion<std::error_code, agent_self>(std::move(handler), ex));
      },
      token, std::move(config));
}

}  // namespace coalias
