// A small synchronous HTTP/1.1 client over raw Asio sockets, so the tests see exactly the bytes the test server
// sends (no client library normalising headers or hiding a lying Content-Length).
#pragma once

#include "core/ascii.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coalias::testing::test {

using header_pairs = std::vector<std::pair<std::string, std::string>>;

struct raw_response {
  int status = 0;
  std::string reason;
  header_pairs headers;
  std::string body;
  bool complete = true;  ///< false: the peer closed before Content-Length bytes arrived

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (coalias::detail::ascii_iequals(k, name)) return v;
    }
    return std::nullopt;
  }
  std::size_t header_count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : headers) {
      (void)v;
      if (coalias::detail::ascii_iequals(k, name)) ++n;
    }
    return n;
  }
};

inline std::string request_bytes(std::string_view method, std::string_view target, const header_pairs& headers = {}) {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  return out;
}

/// Reads one response from `stream`; std::nullopt if the peer closed before a complete head arrived.
template <class Stream>
std::optional<raw_response> read_response(Stream& stream, std::string& buffer) {
  asio::error_code ec;
  const std::size_t n = asio::read_until(stream, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
  if (ec) return std::nullopt;
  raw_response r;
  std::string_view head(buffer.data(), n - 2);  // keep the last CRLF as a line end
  auto next_line = [&head] {
    const auto end = head.find("\r\n");
    std::string_view line = head.substr(0, end);
    head.remove_prefix(end + 2);
    return line;
  };
  const std::string_view status_line = next_line();
  if (status_line.substr(0, 9) != "HTTP/1.1 " || status_line.size() < 12) throw std::runtime_error("bad status line");
  r.status = std::stoi(std::string(status_line.substr(9, 3)));
  r.reason = std::string(status_line.substr(std::min<std::size_t>(13, status_line.size())));
  while (!head.empty()) {
    const std::string_view line = next_line();
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad header line");
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  buffer.erase(0, n);
  const std::size_t length = std::stoul(r.header("Content-Length").value_or("0"));
  if (buffer.size() < length) {
    asio::read(stream, asio::dynamic_buffer(buffer), asio::transfer_exactly(length - buffer.size()), ec);
  }
  r.complete = buffer.size() >= length;
  const std::size_t take = std::min(length, buffer.size());
  r.body = buffer.substr(0, take);
  buffer.erase(0, take);
  return r;
}

/// True once the peer has closed the stream (reads EOF, after any unread bytes).
template <class Stream>
bool peer_closed(Stream& stream, std::string& buffer) {
  asio::error_code ec;
  char byte = 0;
  while (!ec) {
    const std::size_t n = stream.read_some(asio::buffer(&byte, 1), ec);
    if (n > 0) buffer += byte;
  }
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

/// A keep-alive connection to the test server.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address_v4("127.0.0.1"), port});
  }

  void send_raw(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes)); }
  void send(std::string_view method, std::string_view target, const header_pairs& headers = {}) {
    send_raw(request_bytes(method, target, headers));
  }
  std::optional<raw_response> read() { return read_response(socket_, buffer_); }

  /// Sends a GET and reads the answer; throws if the server closed instead of answering.
  raw_response get(std::string_view target, const header_pairs& headers = {}) {
    send("GET", target, headers);
    auto r = read();
    if (!r) throw std::runtime_error("connection closed without a response");
    return *r;
  }

  bool closed_by_peer() { return peer_closed(socket_, buffer_); }
  void close() {
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::string buffer_;
};

/// Milliseconds elapsed since `start`.
inline long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace coalias::testing::test
