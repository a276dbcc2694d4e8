// The server's engine: io_context and thread, listener, owned connections, and the registry of blocking
// queries that state changes wake.
//
// Thread safety: the state (under state_mutex_), faults_ and stats_ may be used from any thread. Members
// marked "io thread" are touched only by handlers running on the server thread.
#pragma once

#include "agent_endpoints.hpp"
#include "cluster_state.hpp"
#include "fault_queue.hpp"
#include "request_stats.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace coalias::testing {
namespace detail {

/// One accepted connection; the server holds it until its coroutine ends.
class connection_base {
 public:
  explicit connection_base(asio::io_context& io) : timer_(io) {}
  virtual ~connection_base() = default;
  connection_base(const connection_base&) = delete;
  connection_base& operator=(const connection_base&) = delete;

  virtual asio::ip::tcp::socket& socket() = 0;

  /// Closes the socket and expires the timer, so every pending or later wait of the connection ends.
  void close();

  asio::steady_timer& timer() noexcept { return timer_; }

  /// The buffer of the last answer sent, kept for the next one: a group answer is megabytes, and a fresh buffer
  /// for each would cost a page fault per page written.
  std::string take_body_buffer() noexcept { return std::move(body_buffer_); }
  void keep_body_buffer(std::string buffer) noexcept { body_buffer_ = std::move(buffer); }

 private:
  asio::steady_timer timer_;  // blocking holds and injected delays
  std::string body_buffer_;
};

/// A held blocking query: woken by expiring its connection's timer once what it watches moves past min_index.
struct waiter {
  const watch_key* watch;
  std::uint64_t min_index;
  asio::steady_timer* timer;
};

}  // namespace detail

class consul_test_server::impl {
 public:
  explicit impl(server_options options);
  ~impl();
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  void stop();
  std::uint16_t port() const noexcept { return port_; }
  bool tls() const noexcept { return ssl_.has_value(); }

  /// Runs `f(const cluster_state&)` under the state lock.
  template <class F>
  auto read_state(F&& f) const {
    std::lock_guard lock(state_mutex_);
    return f(static_cast<const detail::cluster_state&>(state_));
  }

  /// Runs `f(cluster_state&)` under the state lock, then wakes held queries whose table moved.
  template <class F>
  auto mutate_state(F&& f) {
    struct notify_after_unlock {
      impl* self;
      ~notify_after_unlock() { self->notify_change(); }
    } notify{this};
    std::lock_guard lock(state_mutex_);
    return f(state_);
  }

  const server_options options_;
  detail::fault_queue faults_;
  detail::request_stats stats_;
  std::atomic<std::uint64_t> last_index_sent_{0};  // for index_regress faults

  // io thread:
  bool stopping_ = false;
  std::mt19937_64 rng_;
  std::list<detail::waiter*> waiters_;
  asio::io_context& io() noexcept { return io_; }
  detail::agent_endpoints& agent() noexcept { return agent_; }
  bool index_moved(const detail::waiter& w) const;

 private:
  void notify_change();
  void wake_waiters();  // io thread
  void start_connection(asio::ip::tcp::socket socket);  // io thread
  bool admit(const asio::ip::tcp::socket& socket);      // io thread: false when over max_conns_per_client
  void refuse(asio::ip::tcp::socket socket);            // io thread
  void shutdown();  // io thread

  asio::io_context io_{1};
  std::optional<asio::ssl::context> ssl_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::unordered_set<std::shared_ptr<detail::connection_base>> connections_;  // io thread
  std::unordered_map<std::string, std::size_t> per_client_;                     // io thread: open, by client IP
  mutable std::mutex state_mutex_;
  detail::cluster_state state_;
  std::mutex stop_mutex_;
  std::thread thread_;
  detail::agent_endpoints agent_{*this};  // after io_ and state_: its timer and tables use them
};

}  // namespace coalias::testing
