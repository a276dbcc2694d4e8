#include "demo.hpp"

#include "output.hpp"

#include <coalias/remote_hub.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

namespace coalias::watch_cli {
namespace {

using server = testing::consul_test_server;
constexpr const char* node = "web-1";
constexpr const char* service_id = "web";

health_check web_check(std::string id, std::string name, status s, std::string output) {
  health_check c;
  c.node = node;
  c.check_id = std::move(id);
  c.name = std::move(name);
  c.status = s;
  c.output = std::move(output);
  c.service_id = service_id;
  c.service_name = "web";
  return c;
}

health_check serf(status s, std::string output) {
  health_check c;
  c.node = node;
  c.check_id = "serfHealth";
  c.name = "Serf Health Status";
  c.status = s;
  c.output = std::move(output);
  return c;
}

struct step {
  const char* what;
  std::function<void(server&)> change;
};

std::vector<step> script() {
  return {
      {"web answers 429", [](server& s) { s.update_check_status(node, "service:web", status::warning, "HTTP GET /health: 429 Too Many Requests"); }},
      {"web answers 503", [](server& s) { s.update_check_status(node, "service:web", status::critical, "HTTP GET /health: 503 Service Unavailable"); }},
      {"web recovers", [](server& s) { s.update_check_status(node, "service:web", status::passing, "HTTP GET /health: 200 OK"); }},
      {"web enters maintenance", [](server& s) {
         s.set_check(web_check("_service_maintenance:web", "Service Maintenance Mode", status::critical,
                               "Maintenance mode is enabled for this service"), "");
       }},
      {"web leaves maintenance", [](server& s) { s.remove_check(node, "_service_maintenance:web"); }},
      {"node loses serf", [](server& s) { s.update_check_status(node, "serfHealth", status::critical, "Agent not live or unreachable"); }},
      {"node rejoins", [](server& s) { s.update_check_status(node, "serfHealth", status::passing, "Agent alive and reachable"); }},
  };
}

void print(std::FILE* out, const std::string& line) {
  std::fputs(line.c_str(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

asio::awaitable<void> play(server& consul, remote_hub::watcher& w, std::FILE* out, std::chrono::milliseconds pause) {
  using namespace asio::experimental::awaitable_operators;
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto first = co_await w.async_next(asio::use_awaitable);
  print(out, plain_line(first));
  for (const auto& s : script()) {
    timer.expires_after(pause);
    co_await timer.async_wait(asio::use_awaitable);
    print(out, std::string("# ") + s.what);
    s.change(consul);
    // Every step changes the alias; the guard only keeps a lost change from hanging the demo.
    timer.expires_after(std::chrono::seconds(5));
    auto next = w.async_next(asio::use_awaitable);
    auto guard = timer.async_wait(asio::use_awaitable);
    auto got = co_await (std::move(next) || std::move(guard));
    if (got.index() == 0) print(out, plain_line(std::get<0>(got)));
    else print(out, "# (no change seen within 5s)");
  }
  print(out, "# demo done");
}

}  // namespace

asio::awaitable<int> run_demo(asio::signal_set& stop, std::FILE* out, std::chrono::milliseconds step) {
  using namespace asio::experimental::awaitable_operators;
  const auto ex = co_await asio::this_coro::executor;
  server consul;
  consul.add_node(node);
  consul.add_service(node, service{service_id, "web"}, {"demo"}, 8080);
  consul.set_check(serf(status::passing, "Agent alive and reachable"));
  consul.set_check(web_check("service:web", "web HTTP health", status::passing, "HTTP GET /health: 200 OK"));

  consul_config config;
  config.address = consul_address::parse(consul.address());
  remote_options fast;
  fast.min_request_spacing = std::chrono::milliseconds(10);
  remote_hub hub(ex, config, fast);
  print(out, "# coalias-watch demo: a test Consul at " + consul.url() + "; following service \"" + service_id +
                 "\" on node \"" + node + "\" through blocking queries");
  {
    remote_hub::watcher w(hub, alias_target{node, service_id}, ex);
    auto script_run = play(consul, w, out, step);
    auto signalled = stop.async_wait(asio::use_awaitable);
    co_await (std::move(script_run) || std::move(signalled));
  }
  co_await hub.async_shutdown(asio::use_awaitable);
  co_return 0;
}

}  // namespace coalias::watch_cli
