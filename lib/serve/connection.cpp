#include "serve/connection.hpp"

#include "http_server/http_request.hpp"
#include "serve/routes.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>

namespace coalias::detail {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr std::size_t read_chunk = 4096;
// Answers to pipelined requests are gathered into one write up to this size.
constexpr std::size_t max_batched_output = 64 * 1024;
constexpr std::string_view head_end_marker = "\r\n\r\n";

}  // namespace

endpoint_connection::endpoint_connection(const asio::any_io_executor& ex, asio::ip::tcp::socket socket,
                                         std::shared_ptr<const endpoint_config> config)
    : structured_task(ex),
      socket_(std::move(socket)),
      config_(std::move(config)),
      deadline_(clock::now() + config_->options.idle_timeout) {}

asio::awaitable<void> endpoint_connection::run() {
  // Whichever ends first ends the other: the conversation, or the watchdog once a deadline passed. A stop
  // cancels both.
  co_await (serve() || watchdog());
  asio::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<void> endpoint_connection::watchdog() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_at(deadline_);
    co_await timer.async_wait(asio::use_awaitable);
    if (clock::now() >= deadline_) co_return;
  }
}

asio::awaitable<bool> endpoint_connection::read_more() {
  const std::size_t old = in_.size();
  in_.resize(old + read_chunk);
  asio::error_code ec;
  const std::size_t n = co_await socket_.async_read_some(asio::buffer(in_.data() + old, read_chunk),
                                                         asio::redirect_error(asio::use_awaitable, ec));
  in_.resize(old + n);
  co_return !ec;
}

asio::awaitable<bool> endpoint_connection::flush() {
  if (out_.empty()) co_return true;
  asio::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(out_), asio::redirect_error(asio::use_awaitable, ec));
  out_.clear();
  co_return !ec;
}

asio::awaitable<void> endpoint_connection::linger() {
  // Stop sending, then drain what the client still sends until it closes (or the deadline): closing with unread
  // bytes would send a reset that can destroy the answer in the client's receive queue.
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::array<char, 1024> sink;
  while (!ec) {
    co_await socket_.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> endpoint_connection::answer_and_close(int error_status) {
  append_wire(out_, error_answer(error_status), false, true, false);
  co_await close_after_flush();
}

// g++ 12 miscompiles co_await inside conditions (`if (co_await a) ...`, `co_await a || co_await b`): every
// co_await below is a statement of its own.
asio::awaitable<void> endpoint_connection::close_after_flush() {
  const bool sent = co_await flush();
  if (sent) co_await linger();
}

asio::awaitable<bool> endpoint_connection::flush_and_read() {
  const bool sent = co_await flush();
  if (!sent) co_return false;
  co_return co_await read_more();
}

asio::awaitable<void> endpoint_connection::serve() {
  const endpoint_options& options = config_->options;
  for (;;) {
    deadline_ = clock::now() + options.idle_timeout;  // for this request: its head, body and answer

    // A whole head, answering what is already gathered before waiting for more bytes.
    std::size_t searched = 0;
    std::size_t head_end = 0;
    while ((head_end = in_.find(head_end_marker, searched)) == std::string::npos) {
      if (in_.size() > options.max_request_bytes + head_end_marker.size()) {
        co_await answer_and_close(431);
        co_return;
      }
      searched = in_.size() < head_end_marker.size() ? 0 : in_.size() - (head_end_marker.size() - 1);
      const bool more = co_await flush_and_read();
      if (!more) co_return;
    }
    if (head_end > options.max_request_bytes) {
      co_await answer_and_close(431);
      co_return;
    }

    http_server::head_error why{};
    const auto req =
        http_server::parse_request_head(std::string_view(in_).substr(0, head_end), options.max_headers, &why);
    if (!req) {
      co_await answer_and_close(why == http_server::head_error::too_many_headers ? 431 : 400);
      co_return;
    }
    if (req->content_length > options.max_request_bytes) {
      co_await answer_and_close(400);
      co_return;
    }

    // No route reads a body, but the next request starts after it.
    const std::size_t request_size = head_end + head_end_marker.size() + req->content_length;
    while (in_.size() < request_size) {
      const bool more = co_await flush_and_read();
      if (!more) co_return;
    }
    in_.erase(0, request_size);

    const http_answer a = answer(req->method, req->target, config_->state, options);
    const bool http10_keep_alive = req->minor_version == 0 && req->keep_alive;
    append_wire(out_, a, req->method == "HEAD", !req->keep_alive, http10_keep_alive);
    if (!req->keep_alive) {
      co_await close_after_flush();
      co_return;
    }
    if (out_.size() >= max_batched_output) {
      const bool sent = co_await flush();
      if (!sent) co_return;
    }
  }
}

}  // namespace coalias::detail
