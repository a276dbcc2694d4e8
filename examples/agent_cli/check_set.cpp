#include "check_set.hpp"

#include <malloc.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <tuple>

namespace coalias::agent_cli {
namespace {
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

published_check registration_of(const check_definition& def) {
  published_check p;
  p.check_id = def.alias.check_id;
  p.name = def.alias.name;
  p.notes = def.alias.notes;
  p.service_id = def.alias.service_id;
  return p;
}

}  // namespace

check_set::check_set(coalias::agent& node, ttl_publisher* publisher, event_log& log)
    : node_(node), publisher_(publisher), log_(log), statuses_(node.get_executor(), node.state(), log) {}

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

// All at once and awaited together: one after the other, each completion would queue behind the publishing
// traffic of the checks before it (10,000 checks took over a minute to start).
asio::awaitable<void> check_set::publish(std::vector<registration> regs) {
  if (!publisher_ || regs.empty()) co_return;
  struct pending {
    pending(const asio::any_io_executor& ex, std::size_t n) : done(ex, wake_capacity), left(n) {}
    wake_channel done;
    std::atomic<std::size_t> left;
  };
  auto state = std::make_shared<pending>(co_await asio::this_coro::executor, regs.size());
  for (auto& r : regs) {
    auto on_done = [this, state, id = r.check.check_id](std::error_code ec) {
      if (ec) log_.write(error_line("check " + go_quote(id) + ": not published: " + ec.message()));
      if (--state->left == 0) wake(state->done);
    };
    if (r.replace) publisher_->async_replace(std::move(r.check), std::move(on_done));
    else publisher_->async_add(std::move(r.check), std::move(on_done));
  }
  co_await state->done.async_receive(asio::use_awaitable);
}

// Publishing stops (and the check is deregistered) before the alias does, so nothing is published after.
asio::awaitable<void> check_set::remove(std::string check_id) {
  if (publisher_) {
    auto id = check_id;
    co_await publisher_->async_remove(std::move(id), true, tuple_awaitable);
  }
  co_await node_.async_remove(std::move(check_id), tuple_awaitable);
}

bool check_set::registration_differs(const check_definition& next) const {
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
    co_await remove(it->first);
    statuses_.forget(it->first);
    it = running_.erase(it);
    ++n.removed;
  }
  // The aliases first, so the publisher finds their checks in the local state; then what to register. The new
  // checks' statuses are followed once all have started: each start wakes the status log, and a wake-up re-reads
  // every followed check (20,000 new checks took 20 s to reload when each was followed as it started).
  std::vector<registration> regs;
  std::vector<std::string> started;
  for (const auto& def : defs) {
    const auto& id = def.alias.check_id;
    const auto it = running_.find(id);
    if (it == running_.end()) {
      if (!co_await add(def, false)) continue;
      started.push_back(id);
      running_.emplace(id, def.alias.target);
      regs.push_back(registration{registration_of(def), false});
      ++n.added;
      continue;
    }
    const bool reregister = registration_differs(def);
    if (reregister || it->second != def.alias.target) {
      if (!co_await add(def, true)) continue;
      it->second = def.alias.target;
      if (reregister) regs.push_back(registration{registration_of(def), true});
      ++n.changed;
    } else {
      ++n.unchanged;
    }
  }
  defs = {};
  for (const auto& id : started) statuses_.follow(id);  // their first evaluations are read now: none is missed
  co_await publish(std::move(regs));
  ::malloc_trim(0);  // glibc keeps freed heap otherwise: a large configuration's parse would stay resident
  co_return n;
}

asio::awaitable<void> check_set::shutdown(bool deregister) {
  if (publisher_) co_await publisher_->async_shutdown(deregister, asio::use_awaitable);
  co_await node_.async_shutdown(asio::use_awaitable);
}

}  // namespace coalias::agent_cli
