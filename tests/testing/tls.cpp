// HTTPS: the same endpoints over TLS, verified against a certificate made for this run.
#include "fixture.hpp"
#include "temp_cert.hpp"
#include "raw_http.hpp"

#include <asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

using namespace coalias::testing;
using namespace coalias::testing::test;
using coalias::test::temp_cert;

namespace {

using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

}  // namespace

TEST_CASE("HTTPS serves the endpoints to a verifying client") {
  temp_cert files;
  server_options options;
  options.tls_cert_file = files.cert_file;
  options.tls_key_file = files.key_file;
  options.acl_token = "t";
  consul_test_server server(options);
  populate(server);
  CHECK(server.url() == "https://127.0.0.1:" + std::to_string(server.port()));

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(files.cert_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  tls_stream stream(io, ctx);
  stream.next_layer().connect({asio::ip::make_address_v4("127.0.0.1"), server.port()});
  stream.handshake(asio::ssl::stream_base::client);

  std::string buffer;
  for (int i = 0; i < 2; ++i) {  // keep-alive over TLS
    asio::write(stream, asio::buffer(request_bytes("GET", "/v1/health/node/db-7", {{"X-Consul-Token", "t"}})));
    const auto r = read_response(stream, buffer);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == db7_health_body);
    CHECK(r->header("X-Consul-Index") == "14");
  }
  asio::write(stream, asio::buffer(request_bytes("GET", "/v1/catalog/node/db-7?index=12&wait=50ms",
                                                 {{"Authorization", "Bearer t"}})));
  const auto held = read_response(stream, buffer);
  REQUIRE(held);
  CHECK(held->body == db7_catalog_body);
  CHECK(server.open_connections() == 1);
}

TEST_CASE("an HTTPS server rejects a client that does not trust its certificate") {
  temp_cert files;
  server_options options;
  options.tls_cert_file = files.cert_file;
  options.tls_key_file = files.key_file;
  consul_test_server server(options);

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);  // no CA loaded
  tls_stream stream(io, ctx);
  stream.next_layer().connect({asio::ip::make_address_v4("127.0.0.1"), server.port()});
  asio::error_code ec;
  stream.handshake(asio::ssl::stream_base::client, ec);
  CHECK(ec);
  stream.next_layer().close();
  CHECK(server.wait_for_open_connections(0, std::chrono::seconds(2)));
}

TEST_CASE("missing TLS files fail at construction") {
  server_options options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  CHECK_THROWS_AS(consul_test_server(options), std::system_error);
}
