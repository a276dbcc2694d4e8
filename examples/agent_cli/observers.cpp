#include "observers.hpp"

namespace coalias::agent_cli {

void publish_log::on_publish_failed(std::string_view check_id, std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    if (!failing_.emplace(check_id).second) return;
  }
  log_.write(publish_failed_line(check_id, reason));
}

void publish_log::on_publish_recovered(std::string_view check_id) {
  {
    std::lock_guard lock(mutex_);
    const auto it = failing_.find(check_id);
    if (it == failing_.end()) return;
    failing_.erase(it);
  }
  log_.write(publish_recovered_line(check_id));
}

void publish_fanout::on_registered(std::string_view id) {
  for (auto* t : targets_) t->on_registered(id);
}
void publish_fanout::on_published(std::string_view id, status s, std::chrono::nanoseconds since_change) {
  for (auto* t : targets_) t->on_published(id, s, since_change);
}
void publish_fanout::on_publish_failed(std::string_view id, std::string_view reason) {
  for (auto* t : targets_) t->on_publish_failed(id, reason);
}
void publish_fanout::on_publish_recovered(std::string_view id) {
  for (auto* t : targets_) t->on_publish_recovered(id);
}
void publish_fanout::on_deregistered(std::string_view id) {
  for (auto* t : targets_) t->on_deregistered(id);
}

}  // namespace coalias::agent_cli
