// A Consul test server with node db-1 (service pg-1 and its check, plus serfHealth), a local agent holding the
// alias checks, and fast loop timings so faults, backoff and recovery take milliseconds.
#pragma once

#include <coalias/alias_registry.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "local_fixture.hpp"

namespace coalias::test {

inline health_check remote_check(std::string node, std::string id, status s, std::string service = "",
                                 std::string output = "", std::string name = "") {
  auto c = make_check(std::move(id), s, std::move(service), std::move(output), std::move(name));
  c.node = std::move(node);
  return c;
}

struct remote_fixture : local_fixture {
  testing::consul_test_server server;

  remote_fixture() : remote_fixture(testing::server_options()) {}
  explicit remote_fixture(testing::server_options options) : server(std::move(options)) {
    server.add_node("db-1");
    server.add_service("db-1", {"pg-1", "postgres"});
    server.set_check(remote_check("db-1", "serfHealth", status::passing, "", "Agent alive and reachable",
                                  "Serf Health Status"));
    server.set_check(remote_check("db-1", "service:pg-1", status::passing, "pg-1", "accepting connections",
                                  "pg port"));
  }

  consul_config config() const {
    consul_config c;
    c.address = consul_address::parse(server.address());
    c.wait = std::chrono::seconds(5);
    return c;
  }

  static remote_options fast() {
    remote_options o;
    o.min_request_spacing = std::chrono::milliseconds(2);
    o.backoff_base = std::chrono::milliseconds(20);
    o.backoff_max = std::chrono::milliseconds(80);
    o.catalog_retry_delay = std::chrono::milliseconds(5);
    o.request_timeout = std::chrono::seconds(2);
    return o;
  }

  static alias_definition remote_alias(std::string node, std::string service, std::string check_id = "remote-alias") {
    auto def = alias_of(std::move(service), std::move(check_id));
    def.target.node = std::move(node);
    return def;
  }
};

/// A hub and a registry that runs remote aliases through it; `co_await close()` ends every task they own.
struct remote_session {
  remote_hub hub;
  alias_registry registry;

  remote_session(asio::io_context& io, local_state& state, consul_config cfg,
                 remote_options options = remote_fixture::fast())
      : hub(io.get_executor(), std::move(cfg), std::move(options)), registry(io.get_executor(), state, hub) {}

  asio::awaitable<void> close() {
    co_await registry.async_shutdown(asio::use_awaitable);
    co_await hub.async_shutdown(asio::use_awaitable);
  }
};

}  // namespace coalias::test
