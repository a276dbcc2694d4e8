// The Consul endpoints: validating a request into a query plan, and answering a plan from the state.
//
// Thread safety: prepare_query uses the caller's random engine; answer_query reads the state, which the
// caller must hold locked. Otherwise pure.
#pragma once

#include "cluster_state.hpp"
#include "http_request.hpp"
#include "http_response.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>

namespace coalias::testing::detail {

/// A validated read: what it reads and reports, what wakes it, and how long to block if its index has not moved
/// past min_index.
struct query_plan {
  endpoint ep = endpoint::other;
  std::string name;                      ///< node name or ID, service name, or check state
  watch_key watch;                       ///< what wakes the query while held
  std::optional<filter_expr> filter;     ///< `filter=` of the health endpoints
  bool passing_only = false;             ///< /health/service?passing
  std::uint64_t min_index = 0;           ///< 0: answer at once
  std::chrono::nanoseconds wait{0};      ///< blocking time, jitter included
  bool stale = false;
};

endpoint classify(std::string_view path) noexcept;

/// The ACL token a request presents, in Consul's precedence: ?token=, then X-Consul-Token, then
/// Authorization: Bearer.
std::optional<std::string_view> presented_token(const http_request& req, const header_list& params);

/// Checks route, method and parameters in Consul's order (route, method, consistency, wait, index, node,
/// datacenter, token). An error comes back as the response to send.
std::variant<http_response, query_plan> prepare_query(const http_request& req, const server_options& options,
                                                      std::mt19937_64& rng);

/// The X-Consul-Index `plan` reports now, before the rewrite of 0 to 1: a query holds while this is at most
/// min_index, and is woken once `state.watched_index(plan.watch)` passes min_index.
std::uint64_t reported_index(const query_plan& plan, const cluster_state& state);

/// The 200 answer for `plan`, with X-Consul-Index (0 rewritten to 1, as Consul does). `buffer` (its contents
/// dropped) may become the body, so that a connection reuses one buffer for answer after answer.
http_response answer_query(const query_plan& plan, const cluster_state& state, const server_options& options,
                           std::string buffer = {});

}  // namespace coalias::testing::detail
