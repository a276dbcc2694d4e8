#include "core/alias_task.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>

#include <exception>
#include <string>

namespace coalias::detail {

alias_task::alias_task(const asio::any_io_executor& ex, local_state& state, alias_definition def)
    : strand_(asio::make_strand(ex)), state_(state), def_(std::move(def)), done_(strand_, 0) {}

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
  state_.update_check(def_.check_id, result.status, result.output);
}

}  // namespace coalias::detail
