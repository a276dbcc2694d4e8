// One curl multi handle driven by Asio: a posix::stream_descriptor per socket curl watches, a steady_timer for
// curl's timeout, and the transfers in flight. Every curl call runs on the engine's strand; the public members
// only dispatch onto it, so they are callable from any thread.
//
// Never call curl_multi_socket_action from inside a curl callback: the callbacks only arm waits, and a 0 ms
// timeout is posted. Handlers hold a shared_ptr to the engine, so it outlives every wait it started.
#pragma once

#include "http/completion.hpp"
#include "http/request.hpp"
#include "http/transfer.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace coalias::http::detail {

/// Sockets curl opened (TCP or unix connections) in this process so far, every engine together.
std::uint64_t connections_opened() noexcept;

class engine : public std::enable_shared_from_this<engine> {
 public:
  engine(asio::any_io_executor ex, std::size_t max_connections_per_host);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  const asio::any_io_executor& io_executor() const noexcept { return io_ex_; }
  std::uint64_t next_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  void start(std::uint64_t id, request req, std::unique_ptr<completion> done);
  void cancel(std::uint64_t id);
  /// Aborts every transfer (operation_aborted) and refuses new ones.
  void shutdown();

 private:
  struct watched_socket {
    explicit watched_socket(const asio::strand<asio::any_io_executor>& ex) : descriptor(ex) {}
    asio::posix::stream_descriptor descriptor;
    int wanted = 0;         // CURL_POLL_IN / CURL_POLL_OUT bits curl last asked for
    bool reading = false;   // a wait_read is outstanding
    bool writing = false;   // a wait_write is outstanding
    bool released = false;  // curl said CURL_POLL_REMOVE: the fd is curl's to close, maybe already reused
  };
  using socket_ptr = std::shared_ptr<watched_socket>;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_close_socket(void* self, curl_socket_t fd);
  static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);

  void do_start(std::uint64_t id, request req, std::unique_ptr<completion> done);
  void do_cancel(std::uint64_t id);
  void do_shutdown();

  void arm(const socket_ptr& s, curl_socket_t fd);
  void on_ready(const socket_ptr& s, curl_socket_t fd, int direction, std::error_code ec);
  void on_timeout();
  void act(curl_socket_t fd, int events);
  void reap();
  void release_sockets();
  void abort_transfers();
  void update_cap();

  asio::any_io_executor io_ex_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  CURLM* multi_;
  bool shut_down_ = false;
  long cap_ = 0;              // configured connections per host; 0: no cap
  long cap_now_ = 0;          // what curl has now (lower over h2: see update_cap)
  enum class multiplexing : std::uint8_t { unknown, yes, no };
  multiplexing multiplexing_ = multiplexing::unknown;  // what the latest completed transfer spoke (h2: yes)
  bool https_ = false;                                 // the latest transfer started was https over TCP
  std::atomic<std::uint64_t> next_id_{1};
  std::unordered_map<curl_socket_t, socket_ptr> sockets_;
  std::unordered_map<std::uint64_t, std::unique_ptr<transfer>> transfers_;
};

}  // namespace coalias::http::detail
