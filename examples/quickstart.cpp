// The first program to read: a sidecar whose health check mirrors the web service, on one io_context.
#include <coalias/coalias.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <iostream>

using coalias::status;

asio::awaitable<void> run(coalias::agent& node) {
  // The sidecar's check mirrors service "web": critical if any web check is, else warning, else passing.
  coalias::alias_definition mirror;
  mirror.check_id = "sidecar:alias";
  mirror.name = "Mirrors web";
  mirror.service_id = "web-sidecar";
  mirror.target.service_id = "web";
  co_await node.async_add(mirror, asio::use_awaitable);

  // Pipelines co_await health changes instead of polling.
  auto sidecar = node.watch("sidecar:alias");
  auto now = co_await sidecar.async_until(status::passing, asio::use_awaitable);
  std::cout << to_string(now->status) << ": " << now->output << '\n';

  node.state().update_check("web:http", status::critical, "HTTP GET /health: 503 Service Unavailable");
  now = co_await sidecar.async_until(status::critical, asio::use_awaitable);
  std::cout << to_string(now->status) << ": " << now->output << '\n';

  co_await node.async_shutdown(asio::use_awaitable);  // returns once every alias task has ended
}

int main() {
  asio::io_context io;
  coalias::agent node(io.get_executor(), "node-1");  // owns the local state, the aliases and their tasks
  node.state().add_service({"web", "web"});
  node.state().add_service({"web-sidecar", "web-sidecar"});
  coalias::health_check http;
  http.check_id = "web:http";
  http.name = "web HTTP";
  http.service_id = "web";
  http.status = status::passing;
  node.state().add_check(http);

  asio::co_spawn(io, run(node), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
}
