#include <coalias/alias_check.hpp>

#include "core/alias_task.hpp"

#include <coalias/error.hpp>

#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include <stdexcept>

namespace coalias {

namespace detail {
wake_channel& done_latch(alias_task& task) noexcept { return task.done(); }
const asio::any_io_executor& task_executor(const alias_task& task) noexcept { return task.strand(); }
}  // namespace detail

alias_check alias_check::start_local(const asio::any_io_executor& ex, local_state& state, alias_definition def) {
  if (def.check_id.empty()) throw std::system_error(errc::invalid_argument, "alias check ID is empty");
  if (!def.target.node.empty()) throw std::system_error(errc::invalid_argument, "not a local alias");
  auto task = detail::make_local_alias(ex, state, std::move(def));
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

alias_check::~alias_check() { request_stop(); }

const std::string& alias_check::check_id() const {
  if (!task_) throw std::logic_error("empty alias_check");
  return task_->check_id();
}

void alias_check::request_stop() noexcept {
  if (task_) task_->request_stop();
}

void alias_check::stop() {
  if (!task_) return;  // nothing to stop
  if (detail::running_in_this_thread(task_->strand()))
    throw std::logic_error("alias_check::stop would deadlock on the alias's own executor; use async_stop");
  async_stop(asio::use_future).get();
}

}  // namespace coalias
