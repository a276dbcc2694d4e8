// Tokens stay in headers, TLS verifies by default, and node names cannot escape their path segment.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>
#include <coalias/error.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"
#include "temp_cert.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;
using testing::fault;

namespace {

const std::string secret = "5e3c2f1a-acl-token-do-not-leak";

testing::server_options acl_server() {
  testing::server_options o;
  o.acl_token = secret;
  return o;
}

// Runs one alias of db-1/pg-1 until it shows `s` and an output starting with `prefix`; returns that output.
asio::awaitable<std::string> run_alias(remote_fixture& f, asio::io_context& io, consul_config cfg,
                                       alias_definition def, status s, std::string prefix) {
  remote_session session(io, f.state, std::move(cfg), remote_fixture::fast());
  check_watch watch(f.state, def.check_id, io.get_executor());
  co_await session.registry.async_add(def, asio::use_awaitable);
  std::string output;
  for (;;) {
    const auto c = co_await watch.async_next(asio::use_awaitable);
    if (c && c->status == s && c->output.rfind(prefix, 0) == 0) {
      output = c->output;
      break;
    }
  }
  co_await session.close();
  co_return output;
}

}  // namespace

TEST_CASE("the token travels only in the X-Consul-Token header") {
  remote_fixture f(acl_server());
  auto cfg = f.config();
  cfg.token = secret;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto out = co_await run_alias(f, io, cfg, remote_fixture::remote_alias("db-1", "pg-1"), status::passing,
                                        "All checks passing.");
    CHECK(out == "All checks passing.");
  });
  const auto requests = f.server.recent_requests();
  REQUIRE_FALSE(requests.empty());
  for (const auto& r : requests) {
    INFO(r.target);
    CHECK(r.target.find(secret) == std::string::npos);
    CHECK(r.target.find("token") == std::string::npos);
    CHECK(r.header("X-Consul-Token") == secret);
    CHECK_FALSE(r.header("Authorization").has_value());
  }
  CHECK(describe(cfg).find(secret) == std::string::npos);
}

TEST_CASE("a per-alias token overrides the configured one") {
  remote_fixture f(acl_server());
  auto def = remote_fixture::remote_alias("db-1", "pg-1");
  def.token = secret;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto out = co_await run_alias(f, io, f.config(), def, status::passing, "All checks passing.");
    CHECK(out == "All checks passing.");
  });
}

TEST_CASE("a wrong token is a failure whose output never shows a token") {
  remote_fixture f(acl_server());
  auto cfg = f.config();
  cfg.token = "wrong-" + secret;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto out = co_await run_alias(f, io, cfg, remote_fixture::remote_alias("db-1", "pg-1"), status::critical,
                                        "Failure checking");
    CHECK(out == "Failure checking aliased node or service: Unexpected response code: 403 (ACL not found)");
  });
}

TEST_CASE("a server that echoes the token in an error gets it redacted") {
  remote_fixture f;
  auto cfg = f.config();
  cfg.token = secret;
  f.server.inject(fault::with_status(500, "rejected token " + secret + " for node").persistent());
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto out = co_await run_alias(f, io, cfg, remote_fixture::remote_alias("db-1", "pg-1"), status::critical,
                                        "Failure checking");
    CHECK(out ==
          "Failure checking aliased node or service: Unexpected response code: 500 (rejected token <redacted> for node)");
  });
}

TEST_CASE("TLS: verified against the configured CA, refused otherwise, off only when asked") {
  temp_cert server_cert("server"), stranger("stranger");
  testing::server_options options;
  options.tls_cert_file = server_cert.cert_file;
  options.tls_key_file = server_cert.key_file;
  remote_fixture f(options);
  auto https = f.config();
  https.address = consul_address::parse("https://" + f.server.address());
  CHECK(https.tls.verify);  // on by default

  auto trusted = https;
  trusted.tls.ca_file = server_cert.cert_file;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto ok = co_await run_alias(f, io, trusted, remote_fixture::remote_alias("db-1", "pg-1"), status::passing,
                                       "All checks passing.");
    CHECK(ok == "All checks passing.");
  });

  auto wrong_ca = https;
  wrong_ca.tls.ca_file = stranger.cert_file;  // a certificate not signed by the configured CA
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto out = co_await run_alias(f, io, wrong_ca, remote_fixture::remote_alias("db-1", "pg-1"),
                                        status::critical, "Failure checking aliased node or service: ");
    CHECK(out.find("certificate") != std::string::npos);
  });

  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {  // the system roots do not know it either
    const auto out = co_await run_alias(f, io, https, remote_fixture::remote_alias("db-1", "pg-1"), status::critical,
                                        "Failure checking aliased node or service: ");
    CHECK(out.find("certificate") != std::string::npos);
  });

  auto unverified = https;
  unverified.tls.verify = false;  // explicit
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    const auto ok = co_await run_alias(f, io, unverified, remote_fixture::remote_alias("db-1", "pg-1"),
                                       status::passing, "All checks passing.");
    CHECK(ok == "All checks passing.");
  });
}

TEST_CASE("node names are percent-encoded into one path segment") {
  for (const std::string node : {"a b/c?d#e%f", "../agent/self", "%2e%2e", "x?y", "x#y", "line\nbreak"}) {
    remote_fixture f;
    f.server.add_node(node);
    f.server.add_service(node, {"web", "web"});
    f.server.set_check(remote_check(node, "service:web", status::passing, "web", "ok", "web"));
    run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
      const auto out = co_await run_alias(f, io, f.config(), remote_fixture::remote_alias(node, "web"),
                                          status::passing, "All checks passing.");
      CHECK(out == "All checks passing.");
    });
    for (const auto& r : f.server.recent_requests()) {
      INFO(r.target);
      const auto path = r.target.substr(0, r.target.find('?'));
      CHECK((path.rfind("/v1/health/node/", 0) == 0 || path.rfind("/v1/catalog/node/", 0) == 0));
      CHECK(path.find('/', std::string("/v1/health/node/").size() - 1) == path.rfind('/'));  // one segment
    }
  }
  // The exact encoding, as the server received it.
  remote_fixture f;
  f.server.add_node("a b/c?d#e%f");
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    (void)co_await run_alias(f, io, f.config(), remote_fixture::remote_alias("a b/c?d#e%f", ""), status::passing,
                             "No checks found.");
  });
  const auto first = f.server.recent_requests().at(0).target;
  CHECK(first.rfind("/v1/health/node/a%20b%2Fc%3Fd%23e%25f?", 0) == 0);
}

TEST_CASE("node names that cannot be a path segment are refused, leaving no check behind") {
  remote_fixture f;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_session session(io, f.state, f.config(), remote_fixture::fast());
    for (const std::string& node : {std::string(".."), std::string("."), std::string("nul\0byte", 8)}) {
      auto def = remote_fixture::remote_alias(node, "web");
      auto [ec] = co_await session.registry.async_add(def, asio::experimental::as_tuple(asio::use_awaitable));
      CHECK(ec == errc::invalid_argument);
      CHECK(f.state.check("remote-alias") == nullptr);  // the refusal registered nothing
      CHECK(session.registry.size() == 0);
    }
    CHECK(f.server.total_requests() == 0);
    co_await session.close();
  });
}
