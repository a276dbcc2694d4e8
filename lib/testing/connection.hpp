// A plain or TLS connection and the coroutine that serves its requests one after another (keep-alive).
//
// Thread safety: io thread only.
#pragma once

#include "server_impl.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include <memory>
#include <utility>

namespace coalias::testing::detail {

inline asio::ip::tcp::socket& lowest_socket(asio::ip::tcp::socket& s) noexcept { return s; }
inline asio::ip::tcp::socket& lowest_socket(asio::ssl::stream<asio::ip::tcp::socket>& s) noexcept {
  return s.next_layer();
}

template <class Stream>
class connection final : public connection_base {
 public:
  connection(asio::io_context& io, Stream stream) : connection_base(io), stream_(std::move(stream)) {}
  asio::ip::tcp::socket& socket() override { return lowest_socket(stream_); }
  Stream& stream() noexcept { return stream_; }

 private:
  Stream stream_;
};

using plain_connection = connection<asio::ip::tcp::socket>;
using tls_connection = connection<asio::ssl::stream<asio::ip::tcp::socket>>;

/// Serves requests until the peer closes, a request asks to close, an error, or the server stops.
asio::awaitable<void> serve_connection(consul_test_server::impl& server, std::shared_ptr<plain_connection> c);
asio::awaitable<void> serve_connection(consul_test_server::impl& server, std::shared_ptr<tls_connection> c);

/// A plain connection over the per-client cap: Consul's 429 bytes, then close (after a bounded drain).
asio::awaitable<void> refuse_connection(consul_test_server::impl& server, std::shared_ptr<plain_connection> c);

}  // namespace coalias::testing::detail
