#include <coalias/ttl_publisher.hpp>

#include "core/structured_task.hpp"  // when_all_ended
#include "publish/publish_task.hpp"

#include <coalias/error.hpp>

#include <atomic>
#include <cassert>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace coalias {
namespace detail {

using publish::publish_task;

// The publisher's state, shared with its operations in flight (as alias_registry's core): shutdown completes only
// once every operation has ended.
class publisher_core : public std::enable_shared_from_this<publisher_core> {
 public:
  using completion_ptr = ttl_publisher::completion_ptr;

  publisher_core(const asio::any_io_executor& ex, local_state& state, consul_config config, publish_options options)
      : executor_(ex), lane_(std::make_shared<publish::publish_lane>(ex, state, std::move(config), std::move(options))) {}

  const asio::any_io_executor& executor() const noexcept { return executor_; }

  void add(published_check check, bool replace, completion_ptr done) {
    std::shared_ptr<publish_task> old;
    std::error_code ec;
    {
      std::lock_guard lock(mutex_);
      ec = admit(check, replace);
      if (!ec) {
        auto& slot = tasks_[check.check_id];
        old = slot.task;
        // A replacement carries the old task's last published status; a fresh add after a remove does not.
        slot.task = std::make_shared<publish_task>(lane_, std::move(check), replace ? old : nullptr);
        slot.removing = false;
        slot.task->start(old);
        if (old) ++in_flight_;
      }
    }
    if (!old) return done->post(ec);
    old->request_stop();
    old->when_ended([self = shared_from_this(), done = std::move(done)] {
      done->post(std::error_code{});
      self->end_operation();
    });
  }

  void remove(std::string check_id, bool deregister, completion_ptr done) {
    std::shared_ptr<publish_task> task;
    {
      std::lock_guard lock(mutex_);
      const auto it = tasks_.find(check_id);
      if (it != tasks_.end()) {
        it->second.removing = true;
        task = it->second.task;
        ++in_flight_;
      }
    }
    if (!task) return done->post(errc::unknown_check);
    task->request_stop();
    task->when_ended([self = shared_from_this(), task, deregister, done = std::move(done)]() mutable {
      // Deregister only if the ID is still this task's: an add or replace that took it over owns it now.
      bool owner = false;
      {
        std::lock_guard lock(self->mutex_);
        const auto it = self->tasks_.find(task->check_id());
        owner = it != self->tasks_.end() && it->second.task == task;
        if (owner) self->tasks_.erase(it);
      }
      auto finish = [self, done = std::move(done)]() mutable {
        done->post(std::error_code{});
        self->end_operation();
      };
      if (deregister && owner) return self->deregister(task, std::move(finish));
      finish();
    });
  }

  void shutdown(bool deregister, completion_ptr done) {
    std::vector<std::shared_ptr<publish_task>> tasks;
    {
      std::lock_guard lock(mutex_);
      shut_down_ = true;
      ++in_flight_;
      for (auto& [id, slot] : tasks_) tasks.push_back(slot.task);
      tasks_.clear();
    }
    for (auto& task : tasks) task->request_stop();
    when_all_ended(tasks, [self = shared_from_this(), tasks, deregister, done = std::move(done)]() mutable {
      auto finish = [self, done = std::move(done)]() mutable { self->end_operation(std::move(done)); };
      if (!deregister) return finish();
      // Every deregistration at once, each bounded by deregister_timeout.
      auto left = std::make_shared<std::atomic<std::size_t>>(tasks.size() + 1);
      auto arrive = [left, finish = std::make_shared<decltype(finish)>(std::move(finish))] {
        if (left->fetch_sub(1) == 1) (*finish)();
      };
      for (auto& task : tasks) self->deregister(task, arrive);
      arrive();
    });
  }

  void abandon() {
    std::lock_guard lock(mutex_);
    for (auto& [id, slot] : tasks_) slot.task->request_stop();
  }

  bool idle() const {
    std::lock_guard lock(mutex_);
    return tasks_.empty() && in_flight_ == 0;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return tasks_.size();
  }
  std::optional<publish_stats> stats(const std::string& check_id) const {
    std::lock_guard lock(mutex_);
    const auto it = tasks_.find(check_id);
    if (it == tasks_.end()) return std::nullopt;
    return it->second.task->stats();
  }

 private:
  struct slot {
    std::shared_ptr<publish_task> task;
    bool removing = false;
  };

  std::error_code admit(const published_check& check, bool replace) const {
    if (shut_down_) return errc::shut_down;
    if (check.check_id.empty()) return errc::invalid_argument;
    const auto it = tasks_.find(check.check_id);
    if (it != tasks_.end() && !it->second.removing && !replace) return errc::alias_exists;
    return {};
  }

  // PUT deregister for an ended task, unless it gave up (the ID is another check's); then `then()`.
  template <class F>
  void deregister(const std::shared_ptr<publish_task>& task, F then) {
    if (task->stats().state == publish_stats::phase::given_up) return then();
    lane_->api().async_put(publish::agent_api::check_path("deregister/", task->check_id()), "",
                           lane_->options().deregister_timeout,
                           [lane = lane_, id = task->check_id(), then = std::move(then)](
                               std::error_code ec, http::response resp) mutable {
                             const auto out = lane->api().outcome(ec, std::move(resp));
                             if (auto* observer = lane->options().observer) {
                               if (out.ok) observer->on_deregistered(id);
                               else observer->on_publish_failed(id, "deregistration failed: " + out.reason);
                             }
                             then();
                           });
  }

  // Ends one operation; `shutdown_done`, when given, completes once no operation is left.
  void end_operation(completion_ptr shutdown_done = nullptr) {
    std::vector<completion_ptr> ready;
    {
      std::lock_guard lock(mutex_);
      if (shutdown_done) drained_waiters_.push_back(std::move(shutdown_done));
      if (--in_flight_ == 0) ready = std::exchange(drained_waiters_, {});
    }
    for (auto& done : ready) done->post(std::error_code{});
  }

  const asio::any_io_executor executor_;
  const std::shared_ptr<publish::publish_lane> lane_;  // shared with the tasks
  mutable std::mutex mutex_;
  std::map<std::string, slot, std::less<>> tasks_;
  std::size_t in_flight_ = 0;
  std::vector<completion_ptr> drained_waiters_;
  bool shut_down_ = false;
};

}  // namespace detail

namespace {

publish_options checked(publish_options o) {
  if (o.ttl < std::chrono::milliseconds(3) || o.request_timeout.count() < 0 || o.deregister_timeout.count() < 0 ||
      o.backoff_base.count() <= 0 || o.backoff_max < o.backoff_base)
    throw std::system_error(errc::invalid_argument, "publish_options: ttl below 3 ms or a bad timeout or backoff");
  return o;
}

}  // namespace

ttl_publisher::ttl_publisher(const asio::any_io_executor& ex, local_state& state, consul_config config,
                             publish_options options)
    : core_(std::make_shared<detail::publisher_core>(ex, state, std::move(config), checked(std::move(options)))) {}

ttl_publisher::~ttl_publisher() {
  assert(core_->idle() && "coalias::ttl_publisher destroyed with checks running: co_await async_shutdown() first");
  core_->abandon();
}

ttl_publisher::executor_type ttl_publisher::get_executor() const noexcept { return core_->executor(); }

const ttl_publisher::executor_type& ttl_publisher::executor_of(const detail::publisher_core& core) noexcept {
  return core.executor();
}

void ttl_publisher::start_add(const core_ptr& core, published_check check, bool replace, completion_ptr done) {
  core->add(std::move(check), replace, std::move(done));
}

void ttl_publisher::start_remove(const core_ptr& core, std::string check_id, bool deregister, completion_ptr done) {
  core->remove(std::move(check_id), deregister, std::move(done));
}

void ttl_publisher::start_shutdown(const core_ptr& core, bool deregister, completion_ptr done) {
  core->shutdown(deregister, std::move(done));
}

std::optional<publish_stats> ttl_publisher::stats(const std::string& check_id) const { return core_->stats(check_id); }

std::size_t ttl_publisher::size() const { return core_->size(); }

}  // namespace coalias
