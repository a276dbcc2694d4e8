#include "core/alias_task.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <exception>
#include <string>

namespace coalias::detail {

asio::any_io_executor make_task_strand(const asio::any_io_executor& ex) {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
  return asio::make_strand(ex);
}

bool running_in_this_thread(const asio::any_io_executor& strand) noexcept {
  if (const auto* s = strand.target<asio::strand<asio::io_context::executor_type>>())
    return s->running_in_this_thread() || s->get_inner_executor().running_in_this_thread();
  if (const auto* s = strand.target<asio::strand<asio::any_io_executor>>()) {
    const auto* io = s->get_inner_executor().target<asio::io_context::executor_type>();
    return s->running_in_this_thread() || (io && io->running_in_this_thread());
  }
  return false;
}

alias_task::alias_task(const asio::any_io_executor& ex, local_state& state, std::string check_id)
    : strand_(make_task_strand(ex)), state_(state), self_{state.node_name(), std::move(check_id)}, done_(strand_, 0) {}

void alias_task::start(std::shared_ptr<alias_task> predecessor) {
  if (!predecessor) {
    asio::post(strand_, [self = shared_from_this()] { self->spawn(); });
    return;
  }
  // The predecessor's latch closes only after its body has ended: nothing can cancel this wait, so the chain
  // old -> new holds even when the new task is itself stopped before it ran.
  predecessor->done().async_receive(
      asio::bind_executor(strand_, [self = shared_from_this(), predecessor](std::error_code) { self->spawn(); }));
}

void alias_task::request_stop() {
  if (stop_posted_.exchange(true)) return;
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stop_requested_ = true;
    self->cancel_.emit(asio::cancellation_type::terminal);
  });
}

void alias_task::spawn() {
  if (stop_posted_.load()) return finish();  // stopped before it ever ran: it never writes
  asio::co_spawn(strand_, run(),
                 asio::bind_cancellation_slot(cancel_.slot(),
                                              [self = shared_from_this()](std::exception_ptr e) {
                                                if (e && !self->stop_requested_) self->report_failure(e);
                                                self->finish();
                                              }));
}

void alias_task::report_failure(std::exception_ptr e) {
  // A body that dies of anything but a stop must not leave a stale status behind.
  std::string what = "unknown error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  publish({status::critical, "Alias check stopped: " + what});
}

void alias_task::finish() {
  cancel_.slot().clear();
  done_.close();
}

void alias_task::publish(const check_result& result) {
  state_.update_check(self_.check_id, result.status, result.output);
}

}  // namespace coalias::detail
