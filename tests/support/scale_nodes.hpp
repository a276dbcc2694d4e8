// Nodes for scale tests, over any transport: node i runs service svc with one check, its alias is alias-i, and
// a flip takes that check critical and back, waiting each time for the alias to show it.
#pragma once

#include "remote_fixture.hpp"

#include <asio/io_context.hpp>

#include <string>

namespace coalias::test {

inline std::string node_name(int i) { return "node-" + std::to_string(i); }
inline std::string alias_name(int i) { return "alias-" + std::to_string(i); }

// Node `node_name(i)` with serfHealth and service svc with one check, both passing.
inline void add_node(testing::consul_test_server& server, int i) {
  server.add_service(node_name(i), {"svc", "svc"});
  server.set_check(remote_check(node_name(i), "serfHealth", status::passing, "", "alive", "Serf Health Status"));
  server.set_check(remote_check(node_name(i), "service:svc", status::passing, "svc", "up", "svc check"));
}

// Flips node i's service check to critical and waits for its alias to show it, then back to passing.
inline asio::awaitable<void> flip(testing::consul_test_server& server, local_state& state, asio::io_context& io,
                                  int i) {
  check_watch watch(state, alias_name(i), io.get_executor());
  server.update_check_status(node_name(i), "service:svc", status::critical, "down");
  co_await expect_check(watch, status::critical, "Aliased check \"svc check\" failing: down");
  server.update_check_status(node_name(i), "service:svc", status::passing, "up");
  co_await expect_check(watch, status::passing, "All checks passing.");
}

}  // namespace coalias::test
