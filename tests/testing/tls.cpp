// HTTPS: the same endpoints over TLS, verified against a certificate made for this run.
#include "fixture.hpp"
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

namespace {

// A self-signed P-256 certificate for IP 127.0.0.1, valid from an hour ago for a day (no clock-skew traps).
struct temp_cert {
  std::filesystem::path dir;
  std::string cert_file;
  std::string key_file;

  temp_cert() {
    dir = std::filesystem::temp_directory_path() / ("coalias-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    cert_file = (dir / "cert.pem").string();
    key_file = (dir / "key.pem").string();

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    REQUIRE(key);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    REQUIRE(san);
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

    FILE* f = std::fopen(cert_file.c_str(), "w");
    REQUIRE(f);
    PEM_write_X509(f, cert.get());
    std::fclose(f);
    f = std::fopen(key_file.c_str(), "w");
    REQUIRE(f);
    PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  ~temp_cert() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

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
