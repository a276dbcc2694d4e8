#include "check_set.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <tuple>

namespace coalias::agent_cli {
namespace {
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
}

bool differs(const check_definition& a, const check_definition& b) {
  return a.alias.name != b.alias.name || a.alias.notes != b.alias.notes || a.alias.service_id != b.alias.service_id ||
         a.alias.target != b.alias.target;
}

check_set::check_set(coalias::agent& node, event_log& log)
    : node_(node), log_(log), statuses_(node.get_executor(), node.state(), log) {}

void check_set::ensure_service(const std::string& service_id) {
  // The alias check belongs to that service in the local state; Consul's agent holds the service itself.
  if (!service_id.empty() && !node_.state().has_service(service_id)) node_.state().add_service({service_id, service_id});
}

asio::awaitable<bool> check_set::add(const check_definition& def, bool replace) {
  ensure_service(def.alias.service_id);
  auto alias = def.alias;  // named: g++ 12 and temporaries inside co_await
  std::error_code ec;
  if (replace) std::tie(ec) = co_await node_.async_replace(std::move(alias), tuple_awaitable);
  else std::tie(ec) = co_await node_.async_add(std::move(alias), tuple_awaitable);
  if (ec) {
    log_.write(error_line(def.file + ": check " + go_quote(def.alias.check_id) + ": not started: " + ec.message()));
    co_return false;
  }
  co_return true;
}

asio::awaitable<reload_counts> check_set::apply(std::vector<check_definition> defs) {
  reload_counts n;
  std::map<std::string, check_definition, std::less<>> next;
  for (auto& d : defs) next.emplace(d.alias.check_id, std::move(d));

  for (auto it = running_.begin(); it != running_.end();) {
    if (next.count(it->first)) {
      ++it;
      continue;
    }
    auto id = it->first;  // named, as above
    co_await node_.async_remove(std::move(id), tuple_awaitable);
    statuses_.forget(it->first);
    it = running_.erase(it);
    ++n.removed;
  }
  for (auto& [id, def] : next) {
    const auto it = running_.find(id);
    if (it == running_.end()) {
      if (!co_await add(def, false)) continue;
      statuses_.follow(id);
      running_.emplace(id, def);
      ++n.added;
    } else if (differs(it->second, def)) {
      if (!co_await add(def, true)) continue;
      it->second = def;
      ++n.changed;
    } else {
      it->second.file = def.file;
      ++n.unchanged;
    }
  }
  co_return n;
}

asio::awaitable<void> check_set::shutdown() { co_await node_.async_shutdown(asio::use_awaitable); }

}  // namespace coalias::agent_cli
