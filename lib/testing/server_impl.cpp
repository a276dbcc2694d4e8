#include "server_impl.hpp"

#include "connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <stdexcept>

namespace coalias::testing {
namespace detail {

void connection_base::close() {
  asio::error_code ignored;
  socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  // expires_at, not cancel: it also ends a wait that a spawned child has not started yet.
  timer_.expires_at(asio::steady_timer::time_point::min());
}

}  // namespace detail

namespace {

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, consul_test_server::impl& server,
                                  void (*on_accept)(consul_test_server::impl&, asio::ip::tcp::socket)) {
  const auto token = asio::experimental::as_tuple(asio::use_awaitable);
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(token);
    if (server.stopping_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
    if (ec) {
      // Out of descriptors or the like: retry shortly rather than spin.
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(token);
      continue;
    }
    on_accept(server, std::move(socket));
  }
}

}  // namespace

consul_test_server::impl::impl(server_options options)
    : options_(std::move(options)),
      stats_(options_.request_log_capacity),
      rng_(std::random_device{}()),
      acceptor_(io_),
      state_(options_.initial_index) {
  if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
    ssl_.emplace(asio::ssl::context::tls_server);
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3);
    ssl_->use_certificate_chain_file(options_.tls_cert_file);
    ssl_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem);
  }
  const asio::ip::tcp::endpoint where(asio::ip::make_address_v4("127.0.0.1"), 0);
  acceptor_.open(where.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(where);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();

  auto on_accept = [](impl& self, asio::ip::tcp::socket s) { self.start_connection(std::move(s)); };
  asio::co_spawn(io_, accept_loop(acceptor_, *this, on_accept), [](const std::exception_ptr&) {});
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (...) {
        // A handler threw: keep serving; connections own their errors, so this is unexpected but not fatal.
      }
    }
  });
}

consul_test_server::impl::~impl() { stop(); }

void consul_test_server::impl::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) return;
  if (std::this_thread::get_id() == thread_.get_id()) {
    throw std::logic_error("consul_test_server::stop() called from the server thread");
  }
  asio::post(io_, [this] { shutdown(); });
  thread_.join();
}

void consul_test_server::impl::shutdown() {
  stopping_ = true;
  asio::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& c : connections_) c->close();  // also ends every held query: waiters use these timers
  agent_.stop();
}

bool consul_test_server::impl::admit(const asio::ip::tcp::socket& socket) {
  asio::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string key = ec ? std::string() : peer.address().to_string();
  std::size_t& open = per_client_[key];
  if (options_.max_conns_per_client > 0 && open >= options_.max_conns_per_client) return false;
  ++open;
  return true;
}

void consul_test_server::impl::refuse(asio::ip::tcp::socket socket) {
  stats_.connection_refused();
  if (ssl_) {
    // Consul's HTTPS listener closes the connection without a word.
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto c = std::make_shared<detail::plain_connection>(io_, std::move(socket));
  connections_.insert(c);
  asio::co_spawn(io_, detail::refuse_connection(*this, c), [this, c](const std::exception_ptr&) { connections_.erase(c); });
}

void consul_test_server::impl::start_connection(asio::ip::tcp::socket socket) {
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket.non_blocking(true, ignored);  // the peer-close probe must never block
  stats_.connection_accepted();
  if (!admit(socket)) {
    refuse(std::move(socket));
    return;
  }
  asio::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  std::string client = ec ? std::string() : peer.address().to_string();
  stats_.connection_opened();
  auto finish = [this, client = std::move(client)](std::shared_ptr<detail::connection_base> c) {
    return [this, c = std::move(c), client](const std::exception_ptr&) {
      connections_.erase(c);
      if (const auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
      stats_.connection_closed();
    };
  };
  if (ssl_) {
    auto c = std::make_shared<detail::tls_connection>(io_, asio::ssl::stream<asio::ip::tcp::socket>(std::move(socket), *ssl_));
    connections_.insert(c);
    asio::co_spawn(io_, detail::serve_connection(*this, c), finish(c));
  } else {
    auto c = std::make_shared<detail::plain_connection>(io_, std::move(socket));
    connections_.insert(c);
    asio::co_spawn(io_, detail::serve_connection(*this, c), finish(c));
  }
}

bool consul_test_server::impl::index_moved(const detail::waiter& w) const {
  std::lock_guard lock(state_mutex_);
  return state_.watched_index(*w.watch) > w.min_index;
}

void consul_test_server::impl::notify_change() {
  asio::post(io_, [this] { wake_waiters(); });
}

void consul_test_server::impl::wake_waiters() {
  std::lock_guard lock(state_mutex_);
  for (detail::waiter* w : waiters_) {
    if (state_.watched_index(*w->watch) > w->min_index) w->timer->expires_at(asio::steady_timer::time_point::min());
  }
}

}  // namespace coalias::testing
