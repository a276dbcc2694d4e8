// The README's demo: an in-process agent with a `web` service and a sidecar whose alias check mirrors it.
// It walks web through failures, maintenance and deregistration, and prints every transition of the alias
// with the time it took to propagate. No Consul needed.
//
//   coalias-demo [--step-ms N]      pause between steps (default 400)
#include <coalias/coalias.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

using coalias::status;
using clock_type = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

struct step {
  const char* what;
  std::function<void(coalias::local_state&)> change;
};

coalias::health_check web_http(status s, std::string output) {
  coalias::health_check c;
  c.check_id = "service:web";
  c.name = "web HTTP health";
  c.service_id = "web";
  c.service_name = "web";
  c.status = s;
  c.output = std::move(output);
  return c;
}

std::vector<step> script() {
  using S = coalias::local_state;
  return {
      {"web answers 429", [](S& a) { a.update_check("service:web", status::warning, "HTTP GET /health: 429 Too Many Requests"); }},
      {"web answers 503", [](S& a) { a.update_check("service:web", status::critical, "HTTP GET /health: 503 Service Unavailable"); }},
      {"web recovers", [](S& a) { a.update_check("service:web", status::passing, "HTTP GET /health: 200 OK"); }},
      {"web enters maintenance", [](S& a) {
         auto m = web_http(status::critical, "Maintenance mode is enabled for this service");
         m.check_id = "_service_maintenance:web";
         m.name = "Service Maintenance Mode";
         a.add_check(m);
       }},
      {"web leaves maintenance", [](S& a) { a.remove_check("_service_maintenance:web"); }},
      {"node loses serf", [](S& a) { a.update_check("serfHealth", status::critical, "Agent not live or unreachable"); }},
      {"node rejoins", [](S& a) { a.update_check("serfHealth", status::passing, "Agent alive and reachable"); }},
      {"web deregistered", [](S& a) { a.remove_service("web"); }},
      {"web registered again", [](S& a) {
         a.add_service({"web", "web"});
         a.add_check(web_http(status::passing, "HTTP GET /health: 200 OK"));
       }},
  };
}

void print_row(const char* what, const coalias::health_check& alias, const std::string& took) {
  std::printf("%-24s %-9s %10s   %s\n", what, std::string(to_string(alias.status)).c_str(), took.c_str(),
              alias.output.c_str());
  std::fflush(stdout);
}

std::string micros(clock_type::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", std::chrono::duration<double, std::micro>(d).count());
  return buf;
}

asio::awaitable<void> play(coalias::agent& node, std::chrono::milliseconds pause) {
  const auto ex = co_await asio::this_coro::executor;
  coalias::alias_definition mirror;
  mirror.check_id = "web-sidecar-proxy:alias";
  mirror.name = "Connect Sidecar Aliasing web";
  mirror.service_id = "web-sidecar-proxy";
  mirror.target.service_id = "web";
  co_await node.async_add(mirror, asio::use_awaitable);

  auto sidecar = node.watch(mirror.check_id);
  const auto first = co_await sidecar.async_until(status::passing, asio::use_awaitable);
  std::printf("%-24s %-9s %10s   %s\n", "step", "alias", "propagated", "alias output");
  print_row("(start)", *first, "-");

  asio::steady_timer timer(ex);
  for (const auto& s : script()) {
    timer.expires_after(pause);
    co_await timer.async_wait(asio::use_awaitable);
    const auto t0 = clock_type::now();
    s.change(node.state());
    const auto seen = co_await sidecar.async_next(asio::use_awaitable);  // every step of the script changes the alias
    print_row(s.what, *seen, micros(clock_type::now() - t0));
  }
}

asio::awaitable<void> until_signal() {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
}

// The script, or a signal, whichever ends first; then every alias stops before the agent goes.
asio::awaitable<void> run(coalias::agent& node, std::chrono::milliseconds pause) {
  co_await (play(node, pause) || until_signal());
  co_await node.async_shutdown(asio::use_awaitable);
}

bool parse_args(int argc, char** argv, std::chrono::milliseconds& pause) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--step-ms" && i + 1 < argc) {
      const std::string_view v = argv[++i];
      int ms = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
      if (ec != std::errc{} || end != v.data() + v.size() || ms < 0 || ms > 60000) {
        std::fprintf(stderr, "coalias-demo: --step-ms wants 0..60000, got '%s'\n", argv[i]);
        return false;
      }
      pause = std::chrono::milliseconds(ms);
    } else {
      std::fprintf(stderr, "coalias-demo: unknown argument '%s' (usage: coalias-demo [--step-ms N])\n", argv[i]);
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::chrono::milliseconds pause(400);
  if (!parse_args(argc, argv, pause)) return 64;

  asio::io_context io;
  coalias::agent node(io.get_executor(), "demo-node");
  auto& agent = node.state();
  agent.add_service({"web", "web"});
  agent.add_service({"web-sidecar-proxy", "web-sidecar-proxy"});
  agent.add_check(web_http(status::passing, "HTTP GET /health: 200 OK"));
  coalias::health_check serf;
  serf.check_id = "serfHealth";
  serf.name = "Serf Health Status";
  serf.status = status::passing;
  serf.output = "Agent alive and reachable";
  agent.add_check(serf);

  std::printf("coalias demo: on node demo-node, sidecar web-sidecar-proxy mirrors service web through an alias\n\n");
  int rc = 0;
  asio::co_spawn(io, run(node, pause), [&](std::exception_ptr e) {
    if (!e) return;
    rc = 1;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "coalias-demo: %s\n", ex.what());
    }
  });
  io.run();
  return rc;
}
