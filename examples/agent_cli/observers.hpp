// What coalias-agent hangs on the publisher and the hub: the event lines of publish failures and recoveries, and
// fan-outs so the log and the metrics (--listen) both see every hook.
//
// Thread safety: every hook may be called from any library thread, concurrently; none blocks for long (one short
// lock in publish_log).
#pragma once

#include "events.hpp"

#include <coalias/observer.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace coalias::agent_cli {

/// Logs a check's first failed publish after a good one (`check "x": publish failed: <reason>`), and its recovery;
/// retries of a failing check add no lines.
class publish_log final : public publish_observer {
 public:
  explicit publish_log(event_log& log) : log_(log) {}
  void on_publish_failed(std::string_view check_id, std::string_view reason) override;
  void on_publish_recovered(std::string_view check_id) override;

 private:
  event_log& log_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> failing_;  // only the failing checks: nothing per healthy check
};

/// Forwards every publish hook to each of `targets` (not owned; they must outlive this).
class publish_fanout final : public publish_observer {
 public:
  explicit publish_fanout(std::vector<publish_observer*> targets) : targets_(std::move(targets)) {}
  void on_registered(std::string_view id) override;
  void on_published(std::string_view id, status s, std::chrono::nanoseconds since_change) override;
  void on_publish_failed(std::string_view id, std::string_view reason) override;
  void on_publish_recovered(std::string_view id) override;
  void on_deregistered(std::string_view id) override;

 private:
  const std::vector<publish_observer*> targets_;
};

/// A remote observer to give the hub before the one that counts exists (the metrics read the agent's local
/// state, which the agent creates with the hub): forwards to `set_target`'s observer, if any.
class remote_forwarder final : public remote_observer {
 public:
  void set_target(remote_observer* target) noexcept { target_.store(target); }
  void on_query_failed(std::string_view node, std::string_view reason) override {
    if (auto* t = target_.load()) t->on_query_failed(node, reason);
  }
  void on_query_recovered(std::string_view node) override {
    if (auto* t = target_.load()) t->on_query_recovered(node);
  }

 private:
  std::atomic<remote_observer*> target_{nullptr};
};

}  // namespace coalias::agent_cli
