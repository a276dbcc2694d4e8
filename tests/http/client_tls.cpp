// HTTPS: verification on by default, CA files, verify=false, server_name, client certificates.
#include "http/client.hpp"

#include "http_test.hpp"
#include "tls_server.hpp"

using namespace coalias;
using coalias::test::to;

TEST_CASE("an https GET verified against ca_file succeeds") {
  test::tls_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url());
  req.tls.ca_file = test::certificate::get().cert;
  const auto out = test::get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 200);
  CHECK(out.response.body == "tls ok");
}

TEST_CASE("verification is on by default: an unknown CA fails with CURLE_PEER_FAILED_VERIFICATION") {
  test::tls_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = test::get(client, to(server.url()));
  CHECK(out.ec == http::make_curl_error(CURLE_PEER_FAILED_VERIFICATION));
  CHECK_FALSE(out.response.error_detail.empty());
}

TEST_CASE("verify=false accepts an unknown CA") {
  test::tls_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url());
  req.tls.verify = false;
  const auto out = test::get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "tls ok");
}

TEST_CASE("server_name is the name sent and verified while connecting to the URL's address") {
  test::tls_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url());
  req.tls.ca_file = test::certificate::get().cert;
  req.tls.server_name = "consul.test";  // not resolvable: success proves the connection went to 127.0.0.1
  auto out = test::get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "tls ok");

  req.tls.server_name = "wrong.test";  // the certificate doesn't name it
  out = test::get(client, req);
  CHECK(out.ec == http::make_curl_error(CURLE_PEER_FAILED_VERIFICATION));
}

TEST_CASE("a client certificate is presented when the server requires one") {
  const auto& cert = test::certificate::get();
  test::tls_server server(cert.cert);
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url());
  req.tls.ca_file = cert.cert;
  auto refused = test::get(client, req);
  CHECK(refused.ec);
  CHECK(refused.ec.category() == http::curl_category());

  req.tls.cert_file = cert.cert;
  req.tls.key_file = cert.key;
  const auto out = test::get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "tls ok");
}
