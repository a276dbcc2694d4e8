// One published check's task: registers it with the agent and keeps the agent's copy equal to the local state's,
// one request at a time. A structured task: started after its predecessor of the same ID ended, stopped by
// cancellation.
#pragma once

#include "core/structured_task.hpp"
#include "publish/agent_api.hpp"

#include <coalias/local_state.hpp>
#include <coalias/ttl_publisher.hpp>

#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace coalias::publish {

class publish_task : public detail::structured_task {
 public:
  /// `carry_from`: the task this one replaces; its last published status is registered, so the catalog shows
  /// no flap. Null for a fresh check.
  publish_task(const asio::any_io_executor& ex, local_state& state, std::shared_ptr<agent_api> api,
               published_check check, const publish_options& options, std::shared_ptr<publish_task> carry_from);

  const std::string& check_id() const noexcept { return check_.check_id; }
  publish_stats stats() const;

 protected:
  asio::awaitable<void> run() override;
  void on_failure(std::exception_ptr e) override;

 private:
  struct wire_state {  // what the agent is sent for a version of the check
    status s = status::critical;
    std::string output;
    friend bool operator==(const wire_state&, const wire_state&) = default;
  };
  wire_state wire_of(const std::shared_ptr<const health_check>& version) const;
  std::chrono::milliseconds retry_delay(int failures);
  template <class F>
  void update_stats(F f) {
    std::lock_guard lock(stats_mutex_);
    f(stats_);
  }

  local_state& state_;
  const std::shared_ptr<agent_api> api_;
  const published_check check_;
  const publish_options options_;
  std::shared_ptr<publish_task> carry_from_;  // dropped once read, at the start of the body
  std::minstd_rand jitter_;
  mutable std::mutex stats_mutex_;
  publish_stats stats_;
};

}  // namespace coalias::publish
