#include "connection.hpp"

#include "agent_endpoints.hpp"
#include "api_handler.hpp"
#include "http_request.hpp"
#include "http_response.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <type_traits>

namespace coalias::testing::detail {
namespace {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

// Go net/http's DefaultMaxHeaderBytes, which Consul keeps: request line and headers (a group query's filter is long).
constexpr std::size_t max_head_bytes = 1024 * 1024;
constexpr std::size_t max_body_bytes = 1024 * 1024;
constexpr std::string_view malformed_default = "[{\"Node\":\"broken\",\"CheckID\":}]";

constexpr auto token = asio::experimental::as_tuple(asio::use_awaitable);

enum class hold_end { woken, deadline, peer_closed, stopping };

// After a readable wake-up during a hold: has the peer closed (true), or sent more bytes (false)?
bool peer_gone(asio::ip::tcp::socket& socket, bool& would_block) {
  char byte = 0;
  asio::error_code ec;
  const std::size_t n = socket.receive(asio::buffer(&byte, 1), asio::socket_base::message_peek, ec);
  would_block = ec == asio::error::would_block;
  if (would_block) return false;
  return ec || n == 0;
}

// Waits until `w`'s table moves (if w), the deadline, the peer closing, or server stop. Watching the socket
// keeps a client's hang-up visible at once (open_connections drops), as a Go server cancels the request.
asio::awaitable<hold_end> hold(consul_test_server::impl& server, connection_base& conn, const waiter* w,
                               clock::time_point deadline) {
  bool watch_peer = true;
  for (;;) {
    if (server.stopping_) co_return hold_end::stopping;
    if (w != nullptr && server.index_moved(*w)) co_return hold_end::woken;
    if (clock::now() >= deadline) co_return hold_end::deadline;
    conn.timer().expires_at(deadline);
    if (!watch_peer) {
      co_await conn.timer().async_wait(token);
      continue;
    }
    auto timer_wait = conn.timer().async_wait(token);
    auto peer_wait = conn.socket().async_wait(asio::ip::tcp::socket::wait_read, token);
    auto either = std::move(timer_wait) || std::move(peer_wait);
    const auto result = co_await std::move(either);
    if (result.index() == 1) {
      const auto [ec] = std::get<1>(result);
      if (ec) co_return hold_end::peer_closed;
      bool would_block = false;
      if (peer_gone(conn.socket(), would_block)) co_return hold_end::peer_closed;
      if (!would_block) watch_peer = false;  // pipelined bytes: leave them for the next read
    }
  }
}

// After an error answer that closes: stop sending, then drain what the client still sends (bounded), so our
// close does not turn into an RST that could destroy the answer in the client's receive queue (Go does this too).
asio::awaitable<void> lingering_close(consul_test_server::impl& server, connection_base& conn) {
  asio::error_code ignored;
  conn.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  const auto deadline = clock::now() + std::chrono::milliseconds(500);
  std::array<char, 4096> sink;
  while (!server.stopping_ && clock::now() < deadline) {
    conn.timer().expires_at(deadline);
    auto drain = conn.socket().async_read_some(asio::buffer(sink), token);
    auto timeout = conn.timer().async_wait(token);
    auto either = std::move(drain) || std::move(timeout);
    const auto result = co_await std::move(either);
    if (result.index() == 1 || std::get<0>(std::get<0>(result))) break;
  }
}

template <class Stream>
asio::awaitable<bool> send(connection<Stream>& conn, const http_response& r, bool keep_alive) {
  const std::string head = serialize_head(r, !keep_alive);
  const std::array<asio::const_buffer, 2> wire{asio::buffer(head), asio::buffer(r.body)};
  const auto [ec, n] = co_await asio::async_write(conn.stream(), wire, token);
  co_return !ec && keep_alive;
}

// Rewrites a normal answer as a body or index fault says.
void apply_fault(const fault& f, http_response& r, std::uint64_t last_index_sent) {
  switch (f.kind) {
    case fault_kind::malformed_json:
      r.status = 200;
      r.json = true;
      r.body = f.body.empty() ? std::string(malformed_default) : f.body;
      break;
    case fault_kind::truncated_json:
      r.body.resize(r.body.size() > 1 ? r.body.size() / 2 : 0);  // "[]" keeps "["
      break;
    case fault_kind::lying_content_length:
      r.extra_claimed_bytes = 100;
      break;
    case fault_kind::index_regress:
      if (r.index) r.index = std::to_string(f.index != 0 ? f.index : std::max<std::uint64_t>(last_index_sent / 2, 1));
      break;
    case fault_kind::index_zero:
      if (r.index) r.index = "0";
      break;
    default:
      break;
  }
}

// Answers one request; false when the connection must close.
template <class Stream>
asio::awaitable<bool> handle(consul_test_server::impl& server, connection<Stream>& conn, const http_request& req,
                             std::string_view body) {
  server.stats_.record(req, classify(req.path));
  const std::optional<fault> f = server.faults_.take(req.path);
  if (f) {
    switch (f->kind) {
      case fault_kind::http_status: {
        http_response r;
        r.status = f->status;
        r.body = f->body;
        r.json = false;
        co_return co_await send(conn, r, req.keep_alive);
      }
      case fault_kind::drop_connection:
        co_return false;
      case fault_kind::delay: {
        const hold_end end = co_await hold(server, conn, nullptr, clock::now() + f->delay);
        if (end != hold_end::deadline) co_return false;
        break;
      }
      default:
        break;
    }
  }

  auto prepared = is_agent_path(req.path) ? std::variant<http_response, query_plan>(server.agent().answer(req, body))
                                           : prepare_query(req, server.options_, server.rng_);
  http_response r;
  if (auto* plan = std::get_if<query_plan>(&prepared)) {
    waiter w{&plan->watch, plan->min_index, &conn.timer()};
    const bool answer_now = plan->min_index == 0 || server.read_state([&](const cluster_state& s) {
      return reported_index(*plan, s) > plan->min_index;
    });
    if (!answer_now && !server.index_moved(w)) {
      const auto deadline = clock::now() + plan->wait;
      server.waiters_.push_back(&w);
      const auto registered = std::prev(server.waiters_.end());
      server.stats_.hold_started();
      const hold_end end = co_await hold(server, conn, &w, deadline);
      server.waiters_.erase(registered);
      server.stats_.hold_ended();
      if (end == hold_end::peer_closed || end == hold_end::stopping) co_return false;
    }
    r = server.read_state(
        [&](const cluster_state& s) { return answer_query(*plan, s, server.options_, conn.take_body_buffer()); });
  } else {
    r = std::move(std::get<http_response>(prepared));
  }

  if (f) apply_fault(*f, r, server.last_index_sent_.load());
  if (r.index && (!f || (f->kind != fault_kind::index_regress && f->kind != fault_kind::index_zero))) {
    server.last_index_sent_.store(std::stoull(*r.index));
  }
  if (f && f->kind == fault_kind::lying_content_length) {
    co_await send(conn, r, true);
    co_return false;
  }
  const bool keep_going = co_await send(conn, r, req.keep_alive);
  conn.keep_body_buffer(std::move(r.body));
  co_return keep_going;
}

template <class Stream>
asio::awaitable<void> serve(consul_test_server::impl& server, std::shared_ptr<connection<Stream>> conn) {
  if constexpr (!std::is_same_v<Stream, asio::ip::tcp::socket>) {
    const auto [ec] = co_await conn->stream().async_handshake(asio::ssl::stream_base::server, token);
    if (ec) co_return;
  }
  std::string buffer;
  while (!server.stopping_) {
    const auto [ec, n] =
        co_await asio::async_read_until(conn->stream(), asio::dynamic_buffer(buffer, max_head_bytes), "\r\n\r\n", token);
    if (ec == asio::error::not_found) {
      http_response r;
      r.status = 431;
      r.json = false;
      r.body = "431 Request Header Fields Too Large";
      co_await send(*conn, r, false);
      co_await lingering_close(server, *conn);
      co_return;
    }
    if (ec || server.stopping_) co_return;

    std::optional<http_request> req = parse_request_head(std::string_view(buffer).substr(0, n - 4));
    buffer.erase(0, n);
    if (!req || req->content_length > max_body_bytes) {
      http_response r;
      r.status = 400;
      r.json = false;
      r.body = "400 Bad Request";
      co_await send(*conn, r, false);
      co_await lingering_close(server, *conn);
      co_return;
    }
    if (buffer.size() < req->content_length) {  // the GET APIs ignore bodies, but must step over them
      const std::size_t missing = req->content_length - buffer.size();
      const auto [read_ec, m] =
          co_await asio::async_read(conn->stream(), asio::dynamic_buffer(buffer), asio::transfer_exactly(missing), token);
      if (read_ec) co_return;
    }
    const std::string body = buffer.substr(0, req->content_length);  // the agent's PUTs read theirs
    buffer.erase(0, req->content_length);

    const bool keep_going = co_await handle(server, *conn, *req, body);
    if (!keep_going) co_return;
  }
}

}  // namespace

asio::awaitable<void> refuse_connection(consul_test_server::impl& server, std::shared_ptr<plain_connection> c) {
  // go-connlimit's bytes, exactly: Consul writes them when the connection is accepted, before reading anything.
  static constexpr std::string_view message =
      "Your IP is issuing too many concurrent connections, please rate limit your calls\n";
  const std::string wire = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(message.size()) + "\r\nConnection: close\r\n\r\n" + std::string(message);
  const auto [ec, n] = co_await asio::async_write(c->stream(), asio::buffer(wire), token);
  if (!ec) co_await lingering_close(server, *c);
}

asio::awaitable<void> serve_connection(consul_test_server::impl& server, std::shared_ptr<plain_connection> c) {
  return serve(server, std::move(c));
}

asio::awaitable<void> serve_connection(consul_test_server::impl& server, std::shared_ptr<tls_connection> c) {
  return serve(server, std::move(c));
}

}  // namespace coalias::testing::detail
