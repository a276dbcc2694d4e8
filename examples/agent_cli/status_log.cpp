#include "status_log.hpp"

#include <asio/use_awaitable.hpp>

namespace coalias::agent_cli {

status_log::status_log(const asio::any_io_executor& ex, local_state& state, event_log& log)
    : state_(state), log_(log), wakeups_(ex, 1) {}

void status_log::follow(const std::string& check_id) {
  auto& e = entries_[check_id];
  e.registration = state_.watch_check(check_id, wakeups_);  // registered before the next read: nothing is missed
  wake(wakeups_);
}

void status_log::forget(const std::string& check_id) { entries_.erase(check_id); }

void status_log::scan() {
  for (auto& [id, e] : entries_) {
    const auto c = state_.check(id);
    if (!c) continue;
    if (!e.logged && c->status == status::critical && c->output.empty()) continue;  // not evaluated yet
    if (e.logged == c->status) continue;
    e.logged = c->status;
    log_.write(status_line(*c));
  }
}

asio::awaitable<void> status_log::run() {
  for (;;) {
    co_await wakeups_.async_receive(asio::use_awaitable);
    scan();
  }
}

}  // namespace coalias::agent_cli
