#include "core/structured_task.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>

namespace coalias::detail {

asio::any_io_executor make_task_strand(const asio::any_io_executor& ex) {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) return asio::make_strand(*io);
  return asio::make_strand(ex);
}

structured_task::structured_task(const asio::any_io_executor& ex) : strand_(make_task_strand(ex)), done_(strand_, 0) {}

void structured_task::start(std::shared_ptr<structured_task> predecessor) {
  if (!predecessor) {
    asio::post(strand_, [self = shared_from_this()] { self->spawn(); });
    return;
  }
  // The predecessor's latch closes only after its body has ended: nothing can cancel this wait, so the chain
  // old -> new holds even when the new task is itself stopped before it ran.
  predecessor->done().async_receive(
      asio::bind_executor(strand_, [self = shared_from_this(), predecessor](std::error_code) { self->spawn(); }));
}

void structured_task::request_stop() {
  if (stop_posted_.exchange(true)) return;
  // Posted, never run inline: the caller may hold locks, and cancelling can be costly (closing a socket).
  asio::post(strand_, [self = shared_from_this()] {
    self->stop_requested_ = true;
    self->cancel_.emit(asio::cancellation_type::terminal);
  });
}

void structured_task::spawn() {
  if (stop_posted_.load()) return finish();  // stopped before it ever ran: it never acts
  asio::co_spawn(strand_, run(),
                 asio::bind_cancellation_slot(cancel_.slot(), [self = shared_from_this()](std::exception_ptr e) {
                   if (e && !self->stop_requested_) self->on_failure(e);
                   self->finish();
                 }));
}

void structured_task::finish() {
  cancel_.slot().clear();
  done_.close();
}

}  // namespace coalias::detail
