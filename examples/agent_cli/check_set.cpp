#include "check_set.hpp"

#include <malloc.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <tuple>

namespace coalias::agent_cli {
namespace {
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
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

bool check_set::differs(const alias_target& running, const check_definition& next) const {
  if (running != next.alias.target) return true;
  const auto c = node_.state().check(next.alias.check_id);
  return !c || c->name != next.alias.name || c->notes != next.alias.notes || c->service_id != next.alias.service_id;
}

asio::awaitable<reload_counts> check_set::apply(std::vector<check_definition> defs) {
  reload_counts n;
  const auto by_id = [](const check_definition& a, const check_definition& b) { return a.alias.check_id < b.alias.check_id; };
  std::sort(defs.begin(), defs.end(), by_id);  // sorted in place: no second copy of a large configuration
  const auto wanted = [&](const std::string& id) {
    check_definition key;
    key.alias.check_id = id;
    return std::binary_search(defs.begin(), defs.end(), key, by_id);
  };

  for (auto it = running_.begin(); it != running_.end();) {
    if (wanted(it->first)) {
      ++it;
      continue;
    }
    auto id = it->first;  // named: g++ 12 and temporaries inside co_await
    co_await node_.async_remove(std::move(id), tuple_awaitable);
    statuses_.forget(it->first);
    it = running_.erase(it);
    ++n.removed;
  }
  for (const auto& def : defs) {
    const auto& id = def.alias.check_id;
    const auto it = running_.find(id);
    if (it == running_.end()) {
      if (!co_await add(def, false)) continue;
      statuses_.follow(id);
      running_.emplace(id, def.alias.target);
      ++n.added;
    } else if (differs(it->second, def)) {
      if (!co_await add(def, true)) continue;
      it->second = def.alias.target;
      ++n.changed;
    } else {
      ++n.unchanged;
    }
  }
  defs = {};
  ::malloc_trim(0);  // glibc keeps freed heap otherwise: a large configuration's parse would stay resident
  co_return n;
}

asio::awaitable<void> check_set::shutdown() { co_await node_.async_shutdown(asio::use_awaitable); }

}  // namespace coalias::agent_cli
