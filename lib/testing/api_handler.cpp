#include "api_handler.hpp"

#include "go_duration.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <charconv>

namespace coalias::testing::detail {
namespace {

using coalias::detail::ascii_iequals;

constexpr std::string_view health_prefix = "/v1/health/node/";
constexpr std::string_view catalog_prefix = "/v1/catalog/node/";
constexpr std::string_view service_prefix = "/v1/health/service/";
constexpr std::string_view state_prefix = "/v1/health/state/";

}  // namespace

std::optional<std::string_view> presented_token(const http_request& req, const header_list& params) {
  if (auto t = find_param(params, "token"); t && !t->empty()) return t;
  if (auto t = req.header("X-Consul-Token"); t && !t->empty()) return t;
  if (auto auth = req.header("Authorization");
      auth && auth->size() > 7 && ascii_iequals(auth->substr(0, 7), "Bearer ")) {
    const std::string_view t = coalias::detail::trim(auth->substr(7));
    if (!t.empty()) return t;
  }
  return std::nullopt;
}

endpoint classify(std::string_view path) noexcept {
  if (path.starts_with(health_prefix)) return endpoint::health_node;
  if (path.starts_with(catalog_prefix)) return endpoint::catalog_node;
  if (path.starts_with(service_prefix)) return endpoint::health_service;
  if (path.starts_with(state_prefix)) return endpoint::health_state;
  return endpoint::other;
}

std::variant<http_response, query_plan> prepare_query(const http_request& req, const server_options& options,
                                                      std::mt19937_64& rng) {
  query_plan plan;
  plan.ep = classify(req.path);
  if (plan.ep == endpoint::other) return text(404, "404 page not found\n");
  if (req.method != "GET") {
    http_response r = text(405, "method " + req.method + " not allowed");
    r.allow = "GET";
    return r;
  }
  std::string_view prefix;
  std::string_view missing;
  switch (plan.ep) {
    case endpoint::health_node:
      prefix = health_prefix;
      missing = "Missing node name";
      plan.watch.what = watch_key::scope::node_checks;
      break;
    case endpoint::catalog_node:
      prefix = catalog_prefix;
      missing = "Missing node name";
      plan.watch.what = watch_key::scope::node_catalog;
      break;
    case endpoint::health_service:
      prefix = service_prefix;
      missing = "Missing service name";
      plan.watch.what = watch_key::scope::service;
      break;
    default:
      prefix = state_prefix;
      missing = "Missing check state";
      plan.watch.what = watch_key::scope::checks_table;
      break;
  }

  const header_list params = parse_query(req.query);
  plan.stale = find_param(params, "stale").has_value();
  if (plan.stale && find_param(params, "consistent")) {
    return text(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
  }

  std::chrono::nanoseconds wait{0};
  if (auto w = find_param(params, "wait"); w && !w->empty()) {
    const auto parsed = parse_go_duration(*w);
    if (!parsed) return text(400, "Invalid wait time");
    wait = *parsed;
  }
  if (auto idx = find_param(params, "index"); idx && !idx->empty()) {
    const auto [ptr, ec] = std::from_chars(idx->data(), idx->data() + idx->size(), plan.min_index);
    if (ec != std::errc() || ptr != idx->data() + idx->size()) return text(400, "Invalid index");
  }

  plan.name = req.path.substr(prefix.size());
  if (plan.name.empty()) return text(400, std::string(missing));
  if (plan.ep != endpoint::health_state) plan.watch.name = plan.name;
  plan.passing_only = plan.ep == endpoint::health_service && find_param(params, "passing").has_value();
  if (auto f = find_param(params, "filter"); f && !f->empty() && plan.ep != endpoint::catalog_node) {
    std::string why;
    plan.filter = filter_expr::parse(
        *f, plan.ep == endpoint::health_service ? service_node_selectors() : check_selectors(), why);
    if (!plan.filter) return text(400, "Failed to create boolean expression evaluator: " + why);
  }

  if (auto dc = find_param(params, "dc"); dc && !dc->empty() && !ascii_iequals(*dc, options.datacenter)) {
    return text(500, "No path to datacenter");
  }
  if (!options.acl_token.empty()) {
    const auto token = presented_token(req, params);
    if (!token || *token != options.acl_token) return text(403, "ACL not found");
  }

  if (plan.min_index > 0) {
    // Consul: no or non-positive wait means the default; cap at the maximum; jitter up to wait/16, capped too.
    const std::chrono::nanoseconds max = options.max_wait;
    if (wait <= std::chrono::nanoseconds::zero()) wait = options.default_wait;
    wait = std::min(wait, max);
    if (options.wait_jitter && wait.count() >= 16) {
      std::uniform_int_distribution<std::int64_t> jitter(0, wait.count() / 16);
      wait = std::min(wait + std::chrono::nanoseconds(jitter(rng)), max);
    }
    plan.wait = wait;
  }
  return plan;
}

std::uint64_t reported_index(const query_plan& plan, const cluster_state& state) {
  switch (plan.ep) {
    case endpoint::catalog_node:
      return state.index_of(table::catalog);
    case endpoint::health_service:
      return state.service_report_index(plan.name);
    default:
      return state.index_of(table::checks);
  }
}

http_response answer_query(const query_plan& plan, const cluster_state& state, const server_options& options,
                           std::string buffer) {
  http_response r;
  buffer.clear();
  const filter_expr* filter = plan.filter ? &*plan.filter : nullptr;
  switch (plan.ep) {
    case endpoint::health_node:
      r.body = state.health_node_json(plan.name, filter);
      break;
    case endpoint::catalog_node:
      r.body = state.catalog_node_json(plan.name, options.datacenter);
      break;
    case endpoint::health_service:
      r.body = state.health_service_json(plan.name, plan.passing_only, filter, options.datacenter);
      break;
    default:
      state.append_health_state_json(buffer, plan.name, filter);
      r.body = std::move(buffer);
      break;
  }
  r.index = std::to_string(std::max<std::uint64_t>(reported_index(plan, state), 1));
  r.stale = plan.stale;
  return r;
}

}  // namespace coalias::testing::detail
