// Links the installed test server library (coalias-testing.pc, coalias::testing): starts the server, adds a node,
// stops it. Exits 0 when all of that works.
#include <coalias/testing/consul_test_server.hpp>

#include <cstdio>

int main() {
  coalias::testing::consul_test_server server;
  server.add_node("node-1");
  if (server.port() == 0 || !server.find_node("node-1")) {
    std::puts("test server: node-1 missing");
    return 1;
  }
  std::printf("test server: listened on %s\n", server.url().c_str());
  server.stop();
}
