// agent_memory: coalias-agent's resident memory per running alias check, at 10,000 checks.
//
// The binary runs as a child process against an in-process test server shaped as bench_remote's remote_memory
// (100 nodes, each with service svc, its check and serfHealth; check k aliases svc on node-<k % 100>), once with
// 1 check and once with 10,000; each run is measured (/proc/<pid>/statm) once every check has logged its first
// evaluation and, when publishing (the default, --ttl 10m), the server's agent holds every check passing (or 30 s
// have passed: `published` says how many it holds). bytes_per_check
// is the difference over the 9,999 extra checks, so the program's fixed cost (libraries, curl, the io_context)
// is not counted. Floor (issue 9): at most 4 KiB, publishing. A second line without publishing shows what the
// TTL publisher adds.
//
// `bench_agent_memory()` is called by bench_publish's main.
#include "support/bench_util.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <algorithm>

#ifndef COALIAS_AGENT
#error "COALIAS_AGENT must name the coalias-agent binary"
#endif

namespace {

using namespace coalias;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int nodes = 100, checks = 10000;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bench_agent_memory: %s\n", why.c_str());
  std::exit(1);
}

std::string node_name(int n) { return "node-" + std::to_string(n); }

health_check server_check(const std::string& node, std::string id, std::string name, std::string service) {
  health_check c;
  c.node = node;
  c.check_id = std::move(id);
  c.name = std::move(name);
  c.service_id = std::move(service);
  c.service_name = c.service_id;
  c.status = status::passing;
  c.output = "up";
  return c;
}

void fill_server(testing::consul_test_server& server) {
  for (int n = 0; n < nodes; ++n) {
    server.add_node(node_name(n));
    server.add_service(node_name(n), {"svc", "svc"});
    server.set_check(server_check(node_name(n), "serfHealth", "Serf Health Status", ""));
    server.set_check(server_check(node_name(n), "service:svc", "svc check", "svc"));
  }
}

fs::path write_config(const fs::path& dir, int count) {
  std::string json = "{\"checks\": [";
  for (int k = 0; k < count; ++k) {
    if (k) json += ",\n";
    json += "{\"id\": \"alias-" + std::to_string(k) + "\", \"alias_node\": \"" + node_name(k % nodes) +
            "\", \"alias_service\": \"svc\"}";
  }
  json += "]}";
  const auto path = dir / ("checks-" + std::to_string(count) + ".json");
  std::ofstream(path) << json;
  return path;
}

// One coalias-agent run: stderr read line by line; stopped with SIGTERM at the end.
class agent_run {
 public:
  agent_run(const fs::path& config, const std::string& address, bool publish) {
    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) fail("pipe failed");
    std::string bin = COALIAS_AGENT, flag = "--config", path = config.string(), no_publish = "--no-publish";
    std::string ttl = "--ttl=10m";  // heartbeats every 200 s: the run measures memory, not a heartbeat storm
    std::string env_addr = "CONSUL_HTTP_ADDR=" + address;
    char* argv[] = {bin.data(), flag.data(), path.data(), publish ? ttl.data() : no_publish.data(), nullptr};
    char* envp[] = {env_addr.data(), nullptr};
    pid_ = ::fork();
    if (pid_ < 0) fail("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(err[1], 2);
      ::close_range(3, ~0U, 0);
      ::execve(argv[0], argv, envp);
      ::_exit(127);
    }
    ::close(err[1]);
    err_ = err[0];
  }
  agent_run(const agent_run&) = delete;
  agent_run& operator=(const agent_run&) = delete;
  ~agent_run() {
    ::kill(pid_, SIGKILL);  // measured already; its exit is the e2e tests' business
    int st = 0;
    ::waitpid(pid_, &st, 0);
    ::close(err_);
  }

  // Waits until `n` checks have logged their first evaluation (every check here is passing).
  void wait_for_checks(int n, std::chrono::seconds timeout) {
    const auto deadline = bench::clock::now() + timeout;
    int seen = 0;
    std::string buf;
    while (seen < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - bench::clock::now());
      if (left <= 0ms) fail("only " + std::to_string(seen) + " of " + std::to_string(n) + " checks evaluated in time");
      pollfd p{err_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const auto got = ::read(err_, chunk, sizeof chunk);
      if (got <= 0) fail("coalias-agent ended early");
      buf.append(chunk, static_cast<std::size_t>(got));
      for (auto nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n')) {
        const auto line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (line.find("\": passing: ") != std::string::npos) ++seen;
        else if (line.find(": critical: ") != std::string::npos) fail("unexpected: " + line);
      }
    }
  }

  long resident_bytes() const {
    long pages_total = 0, pages_resident = 0;
    std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
    statm >> pages_total >> pages_resident;
    return pages_resident * ::sysconf(_SC_PAGESIZE);
  }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
};

// How many checks the agent holds passing, once that is `count` or `timeout` has passed.
long wait_for_published(const testing::consul_test_server& server, int count, std::chrono::seconds timeout) {
  const auto deadline = bench::clock::now() + timeout;
  for (;;) {
    const auto checks = server.agent_checks();
    const auto passing = std::count_if(checks.begin(), checks.end(),
                                       [](const testing::agent_check& c) { return c.status == status::passing; });
    if (passing == count || bench::clock::now() > deadline) return passing;
    std::this_thread::sleep_for(20ms);
  }
}

struct measured {
  long rss = 0;
  long published = 0;
};

measured measure(testing::consul_test_server& server, const fs::path& config, int count, bool publish) {
  server.restart_agent();  // no checks left from the run before
  agent_run run(config, server.address(), publish);
  run.wait_for_checks(count, 60s);
  measured m;
  if (publish) m.published = wait_for_published(server, count, 30s);
  m.rss = run.resident_bytes();
  if (publish && m.published < count)
    std::fprintf(stderr, "bench_agent_memory: the agent holds %ld of %d checks passing after 30 s\n", m.published, count);
  return m;
}

}  // namespace

void bench_agent_memory() {
  testing::server_options o;
  o.request_log_capacity = 16;
  testing::consul_test_server server(o);
  fill_server(server);
  const auto dir = fs::temp_directory_path() / ("coalias-agent-memory-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto one_check = write_config(dir, 1), all_checks = write_config(dir, checks);
  for (const bool publish : {true, false}) {
    const auto one = measure(server, one_check, 1, publish);
    const auto all = measure(server, all_checks, checks, publish);
    bench::emit("agent_memory", "\"checks\":" + std::to_string(checks) + ",\"bytes_per_check\":" +
                                    bench::num(static_cast<double>(all.rss - one.rss) / (checks - 1)) +
                                    ",\"rss_bytes\":" + std::to_string(all.rss) +
                                    ",\"publishing\":" + (publish ? "true" : "false") +
                                    ",\"published\":" + std::to_string(all.published));
  }
  fs::remove_all(dir);
}
