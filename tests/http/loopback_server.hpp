// A scripted HTTP/1.1 server on 127.0.0.1 (or a unix socket), on its own thread, for the client tests.
// The request path picks the script:
//   /ok               200, body "hello", headers X-Consul-Index: 42 and Content-Type: application/json
//   /status/<code>    that status, body "status <code>"
//   /delay/<ms>       200 "delayed" after <ms>
//   /hang             no answer; waits for the client to close, which it counts as a peer close
//   /lie              Content-Length: 100, then 5 bytes and a close
//   /drop             closes without answering
//   /big/<n>          <n> bytes of 'x' with Content-Length
//   /chunked/<n>      <n> bytes of 'x', chunked, no Content-Length
//   /interim          103 Early Hints with a Link header, then 200 "final" with X-Final: yes
//   /echo-header/<h>  200 with the value of request header <h> as body
//   /echo-request     200 with "<method>|<Content-Length>|<Content-Type>|<body>" (absent headers: "-")
// Any method; a request body (Content-Length) is read before the script runs.
// Connections are kept alive. Stats are read under a mutex; wait_until blocks on a condition variable.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace coalias::test {

struct server_stats {
  std::size_t accepted = 0;     // connections accepted
  std::size_t open = 0;         // connections open now
  std::size_t max_open = 0;     // most connections open at once
  std::size_t requests = 0;     // request heads read
  std::size_t hanging = 0;      // /hang requests waiting now
  std::size_t peer_closes = 0;  // connections the client closed while we waited for it
  std::string last_head;        // the last request head, as received
};

class loopback_server {
 public:
  loopback_server() : tcp_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = tcp_.local_endpoint().port();
    asio::co_spawn(io_, accept(tcp_), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  explicit loopback_server(std::string unix_path) : tcp_(io_), unix_(std::in_place, io_, asio::local::stream_protocol::endpoint(unix_path)) {
    asio::co_spawn(io_, accept(*unix_), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~loopback_server() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  server_stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  /// Blocks until `done(stats)` holds; false if `deadline` passes first (a hang guard, not a timing).
  bool wait_until(const std::function<bool(const server_stats&)>& done,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return done(stats_); });
  }

 private:
  template <class Acceptor>
  asio::awaitable<void> accept(Acceptor& acceptor) {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      update([](server_stats& s) {
        ++s.accepted;
        s.max_open = std::max(s.max_open, ++s.open);
      });
      asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
  }

  template <class Socket>
  asio::awaitable<void> serve(Socket socket) {
    std::string buffer;
    try {
      for (;;) {
        const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
                                                              asio::use_awaitable);
        const std::string head = buffer.substr(0, n);
        buffer.erase(0, n);
        const std::string length = header_of(head, "Content-Length");
        const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
        if (buffer.size() < body_size)
          co_await asio::async_read(socket, asio::dynamic_buffer(buffer), asio::transfer_exactly(body_size - buffer.size()),
                                    asio::use_awaitable);
        const std::string body = buffer.substr(0, body_size);
        buffer.erase(0, body_size);
        update([&](server_stats& s) {
          ++s.requests;
          s.last_head = head;
        });
        if (!co_await answer(socket, head, body)) break;
      }
    } catch (const std::system_error&) {
      // The client closed the connection (or reset it): the normal end of a keep-alive connection.
    }
    update([](server_stats& s) { --s.open; });
  }

  // Returns false when the script ends the connection.
  template <class Socket>
  asio::awaitable<bool> answer(Socket& socket, const std::string& head, const std::string& body) {
    const std::size_t space = head.find(' ');  // "<method> <path> HTTP/1.1"
    const std::string method = head.substr(0, space);
    const std::string path = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
    auto starts = [&](const char* prefix) { return path.rfind(prefix, 0) == 0; };
    auto tail = [&](const char* prefix) { return path.substr(std::string(prefix).size()); };
    if (path == "/ok") {
      co_await send(socket, reply(200, "hello", "X-Consul-Index: 42\r\nContent-Type: application/json\r\n"));
    } else if (starts("/status/")) {
      co_await send(socket, reply(std::stoi(tail("/status/")), "status " + tail("/status/")));
    } else if (starts("/delay/")) {
      asio::steady_timer timer(socket.get_executor(), std::chrono::milliseconds(std::stoi(tail("/delay/"))));
      co_await timer.async_wait(asio::use_awaitable);
      co_await send(socket, reply(200, "delayed"));
    } else if (path == "/hang") {
      update([](server_stats& s) { ++s.hanging; });
      char byte;
      try {
        for (;;) co_await socket.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
      } catch (const std::system_error&) {
      }
      update([](server_stats& s) {
        --s.hanging;
        ++s.peer_closes;
      });
      co_return false;
    } else if (path == "/lie") {
      co_await send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
      co_return false;
    } else if (path == "/drop") {
      co_return false;
    } else if (starts("/big/")) {
      co_await send(socket, reply(200, std::string(std::stoul(tail("/big/")), 'x')));
    } else if (starts("/chunked/")) {
      std::size_t left = std::stoul(tail("/chunked/"));
      std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      while (left > 0) {
        const std::size_t n = std::min<std::size_t>(left, 1000);
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", n);
        out += size + std::string(n, 'x') + "\r\n";
        left -= n;
      }
      co_await send(socket, out + "0\r\n\r\n");
    } else if (path == "/interim") {
      co_await send(socket, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n" + reply(200, "final", "X-Final: yes\r\n"));
    } else if (starts("/echo-header/")) {
      co_await send(socket, reply(200, header_of(head, tail("/echo-header/"))));
    } else if (path == "/echo-request") {
      auto or_dash = [](std::string v) { return v.empty() ? std::string("-") : v; };
      co_await send(socket, reply(200, method + "|" + or_dash(header_of(head, "Content-Length")) + "|" +
                                           or_dash(header_of(head, "Content-Type")) + "|" + body));
    } else {
      co_await send(socket, reply(404, "no script"));
    }
    co_return true;
  }

  // The value of header `name` in `head` (curl's spelling of names is exact); empty when absent.
  static std::string header_of(const std::string& head, const std::string& name) {
    const std::string wanted = "\r\n" + name + ": ";
    const auto at = head.find(wanted);
    return at == std::string::npos ? "" : head.substr(at + wanted.size(), head.find("\r\n", at + 2) - at - wanted.size());
  }

  static std::string reply(int status, const std::string& body, const std::string& extra = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + extra + "\r\n" + body;
  }

  template <class Socket>
  static asio::awaitable<void> send(Socket& socket, std::string text) {
    co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
  }

  template <class F>
  void update(F f) {
    {
      std::lock_guard lock(mutex_);
      f(stats_);
    }
    changed_.notify_all();
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor tcp_;
  std::optional<asio::local::stream_protocol::acceptor> unix_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  server_stats stats_;
};

}  // namespace coalias::test
