#include "http/engine.hpp"

#include "core/ascii.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <coalias/error.hpp>

#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <new>
#include <utility>

namespace coalias::http::detail {
namespace {

// Consul's HTTPS listener allows 250 concurrent h2 streams per connection (curl assumes 100 until told).
constexpr std::size_t h2_streams_per_connection = 250;

std::atomic<std::uint64_t> sockets_opened{0};

}  // namespace

std::uint64_t connections_opened() noexcept { return sockets_opened.load(std::memory_order_relaxed); }

engine::engine(asio::any_io_executor ex, std::size_t max_connections_per_host)
    : io_ex_(std::move(ex)), strand_(asio::make_strand(io_ex_)), timer_(strand_), multi_(curl_multi_init()) {
  if (!multi_) throw std::bad_alloc();
  const long cap = static_cast<long>(max_connections_per_host);
  cap_ = cap_now_ = cap;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &engine::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &engine::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
  // The idle-connection cache must hold every capped connection, or keep-alive breaks under load.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, std::max(cap, 16L) * 4);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  // Over h2 a connection carries this many transfers before curl opens another (within the host cap).
  curl_multi_setopt(multi_, CURLMOPT_MAX_CONCURRENT_STREAMS, static_cast<long>(h2_streams_per_connection));
}

engine::~engine() {
  // Only reached with transfers left when the io_context died before do_shutdown ran: their handlers are
  // destroyed uninvoked, as Asio does with any pending operation.
  shut_down_ = true;
  if (multi_) {
    for (auto& [id, t] : transfers_) curl_multi_remove_handle(multi_, t->easy());
    transfers_.clear();
    release_sockets();
    curl_multi_cleanup(multi_);
  }
  release_sockets();
}

void engine::start(std::uint64_t id, request req, std::unique_ptr<completion> done) {
  asio::dispatch(strand_, [self = shared_from_this(), id, req = std::move(req), done = std::move(done)]() mutable {
    self->do_start(id, std::move(req), std::move(done));
  });
}

void engine::cancel(std::uint64_t id) {
  asio::dispatch(strand_, [self = shared_from_this(), id] { self->do_cancel(id); });
}

void engine::shutdown() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->do_shutdown(); });
}

void engine::do_start(std::uint64_t id, request req, std::unique_ptr<completion> done) {
  auto t = std::make_unique<transfer>(id, std::move(done));
  if (shut_down_) return t->fail(asio::error::operation_aborted);
  if (auto ec = t->setup(req)) return t->fail(ec);
  // The engine closes curl's sockets itself, so a socket always leaves epoll before its fd number can be reused.
  curl_easy_setopt(t->easy(), CURLOPT_CLOSESOCKETFUNCTION, &engine::on_close_socket);
  curl_easy_setopt(t->easy(), CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(t->easy(), CURLOPT_OPENSOCKETFUNCTION, &engine::on_open_socket);
  https_ = req.unix_socket.empty() &&
           coalias::detail::ascii_lower(std::string_view(req.url).substr(0, 8)) == "https://";
  if (curl_multi_add_handle(multi_, t->easy()) != CURLM_OK) return t->fail(errc::transport);
  transfers_.emplace(id, std::move(t));  // curl's timer callback kicks the transfer off
  update_cap();
}

// curl 7.88 waits (CURLOPT_PIPEWAIT) for a connection of unknown kind, but once the host is known to multiplex,
// each transfer that finds the open connections full starts a connection of its own while the first new one is still
// connecting (measured: 300 streams, 6 connections; 1,000 streams, 8). So over https, unless the latest answer came
// over HTTP/1.x, the cap follows the transfers in flight, ceil(n / 250) + 1, never above the configured cap; over
// plain http, or once a TLS server answers with HTTP/1.x, it is the configured cap. (A TLS server without h2 waits
// at most for its first answer: each completion lets curl start the transfers queued behind the cap, in a chain.)
void engine::update_cap() {
  if (cap_ <= 0) return;
  long cap = cap_;
  if (https_ && multiplexing_ != multiplexing::no) {
    const auto needed = (transfers_.size() + h2_streams_per_connection - 1) / h2_streams_per_connection + 1;
    cap = std::min(cap, static_cast<long>(needed));
  }
  if (cap == cap_now_) return;
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
  cap_now_ = cap;
}

void engine::do_cancel(std::uint64_t id) {
  auto node = transfers_.extract(id);
  if (node.empty()) return;  // already finished: cancelling after completion is a no-op
  curl_multi_remove_handle(multi_, node.mapped()->easy());
  node.mapped()->fail(asio::error::operation_aborted);
}

void engine::do_shutdown() {
  if (shut_down_) return;
  abort_transfers();
  shut_down_ = true;  // from here the callbacks ignore curl
  release_sockets();
  timer_.cancel();
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  release_sockets();  // in case cleanup asked for new waits before closing
}

void engine::abort_transfers() {
  auto transfers = std::move(transfers_);
  transfers_.clear();
  for (auto& [id, t] : transfers) {
    curl_multi_remove_handle(multi_, t->easy());
    t->fail(asio::error::operation_aborted);
  }
}

void engine::release_sockets() {
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [fd, s] : sockets) {
    s->released = true;
    s->descriptor.release();  // deregisters and aborts its waits; curl closes the fd
  }
}

// curl's own socket(), plus close-on-exec (a test's child process must not inherit it) and a count.
curl_socket_t engine::on_open_socket(void*, curlsocktype, curl_sockaddr* address) {
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd >= 0) sockets_opened.fetch_add(1, std::memory_order_relaxed);
  return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

// curl may close a connection's socket without a CURL_POLL_REMOVE first (a cancelled transfer, the connection
// cache): deregistering afterwards would touch an fd number another thread may already have reused.
int engine::on_close_socket(void* self, curl_socket_t fd) {
  auto& e = *static_cast<engine*>(self);
  if (auto it = e.sockets_.find(fd); it != e.sockets_.end()) {
    it->second->released = true;
    it->second->descriptor.release();
    e.sockets_.erase(it);
  }
  return ::close(fd);
}

int engine::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto& e = *static_cast<engine*>(self);
  if (e.shut_down_) return 0;
  if (what == CURL_POLL_REMOVE) {
    if (auto it = e.sockets_.find(fd); it != e.sockets_.end()) {
      it->second->released = true;
      it->second->descriptor.release();
      e.sockets_.erase(it);
    }
    return 0;
  }
  auto& s = e.sockets_[fd];
  if (!s) {
    s = std::make_shared<watched_socket>(e.strand_);
    std::error_code ec;
    s->descriptor.assign(fd, ec);
    if (ec) {
      e.sockets_.erase(fd);
      return -1;  // curl fails the transfer
    }
  }
  s->wanted = what;
  e.arm(s, fd);
  return 0;
}

int engine::on_timer(CURLM*, long timeout_ms, void* self) {
  auto& e = *static_cast<engine*>(self);
  if (e.shut_down_) return 0;
  e.timer_.cancel();
  if (timeout_ms == 0) {
    // Running socket_action here would re-enter curl from its own callback.
    asio::post(e.strand_, [self = e.shared_from_this()] { self->on_timeout(); });
  } else if (timeout_ms > 0) {
    e.timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    e.timer_.async_wait([self = e.shared_from_this()](std::error_code ec) {
      if (!ec) self->on_timeout();
    });
  }
  return 0;
}

void engine::arm(const socket_ptr& s, curl_socket_t fd) {
  using asio::posix::descriptor_base;
  if ((s->wanted & CURL_POLL_IN) && !s->reading) {
    s->reading = true;
    s->descriptor.async_wait(descriptor_base::wait_read, [self = shared_from_this(), s, fd](std::error_code ec) {
      s->reading = false;
      self->on_ready(s, fd, CURL_CSELECT_IN, ec);
    });
  }
  if ((s->wanted & CURL_POLL_OUT) && !s->writing) {
    s->writing = true;
    s->descriptor.async_wait(descriptor_base::wait_write, [self = shared_from_this(), s, fd](std::error_code ec) {
      s->writing = false;
      self->on_ready(s, fd, CURL_CSELECT_OUT, ec);
    });
  }
}

void engine::on_ready(const socket_ptr& s, curl_socket_t fd, int direction, std::error_code ec) {
  if (ec == asio::error::operation_aborted || s->released || shut_down_) return;
  const int wanted_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
  if (!ec && !(s->wanted & wanted_bit)) return;  // curl changed its mind while we waited
  act(fd, ec ? CURL_CSELECT_ERR : direction);
  if (!s->released && !shut_down_) arm(s, fd);
}

void engine::on_timeout() {
  if (shut_down_) return;
  act(CURL_SOCKET_TIMEOUT, 0);
}

void engine::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  reap();
}

void engine::reap() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;  // msg dies with remove_handle
    char* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    long version = 0;
    if (code == CURLE_OK && curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK)
      multiplexing_ = version == CURL_HTTP_VERSION_2_0 ? multiplexing::yes : multiplexing::no;  // the latest answer
    curl_multi_remove_handle(multi_, easy);
    auto node = transfers_.extract(reinterpret_cast<transfer*>(owner)->id());
    if (!node.empty()) node.mapped()->finish(code);
  }
  update_cap();
}

}  // namespace coalias::http::detail
