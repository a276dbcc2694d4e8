#include <coalias/alias_registry.hpp>

#include "core/alias_task.hpp"
#include "core/structured_task.hpp"

#include <coalias/error.hpp>

#include <cassert>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace coalias {
namespace detail {

// The registry's state, shared with its operations in flight so that none of them can outlive what it touches:
// shutdown completes only once every operation has ended.
class registry_core : public std::enable_shared_from_this<registry_core> {
 public:
  using completion_ptr = alias_registry::completion_ptr;

  registry_core(const asio::any_io_executor& ex, local_state& state, remote_alias_factory* remote)
      : executor_(ex), lane_(std::make_shared<alias_lane>(ex)), state_(state), remote_(remote) {}

  const asio::any_io_executor& executor() const noexcept { return executor_; }

  void add(alias_definition def, bool replace, completion_ptr done) {
    std::shared_ptr<alias_task> old;
    std::error_code ec;
    {
      std::lock_guard lock(mutex_);
      ec = admit(def, replace);
      if (!ec) ec = start_locked(std::move(def), old);
      if (old) ++in_flight_;
    }
    if (!old) return done->post(ec);
    old->request_stop();
    old->when_ended([self = shared_from_this(), done = std::move(done)] {
      done->post(std::error_code{});
      self->end_operation();
    });
  }

  void remove(std::string check_id, completion_ptr done) {
    std::shared_ptr<alias_task> task;
    {
      std::lock_guard lock(mutex_);
      const auto it = aliases_.find(check_id);
      if (it != aliases_.end()) {
        it->second.removing = true;
        task = it->second.task;
        ++in_flight_;
      }
    }
    if (!task) return done->post(errc::unknown_check);
    task->request_stop();
    task->when_ended([self = shared_from_this(), id = std::move(check_id), task, done = std::move(done)] {
      self->deregister(id, task);
      done->post(std::error_code{});
      self->end_operation();
    });
  }

  void shutdown(completion_ptr done) {
    std::vector<std::shared_ptr<alias_task>> tasks;
    {
      std::lock_guard lock(mutex_);
      shut_down_ = true;
      ++in_flight_;
      for (auto& [id, e] : aliases_) {
        tasks.push_back(e.task);
        if (e.removing) stopped_.insert_or_assign(id, e);  // which task owned the ID, for the remove in flight
      }
      aliases_.clear();
    }
    for (auto& task : tasks) task->request_stop();
    when_all_ended(tasks, [self = shared_from_this(), done = std::move(done)]() mutable {
      self->end_operation(std::move(done));
    });
  }

  /// Release builds, destroyed without shutdown: ask every task to stop; nothing can wait for them.
  void abandon() {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : aliases_) e.task->request_stop();
  }

  bool idle() const {
    std::lock_guard lock(mutex_);
    return aliases_.empty() && in_flight_ == 0;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return aliases_.size();
  }
  bool contains(const std::string& check_id) const {
    std::lock_guard lock(mutex_);
    return aliases_.contains(check_id);
  }

 private:
  struct entry {
    std::shared_ptr<alias_task> task;
    bool removing = false;
  };

  std::error_code admit(const alias_definition& def, bool replace) const {
    if (shut_down_) return errc::shut_down;
    if (def.check_id.empty() || def.refresh <= std::chrono::milliseconds::zero()) return errc::invalid_argument;
    if (!def.target.node.empty() && !remote_) return errc::invalid_argument;  // no hub to run it
    const auto it = aliases_.find(def.check_id);
    if (it != aliases_.end() && !it->second.removing && !replace) return errc::alias_exists;
    return {};
  }

  // Makes the task, then registers its check, then starts it after `old` (the task it replaces, if any):
  // a definition that fails at any step leaves nothing behind. mutex_ held, so concurrent replaces of one ID
  // chain in the order they took it.
  std::error_code start_locked(alias_definition def, std::shared_ptr<alias_task>& old) {
    auto check = own_check(def);
    std::shared_ptr<alias_task> task;
    try {
      task = def.target.node.empty() ? make_local_alias(lane_, state_, std::move(def))
                                     : remote_->make_alias(lane_, state_, std::move(def));
      state_.add_check(std::move(check));
    } catch (const std::system_error& e) {
      return e.code();
    }
    const auto [it, inserted] = aliases_.try_emplace(task->check_id());
    old = std::exchange(it->second, entry{task, false}).task;
    task->start(old);
    return {};
  }

  health_check own_check(const alias_definition& def) const {
    health_check check;
    check.check_id = def.check_id;
    check.name = def.name;
    check.notes = def.notes;
    check.service_id = def.service_id;
    check.type = alias_check_type;
    if (const auto current = state_.check(def.check_id)) {
      check.status = current->status;  // a replacement keeps what the alias showed: no flap
      check.output = current->output;
    }
    return check;
  }

  // After a removed task ended: deregister its check, unless an add or replace took the ID over meanwhile
  // (before or after a shutdown took the entry).
  void deregister(const std::string& check_id, const std::shared_ptr<alias_task>& task) {
    std::lock_guard lock(mutex_);
    for (auto* owners : {&aliases_, &stopped_}) {
      const auto it = owners->find(check_id);
      if (it == owners->end() || it->second.task != task) continue;
      owners->erase(it);
      state_.remove_check(check_id);
    }
  }

  // Ends one operation; `shutdown_done`, when given, is a shutdown that completes once no operation is left.
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
  const std::shared_ptr<alias_lane> lane_;  // every alias's: one strand, one ready list, one refresh wheel
  local_state& state_;
  remote_alias_factory* const remote_;
  mutable std::mutex mutex_;
  std::map<std::string, entry, std::less<>> aliases_;
  std::map<std::string, entry, std::less<>> stopped_;  // entries shutdown took while being removed
  std::size_t in_flight_ = 0;                     // operations started and not yet completed
  std::vector<completion_ptr> drained_waiters_;  // shutdowns waiting for in_flight_ to reach 0
  bool shut_down_ = false;
};

}  // namespace detail

alias_registry::alias_registry(const executor_type& ex, local_state& state)
    : core_(std::make_shared<detail::registry_core>(ex, state, nullptr)) {}

alias_registry::alias_registry(const executor_type& ex, local_state& state, detail::remote_alias_factory& remote)
    : core_(std::make_shared<detail::registry_core>(ex, state, &remote)) {}

alias_registry::~alias_registry() {
  assert(core_->idle() && "coalias::alias_registry destroyed with aliases running: co_await async_shutdown() first");
  core_->abandon();
}

alias_registry::executor_type alias_registry::get_executor() const noexcept { return core_->executor(); }

const alias_registry::executor_type& alias_registry::executor_of(const detail::registry_core& core) noexcept {
  return core.executor();
}

void alias_registry::start_add(const core_ptr& core, alias_definition def, bool replace, completion_ptr done) {
  core->add(std::move(def), replace, std::move(done));
}

void alias_registry::start_remove(const core_ptr& core, std::string check_id, completion_ptr done) {
  core->remove(std::move(check_id), std::move(done));
}

void alias_registry::start_shutdown(const core_ptr& core, completion_ptr done) { core->shutdown(std::move(done)); }

std::size_t alias_registry::size() const { return core_->size(); }

bool alias_registry::contains(const std::string& check_id) const { return core_->contains(check_id); }

}  // namespace coalias
