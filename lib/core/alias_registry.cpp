#include <coalias/alias_registry.hpp>

#include "core/alias_task.hpp"

#include <coalias/error.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <stdexcept>
#include <system_error>

namespace coalias {
namespace {

void validate(const alias_definition& def, bool remote_capable) {
  if (def.check_id.empty()) throw std::system_error(errc::invalid_argument, "alias check ID is empty");
  if (def.refresh <= std::chrono::milliseconds::zero())
    throw std::system_error(errc::invalid_argument, "alias refresh period must be positive");
  if (!def.target.node.empty() && !remote_capable)
    throw std::system_error(errc::invalid_argument, "remote aliases need a registry made with a remote_hub");
}

}  // namespace

alias_registry::alias_registry(const asio::any_io_executor& ex, local_state& state) : executor_(ex), state_(state) {}

alias_registry::alias_registry(const asio::any_io_executor& ex, local_state& state,
                               detail::remote_alias_factory& remote)
    : executor_(ex), state_(state), remote_(&remote) {}

alias_registry::~alias_registry() {
  std::lock_guard lock(mutex_);
  for (auto& [id, e] : aliases_) e.task->request_stop();
}

asio::awaitable<void> alias_registry::add(alias_definition def, bool replace) {
  validate(def, remote_ != nullptr);
  std::shared_ptr<detail::alias_task> old;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) throw std::system_error(errc::shut_down, "alias registry");
    const auto it = aliases_.find(def.check_id);
    if (it != aliases_.end() && !it->second.removing && !replace)
      throw std::system_error(errc::alias_exists, def.check_id);
    register_check(def);
    auto task = def.target.node.empty() ? detail::make_local_alias(executor_, state_, std::move(def))
                                        : remote_->make_alias(executor_, state_, std::move(def));
    if (it != aliases_.end()) {
      old = std::exchange(it->second, entry{task, false}).task;
    } else {
      aliases_.emplace(task->check_id(), entry{task, false});
    }
    // Under the lock, so concurrent replaces of one ID chain in the order they took it.
    task->start(old);
  }
  if (old) {
    old->request_stop();
    co_await detail::join(*old);
  }
}

asio::awaitable<bool> alias_registry::remove(std::string check_id) {
  std::shared_ptr<detail::alias_task> task;
  {
    std::lock_guard lock(mutex_);
    const auto it = aliases_.find(check_id);
    if (it == aliases_.end()) co_return false;
    it->second.removing = true;
    task = it->second.task;
  }
  task->request_stop();
  co_await detail::join(*task);
  std::lock_guard lock(mutex_);
  // Deregister only if no add or replace took the ID over while this task was stopping.
  const auto it = aliases_.find(check_id);
  if (it != aliases_.end() && it->second.task == task) {
    aliases_.erase(it);
    state_.remove_check(check_id);
  }
  co_return true;
}

asio::awaitable<void> alias_registry::shutdown_all() {
  std::vector<std::shared_ptr<detail::alias_task>> tasks;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    for (auto& [id, e] : aliases_) tasks.push_back(e.task);
    aliases_.clear();
  }
  for (auto& task : tasks) task->request_stop();
  for (auto& task : tasks) co_await detail::join(*task);
}

void alias_registry::shutdown() {
  const auto* io = executor_.target<asio::io_context::executor_type>();
  if (io && io->running_in_this_thread())
    throw std::logic_error("alias_registry::shutdown would deadlock on the registry's executor; use async_shutdown");
  async_shutdown(asio::use_future).get();
}

std::size_t alias_registry::size() const {
  std::lock_guard lock(mutex_);
  return aliases_.size();
}

bool alias_registry::contains(const std::string& check_id) const {
  std::lock_guard lock(mutex_);
  return aliases_.contains(check_id);
}

void alias_registry::register_check(const alias_definition& def) {
  health_check check;
  check.check_id = def.check_id;
  check.name = def.name;
  check.notes = def.notes;
  check.service_id = def.service_id;
  if (const auto current = state_.check(def.check_id)) {
    check.status = current->status;  // a replacement keeps what the alias showed: no flap
    check.output = current->output;
  }
  state_.add_check(std::move(check));
}

}  // namespace coalias
