// Remote alias benches against the in-process Consul-compatible test server on loopback (as strict as Consul: a
// held query returns only when its node's checks change), every client with default settings: propagation
// latency of a flip on the server to every alias of that node, the same at scale (one alias per node, 10 to
// 1,000 nodes; `--max` adds 10,000 over both) over HTTP/1.1 and over h2 (through nghttpx, a TLS h2 frontend with Consul's
// 250 streams per connection, started here; without nghttpx the h2 lines are left out, said on stderr), client
// memory per remote alias, and stop latency of an alias whose blocking query is in flight. Prints one JSON object
// per line; well under two minutes.
//
// Each flip's wait is bounded (flip_bound): a flip not seen by then counts in "missed", at the bound. Before the
// client covered every node within its connection budget, nodes queued behind held queries went unseen for up
// to `wait`; "missed" is the line that would show such a regression.
//
// The client io_context runs on this one thread; the test server runs on its own thread (or, for the memory
// bench, in a child process, so that its growth stays out of the client's resident set).
#include <coalias/alias_registry.hpp>
#include <coalias/error.hpp>
#include <coalias/local_state.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include "http/client.hpp"  // connections_opened(): the client's own count, whatever the transport
#include "nghttpx.hpp"
#include "support/bench_util.hpp"
#include "temp_cert.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace coalias;
using namespace coalias::bench;
using namespace std::chrono_literals;

namespace {

constexpr int client_threads = 1;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "bench_remote: %s\n", what.c_str());
  std::exit(1);
}

std::string node_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%04d", i);
  return buf;
}

std::string alias_id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "alias-%07d", i);  // zero-padded: appends keep the service's index sorted
  return buf;
}

health_check server_check(std::string node, std::string id, std::string name, std::string service, status s,
                          std::string output) {
  health_check c;
  c.node = std::move(node);
  c.check_id = std::move(id);
  c.name = std::move(name);
  c.service_id = service;
  c.service_name = std::move(service);
  c.status = s;
  c.output = std::move(output);
  return c;
}

// Node `name` with serfHealth and service `svc` with one check, both passing.
void add_server_node(testing::consul_test_server& server, const std::string& name) {
  server.add_node(name);
  server.add_service(name, {"svc", "svc"});
  server.set_check(server_check(name, "serfHealth", "Serf Health Status", "", status::passing, "Agent alive"));
  server.set_check(server_check(name, "service:svc", "svc check", "svc", status::passing, "up"));
}

alias_definition remote_alias(const std::string& id, const std::string& node) {
  alias_definition def;
  def.check_id = id;
  def.name = "alias";
  def.service_id = "sidecar";
  def.target.node = node;
  def.target.service_id = "svc";
  return def;
}

constexpr auto flip_bound = 2s;

// Default settings but the address (and a 30 s wait, the benches' habit; Consul's alias uses one minute).
consul_config client_config(const std::string& address) {
  consul_config c;
  c.address = consul_address::parse(address);
  c.wait = 30s;
  return c;
}

// How many blocking queries a default client can hold at once: one connection stays free for catalog look-ups.
std::size_t default_held_capacity() { return consul_config().max_connections - 1; }

// Default loop timings too: the 100 ms spacing only holds back answers that did not move the index.
remote_options client_options() { return remote_options(); }

// Runs `io` until `done()` holds; exits with `what` on stderr if that takes longer than `limit`.
void run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit,
               const std::string& what) {
  const auto deadline = clock::now() + limit;
  io.restart();
  while (!done()) {
    if (clock::now() > deadline) fail("timed out: " + what);
    io.run_for(2ms);
    io.restart();
  }
}

// How many of the sidecar's alias checks show `s`.
std::size_t count_status(const local_state& state, status s) {
  std::size_t n = 0;
  for (const auto& c : state.snapshot("sidecar").checks) n += c->status == s ? 1 : 0;
  return n;
}

// Adds aliases [first, last) with `node_of(i)` as target, then runs `io` until all are added and passing.
void add_and_settle(asio::io_context& io, alias_registry& registry, local_state& state, int first, int last,
                    const std::function<std::string(int)>& node_of) {
  int pending = last - first;
  for (int i = first; i < last; ++i) {
    registry.async_add(remote_alias(alias_id(i), node_of(i)), [&pending, i](std::error_code ec) {
      if (ec) fail("adding " + alias_id(i) + " failed: " + ec.message());
      --pending;
    });
  }
  const auto total = static_cast<std::size_t>(last);
  run_until(io, [&] { return pending == 0 && count_status(state, status::passing) == total; }, 60s,
            "aliases did not all become passing");
}

void shut_down(asio::io_context& io, alias_registry& registry, remote_hub& hub) {
  bool registry_done = false, hub_done = false;
  registry.async_shutdown([&](std::error_code) { registry_done = true; });
  run_until(io, [&] { return registry_done; }, 10s, "registry shutdown");
  hub.async_shutdown([&](std::error_code) { hub_done = true; });
  run_until(io, [&] { return hub_done; }, 10s, "hub shutdown");
}

// ---- remote_propagation ------------------------------------------------------------------------------------

void remote_propagation() {
  constexpr int nodes = 100, per_node = 100, aliases = nodes * per_node, rounds = 10;
  testing::consul_test_server server;
  for (int n = 0; n < nodes; ++n) add_server_node(server, node_name(n));

  asio::io_context io(client_threads);
  local_state state("client-node");
  state.add_service({"sidecar", "sidecar"});
  remote_hub hub(io.get_executor(), client_config(server.address()), client_options());
  alias_registry registry(io.get_executor(), state, hub);
  // Alias i watches node i % nodes, so the aliases of node n are n, n + nodes, n + 2 * nodes...
  add_and_settle(io, registry, state, 0, aliases, [](int i) { return node_name(i % nodes); });
  if (hub.watch_count() != static_cast<std::size_t>(nodes))
    fail("expected " + std::to_string(nodes) + " watches, have " + std::to_string(hub.watch_count()));
  const std::size_t held_target = std::min<std::size_t>(nodes, default_held_capacity());

  std::vector<double> samples;
  std::uint64_t requests_during_flips = 0;
  int missed = 0;
  for (int round = 0; round < rounds; ++round) {
    const int node = (round * 37) % nodes;  // a different node each round
    for (const bool down : {true, false}) {
      // Steady state first: as many blocking queries held as the client can hold.
      run_until(io, [&] { return server.held_queries() >= held_target; }, 10s, "blocking queries are not held");
      const status want = down ? status::critical : status::passing;
      std::vector<std::shared_ptr<const health_check>> mine;
      for (int k = 0; k < per_node; ++k) mine.push_back(state.check(alias_id(node + k * nodes)));
      std::size_t confirmed = 0;  // aliases [0, confirmed) of this node are known to be updated
      const auto requests_before = server.total_requests();
      const auto t0 = clock::now();
      if (!server.update_check_status(node_name(node), "service:svc", want, down ? "down" : "up"))
        fail("flip failed on the server");
      const auto deadline = t0 + flip_bound;
      bool seen = true;
      for (;;) {
        while (confirmed < mine.size()) {
          const auto now = state.check(alias_id(node + static_cast<int>(confirmed) * nodes));
          if (!now || now == mine[confirmed] || now->status != want) break;
          ++confirmed;
        }
        if (confirmed == mine.size()) break;
        if (clock::now() > deadline) {
          seen = false;
          break;
        }
        io.run_one_for(5ms);
        io.restart();
      }
      if (seen) {
        samples.push_back(micros(clock::now() - t0) / 1000.0);
      } else {
        samples.push_back(std::chrono::duration<double, std::milli>(flip_bound).count());
        ++missed;
      }
      requests_during_flips += server.total_requests() - requests_before;
    }
  }
  emit("remote_propagation",
       "\"aliases\":" + std::to_string(aliases) + ",\"nodes\":" + std::to_string(nodes) +
           ",\"connections\":" + std::to_string(server.connections_accepted()) +
           ",\"client_threads\":" + std::to_string(client_threads) + ",\"flips\":" + std::to_string(samples.size()) +
           ",\"missed\":" + std::to_string(missed) +
           ",\"requests_per_flip\":" + num(static_cast<double>(requests_during_flips) / samples.size()) +
           ",\"p50_ms\":" + num(percentile(samples, 0.5)) + ",\"p99_ms\":" + num(percentile(samples, 0.99)));
  shut_down(io, registry, hub);
}

// ---- remote_scale -------------------------------------------------------------------------------------------

// Consul's h2 streams per connection: a default client holds this many times more blocking queries over h2.
constexpr std::size_t h2_streams = 250;

enum class transport { http1, h2 };

// One alias per node, default settings. Flips go to nodes spread evenly over all of them, the first and the last
// started included; each is bounded by flip_bound and counted as missed (at the bound) when not seen by then.
// Over h2 the client talks to nghttpx, which forwards each stream to the server as one HTTP/1.1 request.
void remote_scale(int nodes, int flips, transport via = transport::http1) {
  const bool h2 = via == transport::h2;
  testing::server_options options;
  if (h2) options.max_conns_per_client = 0;  // nghttpx holds one backend connection per held stream
  testing::consul_test_server server(options);
  for (int n = 0; n < nodes; ++n) add_server_node(server, node_name(n));
  std::unique_ptr<test::temp_cert> cert;
  std::unique_ptr<test::nghttpx> proxy;
  auto config = client_config(server.address());
  if (h2) {
    cert = std::make_unique<test::temp_cert>("bench-h2");
    proxy = std::make_unique<test::nghttpx>(server.port(), cert->cert_file, cert->key_file);
    config.address = consul_address::parse(proxy->address());
    config.tls.ca_file = cert->cert_file;
  }
  const auto connections_before = http::client::connections_opened();

  asio::io_context io(client_threads);
  local_state state("client-node");
  state.add_service({"sidecar", "sidecar"});
  remote_hub hub(io.get_executor(), config, client_options());
  alias_registry registry(io.get_executor(), state, hub);
  add_and_settle(io, registry, state, 0, nodes, [](int i) { return node_name(i); });
  // Per-node queries while the nodes fit the blocking slots (streams over h2), else one per group.
  const std::size_t slots = default_held_capacity() * (h2 ? h2_streams : 1);
  const auto n = static_cast<std::size_t>(nodes);
  const std::size_t held_target = n <= slots ? n : default_held_capacity();
  run_until(io, [&] { return server.held_queries() >= held_target; }, 30s, "blocking queries are not held");
  const std::size_t held = server.held_queries();

  std::vector<double> samples;
  int missed = 0;
  for (int f = 0; f < flips; ++f) {
    const int node = flips == 1 ? nodes - 1 : static_cast<int>(static_cast<long>(f) * (nodes - 1) / (flips - 1));
    // Each flip starts from the steady state: the client holds all the queries it can (a slot freed by the previous
    // flip has swept the queue of stale queries), so one flip cannot ride on the re-reads another one caused.
    run_until(io, [&] { return server.held_queries() >= held_target; }, 60s, "blocking queries are not held");
    const auto before = state.check(alias_id(node));
    const auto t0 = clock::now();
    if (!server.update_check_status(node_name(node), "service:svc", status::critical, "down"))
      fail("flip failed on the server");
    const auto deadline = t0 + flip_bound;
    bool seen = false;
    for (;;) {
      const auto now = state.check(alias_id(node));
      if (now && now != before && now->status == status::critical) {
        seen = true;
        break;
      }
      if (clock::now() > deadline) break;
      io.run_one_for(5ms);
      io.restart();
    }
    if (seen) {
      samples.push_back(micros(clock::now() - t0) / 1000.0);
    } else {
      samples.push_back(std::chrono::duration<double, std::milli>(flip_bound).count());
      ++missed;
    }
  }
  // Over HTTP/1.1 the server counts the client's connections; over h2 it sees nghttpx's, so the client counts.
  const auto connections =
      h2 ? http::client::connections_opened() - connections_before : server.connections_accepted();
  emit("remote_scale", "\"nodes\":" + std::to_string(nodes) + ",\"aliases\":" + std::to_string(nodes) +
                           ",\"transport\":\"" + (h2 ? "h2" : "http1") +
                           "\",\"connections\":" + std::to_string(connections) +
                           ",\"queries_held\":" + std::to_string(held) + ",\"flips\":" + std::to_string(flips) +
                           ",\"missed\":" + std::to_string(missed) + ",\"p50_ms\":" + num(percentile(samples, 0.5)) +
                           ",\"p99_ms\":" + num(percentile(samples, 0.99)) +
                           ",\"max_ms\":" + num(*std::max_element(samples.begin(), samples.end())));
  shut_down(io, registry, hub);
}

// ---- remote_memory -------------------------------------------------------------------------------------------

// The server lives in a child process, so the parent's resident set is the client's alone.
struct server_process {
  pid_t pid = -1;
  int release_fd = -1;  // closing it tells the child to stop
  std::string address;

  explicit server_process(int nodes) {
    int to_parent[2], to_child[2];
    if (pipe(to_parent) != 0 || pipe(to_child) != 0) fail("pipe failed");
    pid = fork();
    if (pid < 0) fail("fork failed");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(to_parent[0]);
      close(to_child[1]);
      int rc = 0;
      {
        testing::consul_test_server server;
        for (int n = 0; n < nodes; ++n) add_server_node(server, node_name(n));
        const std::string addr = server.address() + "\n";
        if (write(to_parent[1], addr.data(), addr.size()) != static_cast<ssize_t>(addr.size())) rc = 1;
        close(to_parent[1]);
        char c;
        while (read(to_child[0], &c, 1) > 0 || errno == EINTR) {
        }
        server.stop();
      }
      std::fflush(nullptr);
      _exit(rc);
    }
    close(to_parent[1]);
    close(to_child[0]);
    release_fd = to_child[1];
    char c;
    while (read(to_parent[0], &c, 1) == 1 && c != '\n') address += c;
    close(to_parent[0]);
    if (address.empty()) fail("the server process did not start");
  }

  ~server_process() {
    close(release_fd);
    int st = 0;
    waitpid(pid, &st, 0);
  }
};

void remote_memory() {
  constexpr int nodes = 100, aliases = 10000;
  server_process server(nodes);

  asio::io_context io(client_threads);
  local_state state("client-node");
  state.add_service({"sidecar", "sidecar"});
  remote_hub hub(io.get_executor(), client_config(server.address), client_options());
  alias_registry registry(io.get_executor(), state, hub);
  // Warm-up outside the measurement: the first request initialises curl, the parser and the io_context.
  add_and_settle(io, registry, state, 0, 1, [](int) { return node_name(0); });
  bool removed = false;
  registry.async_remove(alias_id(0), [&](std::error_code) { removed = true; });
  run_until(io, [&] { return removed && hub.watch_count() == 0; }, 10s, "warm-up alias removal");

  const long before = resident_bytes();
  add_and_settle(io, registry, state, 0, nodes, [](int i) { return node_name(i); });
  const long with_watches = resident_bytes();
  add_and_settle(io, registry, state, nodes, aliases, [](int i) { return node_name(i % nodes); });
  const long after = resident_bytes();
  // Marginal cost once every node has its watch (the hundred watches and connections excluded).
  const double marginal = static_cast<double>(after - with_watches) / (aliases - nodes);
  emit("remote_memory", "\"aliases\":" + std::to_string(aliases) +
                            ",\"bytes_per_alias\":" + num(static_cast<double>(after - before) / aliases) +
                            ",\"marginal_bytes_per_alias\":" + num(marginal) +
                            ",\"bytes_per_watch\":" + num(static_cast<double>(with_watches - before) / nodes) +
                            ",\"server\":\"child_process\"");
  shut_down(io, registry, hub);
}

// ---- stop_latency (in flight) ----------------------------------------------------------------------------------

void stop_latency_in_flight() {
  // As many aliases (one per node) as a default client holds blocking queries for, so each has one in flight.
  const int aliases = static_cast<int>(default_held_capacity());
  testing::consul_test_server server;
  for (int n = 0; n < aliases; ++n) add_server_node(server, node_name(n));

  asio::io_context io(client_threads);
  local_state state("client-node");
  state.add_service({"sidecar", "sidecar"});
  remote_hub hub(io.get_executor(), client_config(server.address()), client_options());
  alias_registry registry(io.get_executor(), state, hub);
  add_and_settle(io, registry, state, 0, aliases, [](int i) { return node_name(i); });
  // Each alias's own blocking query is held by the server.
  run_until(io, [&] { return server.held_queries() == static_cast<std::size_t>(aliases); }, 10s,
            "blocking queries were not all held");

  std::vector<double> samples;
  for (int i = 0; i < aliases; ++i) {
    if (server.held_queries() != static_cast<std::size_t>(aliases - i))
      fail("expected " + std::to_string(aliases - i) + " held queries before stopping " + alias_id(i) + ", have " +
           std::to_string(server.held_queries()));
    bool done = false, existed = false;
    const auto t0 = clock::now();
    registry.async_remove(alias_id(i), [&](std::error_code ec) {
      if (ec && ec != coalias::errc::unknown_check) fail("removing " + alias_id(i) + " failed: " + ec.message());
      existed = !ec;
      done = true;
    });
    io.restart();
    while (!done) io.run_one();
    samples.push_back(micros(clock::now() - t0));
    if (!existed || registry.contains(alias_id(i)) || state.check(alias_id(i)))
      fail(alias_id(i) + " was not removed");
    // Its watch must end and its request be abandoned: the server sees the held query go away.
    const auto left = static_cast<std::size_t>(aliases - i - 1);
    run_until(io, [&] { return server.held_queries() == left && hub.watch_count() == left; }, 5s,
              "the stopped alias's blocking query stayed in flight");
  }
  emit("stop_latency", "\"state\":\"in_flight\",\"aliases\":" + std::to_string(aliases) +
                           ",\"p50_us\":" + num(percentile(samples, 0.5)) +
                           ",\"p99_us\":" + num(percentile(samples, 0.99)));
  shut_down(io, registry, hub);
}

}  // namespace

int main(int argc, char** argv) {
  const bool max = argc > 1 && std::string(argv[1]) == "--max";
  if (argc > 2 || (argc == 2 && !max)) fail("usage: bench_remote [--max]");
  // The memory bench forks its server process, so it runs first, while this process has a single thread.
  remote_memory();
  remote_propagation();
  for (const int nodes : {10, 100, 1000}) remote_scale(nodes, 10);
  if (max) remote_scale(10000, 10);
  if (test::nghttpx::find_binary().empty()) {
    std::fprintf(stderr, "bench_remote: nghttpx not found (Debian's nghttp2-proxy): no h2 remote_scale lines\n");
  } else {
    for (const int nodes : {10, 100, 1000}) remote_scale(nodes, 10, transport::h2);
    if (max) remote_scale(10000, 10, transport::h2);
  }
  stop_latency_in_flight();
}
