// The per-client-IP connection cap, as Consul's `limits.http_max_conns_per_client` (default 200): one connection
// more gets go-connlimit's 429 over plain HTTP and is closed; over TLS it is closed without a handshake.
#include "fixture.hpp"
#include "raw_http.hpp"
#include "temp_cert.hpp"

#include <asio/ssl.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <list>

using namespace coalias::testing;
using namespace coalias::testing::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* too_many =
    "Your IP is issuing too many concurrent connections, please rate limit your calls\n";

// `n` connections on one io_context (a raw_client each would cost an io_context each), each answered once, so
// the server has admitted all of them before the test goes on.
struct connections {
  asio::io_context io;
  std::list<asio::ip::tcp::socket> sockets;

  connections(std::uint16_t port, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto& s = sockets.emplace_back(io);
      s.connect({asio::ip::make_address_v4("127.0.0.1"), port});
    }
    for (auto& s : sockets) {
      asio::write(s, asio::buffer(request_bytes("GET", "/v1/catalog/node/db-7")));
      std::string buffer;
      const auto r = read_response(s, buffer);
      REQUIRE(r);
      REQUIRE(r->status == 200);
    }
  }
};

}  // namespace

TEST_CASE("connection 201 from one IP gets Consul's 429 and is closed; a freed slot serves again") {
  consul_test_server server;
  populate(server);
  connections open(server.port(), 200);
  CHECK(server.open_connections() == 200);

  raw_client extra(server.port());
  extra.send("GET", "/v1/health/node/db-7");
  const auto r = extra.read();
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->reason == "Too Many Requests");
  CHECK(r->header("Content-Type") == "text/plain");
  CHECK(r->header("Connection") == "close");
  CHECK(r->header("Content-Length") == "81");  // go-connlimit: the message and its newline
  CHECK(r->body == too_many);
  CHECK_FALSE(r->header("X-Consul-Index"));
  CHECK(extra.closed_by_peer());
  CHECK(server.connections_refused() == 1);
  CHECK(server.connections_accepted() == 201);
  CHECK(server.open_connections() == 200);
  CHECK(server.peak_connections() == 200);
  CHECK(server.requests_to(endpoint::health_node) == 0);  // refused before any request is read

  open.sockets.front().close();
  REQUIRE(server.wait_for_open_connections(199, 5s));
  raw_client again(server.port());
  CHECK(again.get("/v1/health/node/db-7").status == 200);
}

TEST_CASE("the cap is configurable, and 0 turns it off") {
  server_options options;
  options.max_conns_per_client = 3;
  consul_test_server server(options);
  populate(server);
  connections open(server.port(), 3);
  raw_client fourth(server.port());
  fourth.send("GET", "/v1/health/node/db-7");
  const auto r = fourth.read();
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->body == too_many);

  server_options unlimited;
  unlimited.max_conns_per_client = 0;
  consul_test_server open_server(unlimited);
  populate(open_server);
  connections many(open_server.port(), 210);
  CHECK(open_server.open_connections() == 210);
  CHECK(open_server.connections_refused() == 0);
}

TEST_CASE("over TLS, a connection beyond the cap is closed without a handshake or an answer") {
  coalias::test::temp_cert files;
  server_options options;
  options.tls_cert_file = files.cert_file;
  options.tls_key_file = files.key_file;
  options.max_conns_per_client = 2;
  consul_test_server server(options);
  populate(server);

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(files.cert_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  std::list<asio::ssl::stream<asio::ip::tcp::socket>> admitted;
  for (int i = 0; i < 2; ++i) {
    auto& s = admitted.emplace_back(io, ctx);
    s.next_layer().connect({asio::ip::make_address_v4("127.0.0.1"), server.port()});
    s.handshake(asio::ssl::stream_base::client);
  }
  REQUIRE(server.wait_for_open_connections(2, 5s));

  asio::ssl::stream<asio::ip::tcp::socket> third(io, ctx);
  third.next_layer().connect({asio::ip::make_address_v4("127.0.0.1"), server.port()});
  asio::error_code ec;
  third.handshake(asio::ssl::stream_base::client, ec);
  CHECK(ec);  // the server closed: no ServerHello, no HTTP bytes
  std::string rest;
  CHECK(peer_closed(third.next_layer(), rest));
  CHECK(rest.empty());
  CHECK(server.connections_refused() == 1);
  CHECK(server.open_connections() == 2);

  // The admitted ones are served as usual.
  std::string buffer;
  asio::write(admitted.front(), asio::buffer(request_bytes("GET", "/v1/health/node/db-7")));
  const auto r = read_response(admitted.front(), buffer);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == db7_health_body);
}
