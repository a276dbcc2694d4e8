// The first program to read: a sidecar whose health check mirrors the web service, on one io_context.
#include <coalias/coalias.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <iostream>

using coalias::status;

asio::awaitable<void> run(coalias::local_state& agent, coalias::alias_registry& aliases) {
  // The sidecar's check mirrors service "web": critical if any web check is, else warning, else passing.
  coalias::alias_definition mirror;
  mirror.check_id = "sidecar:alias";
  mirror.name = "Mirrors web";
  mirror.service_id = "web-sidecar";
  mirror.target.service_id = "web";
  co_await aliases.async_add(mirror, asio::use_awaitable);

  // Pipelines co_await health changes instead of polling.
  coalias::check_watch sidecar(agent, "sidecar:alias", co_await asio::this_coro::executor);
  auto now = co_await sidecar.until(status::passing);
  std::cout << to_string(now->status) << ": " << now->output << '\n';

  agent.update_check("web:http", status::critical, "HTTP GET /health: 503 Service Unavailable");
  now = co_await sidecar.until(status::critical);
  std::cout << to_string(now->status) << ": " << now->output << '\n';

  co_await aliases.async_shutdown(asio::use_awaitable);  // returns once every alias task has ended
}

int main() {
  coalias::local_state agent("node-1");  // outlives the io_context below, so no task outlives it
  agent.add_service({"web", "web"});
  agent.add_service({"web-sidecar", "web-sidecar"});
  coalias::health_check http;
  http.check_id = "web:http";
  http.name = "web HTTP";
  http.service_id = "web";
  http.status = status::passing;
  agent.add_check(http);

  asio::io_context io;
  coalias::alias_registry aliases(io.get_executor(), agent);
  asio::co_spawn(io, run(agent, aliases), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
}
