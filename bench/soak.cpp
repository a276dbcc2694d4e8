// Soak bench: local and remote aliases under continuous faults, check flips and alias churn, then a check that
// everything settles to the truth without leaking memory or file descriptors.
//
//   bench_soak                  # 60 s of soak (the default; about 75 s in all)
//   bench_soak --seconds 600    # the documented 10-minute run
//
// Against the in-process Consul test server on loopback:
//  1. soak (`--seconds`): random faults (5xx, 403, 429, dropped connections, truncated, malformed and lying
//     bodies, short delays, index regress and 0) injected continuously; random check flips on 20 server nodes
//     and on the local agent (a local service also comes and goes, server checks are removed and re-added);
//     3 churn threads adding, replacing (local <-> remote too) and removing aliases through one alias_registry
//     made with a remote_hub; the client io_context run by 2 threads;
//  2. failing server (5 s): faults and flips stop, one persistent 500 answers every request; the request rate
//     the server sees is measured (see `max_request_rate_failing` below);
//  3. settle: the fault is cleared; wait (at most 30 s) until every alias equals the truth, which is
//     `coalias::aggregator` applied to the final server or local state, with presence decided as the library does;
//  4. shut down the registry and the hub, stop the client threads, wait for the server to see every connection
//     closed, and count /proc/self/fd again.
// Prints one JSON line on stdout; details of any mismatch go to stderr. Exits 1 if an alias does not match the
// truth after settling, an operation failed unexpectedly, or file descriptors grew; 64 for bad arguments.
#include <coalias/alias_registry.hpp>
#include <coalias/error.hpp>
#include <coalias/local_state.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include "support/bench_util.hpp"
#include "support/soak_util.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_future.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace coalias;
using namespace coalias::bench;
using namespace std::chrono_literals;
using testing::fault;

namespace {

constexpr int server_nodes = 20;
constexpr int churn_threads = 3;
constexpr int churn_ids_per_thread = 30;
constexpr int client_threads = 2;
constexpr auto failing_phase = 5s;
constexpr auto settle_limit = 30s;
constexpr long fd_tolerance = 2;  // fds_end may exceed fds_start by at most this much

const std::string local_node = "agent-1";
const std::vector<std::string> server_check_ids = {"serfHealth", "disk", "service:web", "service:db"};
const std::set<std::string> server_services = {"web", "db"};  // on every n-XX node; never removed
const std::vector<std::string> local_check_ids = {"l-serf", "l-disk", "l-web-1", "l-web-2", "l-db", "l-cache", "l-flaky"};
const std::vector<std::string> outputs = {"ok", "slow", "down", "timeout after 3s", "disk 91% \"full\""};

std::string node_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "n-%02d", i);
  return buf;
}

// ---- arguments ----

int parse_seconds(int argc, char** argv) {
  int seconds = 60;
  auto bad = [](const char* why) {
    std::fprintf(stderr, "bench_soak: %s; usage: bench_soak [--seconds N] (N in 1..86400, default 60)\n", why);
    std::exit(64);
  };
  auto parse = [&](const char* text) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 86400) bad("bad value for --seconds");
    seconds = static_cast<int>(v);
  };
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) {
      if (i + 1 >= argc) bad("--seconds needs a value");
      parse(argv[++i]);
    } else if (std::strncmp(argv[i], "--seconds=", 10) == 0) {
      parse(argv[i] + 10);
    } else {
      bad("unknown argument");
    }
  }
  return seconds;
}

// ---- the world ----

health_check server_check(const std::string& node, const std::string& id) {
  health_check c;
  c.node = node;
  c.check_id = id;
  if (id == "serfHealth") {
    c.name = "Serf Health Status";
  } else if (id == "disk") {
    c.name = "Disk \"root\"";  // a name that go_quote must escape
  } else {
    c.service_id = id.substr(8);  // "service:web" -> "web"
    c.service_name = c.service_id;
    c.name = c.service_id + " check";
  }
  c.status = status::passing;
  c.output = "ok";
  return c;
}

void populate_server(testing::consul_test_server& server) {
  for (int i = 0; i < server_nodes; ++i) {
    const auto node = node_name(i);
    server.add_node(node);
    for (const auto& svc : server_services) server.add_service(node, {svc, svc});
    for (const auto& id : server_check_ids) server.set_check(server_check(node, id));
  }
}

health_check local_check(const std::string& id) {
  health_check c;
  c.check_id = id;
  c.name = id;
  if (id == "l-web-1" || id == "l-web-2") c.service_id = "web";
  if (id == "l-db") c.service_id = "db";
  if (id == "l-cache") c.service_id = "cache";
  if (id == "l-flaky") c.service_id = "flaky";
  c.status = status::passing;
  c.output = "ok";
  return c;
}

void populate_local(local_state& state) {
  for (const char* svc : {"sidecar", "web", "db", "cache", "flaky"}) state.add_service({svc, svc});
  for (const auto& id : local_check_ids) state.add_check(local_check(id));
}

// What an alias may mirror. Remote: every node's node, web, db and a service the node does not hold; a node that
// does not exist; a node name in the wrong case. Local: the node, its services, a service that comes and goes and
// one that never exists.
std::vector<alias_target> remote_targets() {
  std::vector<alias_target> t;
  for (int i = 0; i < server_nodes; ++i) {
    for (const char* svc : {"", "web", "db", "ghost"}) t.push_back({node_name(i), svc});
  }
  t.push_back({"gone-1", ""});
  t.push_back({"gone-1", "web"});
  t.push_back({"N-07", "web"});
  t.push_back({"N-11", ""});
  return t;
}

std::vector<alias_target> local_targets() {
  std::vector<alias_target> t;
  for (const char* svc : {"", "web", "db", "cache", "flaky", "ghost"}) t.push_back({"", svc});
  return t;
}

alias_definition make_def(const std::string& id, const alias_target& target, std::chrono::milliseconds refresh) {
  alias_definition def;
  def.check_id = id;
  def.name = "alias " + id;
  def.service_id = "sidecar";  // never aliased itself, so aliases never count each other
  def.target = target;
  def.refresh = refresh;
  return def;
}

// Local aliases mostly rely on wake-ups alone (a one-hour refresh), so a lost wake-up shows up as a mismatch
// after settling instead of being repaired by the refresh; a fifth use Consul's refresh idea with 300 ms.
alias_definition random_def(rng& r, const std::string& id) {
  static const auto remote = remote_targets();
  static const auto local = local_targets();
  if (r.chance(0.5)) return make_def(id, r.pick(remote), 1h);
  return make_def(id, r.pick(local), r.chance(0.2) ? std::chrono::milliseconds(300) : std::chrono::milliseconds(1h));
}

testing::fault random_fault(rng& r) {
  fault f;
  switch (r.below(12)) {
    case 0: f = fault::no_leader(); break;
    case 1: f = fault::with_status(503, "Service Unavailable"); break;
    case 2: f = fault::with_status(502, "Bad Gateway"); break;
    case 3: f = fault::permission_denied(); break;
    case 4: f = fault::too_many_connections(); break;
    case 5: f = fault::drop_connection(); break;
    case 6: f = fault::truncated_json(); break;
    case 7: f = fault::malformed_json(); break;
    case 8: f = fault::lying_content_length(); break;
    case 9: f = fault::delayed(std::chrono::milliseconds(5 + r.below(200))); break;
    case 10: f = fault::index_regress(); break;
    default: f = fault::index_zero(); break;
  }
  const auto where = r.below(10);
  if (where == 0) f = f.on_path("/v1/catalog/");
  else if (where < 4) f = f.on_path("/v1/health/");
  return f.times(1 + r.below(2));
}

struct counters {
  std::atomic<std::uint64_t> flips{0};
  std::atomic<std::uint64_t> churned{0};
  std::atomic<std::uint64_t> errors{0};  // operations that failed unexpectedly
};

void flip_local(local_state& state, rng& r, counters& n) {
  const auto& id = r.pick(local_check_ids);
  const status s = static_cast<status>(r.below(3));
  if (state.update_check(id, s, r.pick(outputs)) == update_result::updated) ++n.flips;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = parse_seconds(argc, argv);
  const auto t_start = clock::now();

  testing::server_options sopts;
  sopts.request_log_capacity = 16384;  // holds the whole failing phase (see max_request_rate_failing)
  testing::consul_test_server server(sopts);
  populate_server(server);

  local_state state(local_node);
  populate_local(state);

  asio::io_context io(client_threads);
  {
    // Creates the io_context's reactor (epoll, eventfd, timerfd) now, so that fds_start includes it.
    asio::steady_timer warm(io, 1ms);
    warm.cancel();
  }
  io.poll();
  io.restart();
  const long fds_start = count_fds();

  consul_config config;
  config.address = consul_address::parse(server.address());
  config.wait = 2s;  // blocking queries return at least every ~2 s even without a change
  // Small spacing and backoff so a 60 s soak runs many request/failure/backoff cycles; the rules are Consul's
  // (first failure silent, backoff after `backoff_after` consecutive failures, catalog retries, index resets).
  remote_options ropts;
  ropts.request_timeout = 1s;
  ropts.min_request_spacing = 10ms;
  ropts.backoff_after = 3;
  ropts.backoff_base = 20ms;
  ropts.backoff_max = 250ms;
  ropts.catalog_attempts = 3;
  ropts.catalog_retry_delay = 10ms;

  auto hub = std::make_unique<remote_hub>(io.get_executor(), config, ropts);
  auto registry = std::make_unique<alias_registry>(io.get_executor(), state, *hub);

  auto work = asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < client_threads; ++i) io_threads.emplace_back([&] { io.run(); });

  counters n;
  auto report_error = [&](const std::string& what) {
    ++n.errors;
    std::fprintf(stderr, "bench_soak: unexpected: %s\n", what.c_str());
  };

  // Stable aliases: every target once, never churned.
  std::map<std::string, alias_definition> stable;
  {
    int i = 0;
    for (const auto& t : remote_targets()) {
      char id[32];
      std::snprintf(id, sizeof id, "s-remote-%03d", i++);
      stable.emplace(id, make_def(id, t, 1h));
    }
    for (const auto& t : local_targets()) {
      char id[32];
      std::snprintf(id, sizeof id, "s-local-%03d", i++);
      stable.emplace(id, make_def(id, t, 1h));
    }
    for (const auto& [id, def] : stable) {
      try {
        registry->async_add(def, asio::use_future).get();
      } catch (const std::exception& e) {
        report_error("add " + id + ": " + e.what());
      }
    }
  }

  // ---- phase 1: soak ----
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;

  // Faults: keep a few queued at all times. Faults restricted to a path may wait long for a matching request,
  // so the queue is flushed every second and the accounting restarts.
  workers.emplace_back([&] {
    rng r(1);
    std::uint64_t queued = 0, base = server.faults_injected();
    auto last_flush = clock::now();
    while (!stop) {
      if (clock::now() - last_flush > 1s) {
        server.clear_faults();
        base = server.faults_injected();
        queued = 0;
        last_flush = clock::now();
      }
      const auto applied = server.faults_injected() - base;
      if (queued < applied + 3) {
        auto f = random_fault(r);
        queued += f.count;
        server.inject(std::move(f));
      }
      std::this_thread::sleep_for(2ms);
    }
    server.clear_faults();
  });

  // Server flips: status and output of a random check on a random node; now and then a service check is
  // removed, then registered again (the service stays, so its aliases see "No checks found." meanwhile).
  workers.emplace_back([&] {
    rng r(2);
    std::set<std::string> removed;  // nodes whose service:db is deregistered
    while (!stop) {
      const auto node = node_name(static_cast<int>(r.below(server_nodes)));
      if (r.chance(0.02)) {
        if (removed.erase(node)) {
          server.set_check(server_check(node, "service:db"));
        } else {
          server.remove_check(node, "service:db");
          removed.insert(node);
        }
        ++n.flips;
      } else {
        const auto& id = r.pick(server_check_ids);
        if (server.update_check_status(node, id, static_cast<status>(r.below(3)), r.pick(outputs))) ++n.flips;
      }
      std::this_thread::sleep_for(15ms);
    }
  });

  // Local flips; now and then the "flaky" service goes away (taking its check) and comes back.
  workers.emplace_back([&] {
    rng r(3);
    bool flaky = true;
    while (!stop) {
      if (r.chance(0.01)) {
        if (flaky) {
          state.remove_service("flaky");
        } else {
          state.add_service({"flaky", "flaky"});
          state.add_check(local_check("l-flaky"));
        }
        flaky = !flaky;
        ++n.flips;
      } else {
        flip_local(state, r, n);
      }
      std::this_thread::sleep_for(1ms);
    }
  });

  // Churn: each thread owns its alias IDs, so it knows the definition in effect for each when it stops.
  std::vector<std::vector<std::optional<alias_definition>>> churn(
      churn_threads, std::vector<std::optional<alias_definition>>(churn_ids_per_thread));
  for (int t = 0; t < churn_threads; ++t) {
    workers.emplace_back([&, t] {
      rng r(100 + static_cast<std::uint64_t>(t));
      auto& slots = churn[static_cast<std::size_t>(t)];
      while (!stop) {
        const auto k = r.below(slots.size());
        char id_buf[32];
        std::snprintf(id_buf, sizeof id_buf, "c%d-%02zu", t, k);
        const std::string id = id_buf;
        auto& slot = slots[k];
        const double x = r.below(100) / 100.0;
        try {
          if (!slot) {
            auto def = random_def(r, id);
            if (x < 0.3)
              registry->async_replace(def, asio::use_future).get();  // replace of an absent ID adds
            else
              registry->async_add(def, asio::use_future).get();
            slot = std::move(def);
            ++n.churned;
          } else if (x < 0.45) {
            auto def = random_def(r, id);
            registry->async_replace(def, asio::use_future).get();
            slot = std::move(def);
            ++n.churned;
          } else if (x < 0.9) {
            try {
              registry->async_remove(id, asio::use_future).get();
            } catch (const std::system_error& e) {
              report_error("remove " + id + ": " + e.code().message());
            }
            slot.reset();
            ++n.churned;
          } else {
            try {
              auto def = random_def(r, id);
              registry->async_add(def, asio::use_future).get();
              report_error("add of existing " + id + " succeeded");
              slot = std::move(def);
            } catch (const std::system_error& e) {
              if (e.code() != errc::alias_exists) throw;
            }
          }
        } catch (const std::exception& e) {
          report_error("churn " + id + ": " + e.what());
        }
        flip_local(state, r, n);
        std::this_thread::sleep_for(std::chrono::microseconds(r.below(2000)));
      }
    });
  }

  const auto soak_end = clock::now() + std::chrono::seconds(seconds);
  auto next_progress = clock::now() + 10s;
  while (clock::now() < soak_end) {
    std::this_thread::sleep_for(std::min<clock::duration>(100ms, soak_end - clock::now()));
    if (clock::now() >= next_progress) {
      next_progress += 10s;
      std::fprintf(stderr,
                   "bench_soak: %.0f s: flips=%llu faults=%llu churned=%llu requests=%llu aliases=%zu watches=%zu "
                   "rss=%ld\n",
                   std::chrono::duration<double>(clock::now() - t_start).count(),
                   static_cast<unsigned long long>(n.flips.load()),
                   static_cast<unsigned long long>(server.faults_injected()),
                   static_cast<unsigned long long>(n.churned.load()),
                   static_cast<unsigned long long>(server.total_requests()), registry->size(), hub->watch_count(),
                   resident_bytes());
    }
  }
  stop = true;
  for (auto& w : workers) w.join();
  workers.clear();
  server.clear_faults();
  const auto faults_injected = server.faults_injected();

  // ---- phase 2: a failing server ----
  // max_request_rate_failing: the most requests the server received in any 1 s window while every request was
  // answered 500. The fault is persistent; one check change releases the blocking queries held from before (they
  // were admitted without a fault), after which every watch is in its failure loop: 3 retries spaced by
  // min_request_spacing, then backoff doubling from backoff_base to backoff_max (+ up to 20% jitter, capped).
  // Windows are exact sliding windows over the server's request-log timestamps (every request received from the
  // start of the phase; the log is large enough to hold them all, checked below). If the log ever overflowed,
  // the figure falls back to total_requests() sampled every 50 ms over 1 s windows (a lower bound, noted on
  // stderr). With W watches the expected steady rate is about W / backoff_max (W * 4 per second here), and the
  // first second at most W * (3 + 1000 / 20ms-doublings) = W * ~8.
  const std::size_t watches_failing = hub->watch_count();
  server.clear_request_log();
  const auto phase_start = std::chrono::system_clock::now();
  server.inject(fault::no_leader().persistent());
  server.update_check_status(node_name(0), "serfHealth", status::passing, "failing phase");
  std::vector<std::pair<clock::time_point, std::uint64_t>> samples;
  const auto phase_end = clock::now() + failing_phase;
  while (clock::now() < phase_end) {
    samples.emplace_back(clock::now(), server.total_requests());
    std::this_thread::sleep_for(50ms);
  }
  samples.emplace_back(clock::now(), server.total_requests());
  const auto log = server.recent_requests();
  server.clear_faults();

  double max_rate = 0;
  const bool log_complete = log.size() < sopts.request_log_capacity;
  if (log_complete) {
    std::vector<std::chrono::system_clock::time_point> times;
    for (const auto& rec : log)
      if (rec.time >= phase_start) times.push_back(rec.time);
    std::size_t lo = 0;
    for (std::size_t hi = 0; hi < times.size(); ++hi) {
      while (times[hi] - times[lo] >= 1s) ++lo;
      max_rate = std::max(max_rate, static_cast<double>(hi - lo + 1));
    }
  } else {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      for (std::size_t j = i + 1; j < samples.size(); ++j) {
        if (samples[j].first - samples[i].first < 1s) continue;
        max_rate = std::max(max_rate, static_cast<double>(samples[j].second - samples[i].second));
        break;
      }
    }
    std::fprintf(stderr, "bench_soak: request log overflowed; max_request_rate_failing is from 50 ms samples\n");
  }
  std::fprintf(stderr, "bench_soak: failing phase: %zu watches, %llu requests in %.1f s, max %.0f/s in 1 s\n",
               watches_failing,
               static_cast<unsigned long long>(samples.back().second - samples.front().second),
               std::chrono::duration<double>(samples.back().first - samples.front().first).count(), max_rate);

  // ---- phase 3: settle ----
  std::map<std::string, alias_definition> expected = stable;
  std::set<std::string> removed_ids;
  for (int t = 0; t < churn_threads; ++t) {
    for (int k = 0; k < churn_ids_per_thread; ++k) {
      char id[32];
      std::snprintf(id, sizeof id, "c%d-%02d", t, k);
      const auto& slot = churn[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)];
      if (slot) expected.emplace(id, *slot);
      else removed_ids.insert(id);
    }
  }
  struct mismatch {
    std::string id, detail;
  };
  auto find_mismatches = [&] {
    std::vector<mismatch> out;
    for (const auto& [id, def] : expected) {
      const auto truth = def.target.node.empty() ? local_truth(state, def)
                                                 : remote_truth(server, local_node, def, server_services);
      const auto shown = state.check(id);
      if (!registry->contains(id)) {
        out.push_back({id, "not in the registry"});
      } else if (!shown) {
        out.push_back({id, "own check missing from the local state"});
      } else if (shown->status != truth.status || shown->output != truth.output) {
        out.push_back({id, describe_def(def) + ": shows " + describe_result({shown->status, shown->output}) +
                               ", truth " + describe_result(truth)});
      }
    }
    for (const auto& id : removed_ids) {
      if (registry->contains(id)) out.push_back({id, "removed, still in the registry"});
      if (state.check(id)) out.push_back({id, "removed, own check still in the local state"});
    }
    if (registry->size() != expected.size())
      out.push_back({"*", "registry holds " + std::to_string(registry->size()) + " aliases, expected " +
                              std::to_string(expected.size())});
    return out;
  };
  const auto settle_start = clock::now();
  auto mismatches = find_mismatches();
  const std::size_t unsettled_at_start = mismatches.size();
  while (!mismatches.empty() && clock::now() - settle_start < settle_limit) {
    std::this_thread::sleep_for(100ms);
    mismatches = find_mismatches();
  }
  std::fprintf(stderr, "bench_soak: %zu aliases (%zu remote watches); %zu differed from the truth when the fault "
               "cleared; %zu after %.2f s\n", expected.size(), hub->watch_count(), unsettled_at_start,
               mismatches.size(), std::chrono::duration<double>(clock::now() - settle_start).count());
  for (const auto& m : mismatches) std::fprintf(stderr, "bench_soak: MISMATCH %s: %s\n", m.id.c_str(), m.detail.c_str());

  // ---- phase 4: shut down, count descriptors ----
  try {
    registry->async_shutdown(asio::use_future).get();
    hub->async_shutdown(asio::use_future).get();
  } catch (const std::exception& e) {
    report_error(std::string("shutdown: ") + e.what());
  }
  registry.reset();
  hub.reset();
  work.reset();
  for (auto& t : io_threads) t.join();
  if (!server.wait_for_open_connections(0, 5s))
    std::fprintf(stderr, "bench_soak: the server still sees %zu open connections 5 s after shutdown\n",
                 server.open_connections());
  const long fds_end = count_fds();
  const long rss_final = resident_bytes();
  const long rss_peak = peak_resident_bytes();

  emit("soak", "\"seconds\":" + std::to_string(seconds) + ",\"flips\":" + std::to_string(n.flips.load()) +
                   ",\"faults_injected\":" + std::to_string(faults_injected) +
                   ",\"aliases_churned\":" + std::to_string(n.churned.load()) +
                   ",\"mismatches\":" + std::to_string(mismatches.size()) +
                   ",\"rss_peak_bytes\":" + std::to_string(rss_peak) +
                   ",\"rss_final_bytes\":" + std::to_string(rss_final) + ",\"fds_start\":" + std::to_string(fds_start) +
                   ",\"fds_end\":" + std::to_string(fds_end) + ",\"max_request_rate_failing\":" + num(max_rate));
  std::fprintf(stderr, "bench_soak: %.1f s in all\n", std::chrono::duration<double>(clock::now() - t_start).count());

  bool ok = true;
  if (!mismatches.empty()) ok = false;
  if (fds_end > fds_start + fd_tolerance) {
    std::fprintf(stderr, "bench_soak: file descriptors grew from %ld to %ld\n", fds_start, fds_end);
    ok = false;
  }
  if (n.errors > 0) {
    std::fprintf(stderr, "bench_soak: %llu unexpected operation failures\n",
                 static_cast<unsigned long long>(n.errors.load()));
    ok = false;
  }
  return ok ? 0 : 1;
}
