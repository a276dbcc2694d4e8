#include <coalias/alias_check.hpp>

#include "core/alias_task.hpp"

#include <coalias/error.hpp>

#include <cassert>
#include <stdexcept>

namespace coalias {

alias_check alias_check::start_local(const asio::any_io_executor& ex, local_state& state, alias_definition def) {
  if (def.check_id.empty()) throw std::system_error(errc::invalid_argument, "alias check ID is empty");
  if (!def.target.node.empty()) throw std::system_error(errc::invalid_argument, "not a local alias");
  auto task = detail::make_local_alias(std::make_shared<detail::alias_lane>(ex), state, std::move(def));
  task->start(nullptr);
  return alias_check(std::move(task));
}

alias_check& alias_check::operator=(alias_check&& other) noexcept {
  if (this != &other) {
    request_stop();
    task_ = std::move(other.task_);
  }
  return *this;
}

alias_check::~alias_check() {
  assert((!task_ || task_->stop_requested()) &&
         "coalias::alias_check destroyed while its task runs: co_await async_stop() first");
  request_stop();
}

const std::string& alias_check::check_id() const {
  if (!task_) throw std::logic_error("empty alias_check");
  return task_->check_id();
}

const asio::any_io_executor& alias_check::get_executor() const {
  if (!task_) throw std::logic_error("empty alias_check");
  return task_->strand();
}

void alias_check::request_stop() noexcept {
  if (task_) task_->request_stop();
}

void alias_check::stop_then(const std::shared_ptr<detail::alias_task>& task,
                            detail::completion_ptr<std::error_code> done) {
  task->request_stop();
  // The latch completes as a handler on the task's strand, never inside async_stop: dispatching is safe, and
  // saves a hop when the caller's handler runs on that strand too.
  task->when_ended([done = std::move(done)] { done->dispatch(std::error_code{}); });
}

const asio::any_io_executor& alias_check::executor_of(const detail::alias_task& task) noexcept {
  return task.strand();
}

}  // namespace coalias
