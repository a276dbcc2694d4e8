#include "run.hpp"

#include "check_set.hpp"
#include "observers.hpp"

#include "cli_common/program.hpp"

#include <coalias/agent_self.hpp>
#include <coalias/health_endpoint.hpp>
#include <coalias/prometheus_metrics.hpp>
#include <coalias/ttl_publisher.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <csignal>
#include <optional>

namespace coalias::agent_cli {
namespace {

using namespace asio::experimental::awaitable_operators;

// The name of the node the checks live on when nothing else says: only local_state's own label then.
constexpr std::string_view unnamed_node = "coalias-agent";

bool needs_agent_node(const options& opts, const std::vector<check_definition>& defs) {
  // Published checks live on the agent's node: an alias of that node must know it to never count its own check.
  if (opts.publish) return true;
  return std::any_of(defs.begin(), defs.end(), [](const check_definition& d) { return d.alias_node_is_agent; });
}

void resolve(std::vector<check_definition>& defs, const std::string& agent_node) {
  for (auto& d : defs)
    if (d.alias_node_is_agent) d.alias.target.node = agent_node;
}

// The signals that arrived while a step ran.
struct signals_seen {
  bool stop = false;    // SIGINT or SIGTERM
  bool reload = false;  // SIGHUP
};

// Records signals until SIGINT or SIGTERM. Raced against a step with `||`, it still tells of a signal received
// just as the step won: `||` waits for its loser to end, and a wait that completed before the cancellation
// returns its signal.
asio::awaitable<void> until_stopped(asio::signal_set& signals, signals_seen& seen) {
  for (;;) {
    const int sig = co_await signals.async_wait(asio::use_awaitable);
    if (sig == SIGHUP) {
      seen.reload = true;
      continue;
    }
    seen.stop = true;
    co_return;
  }
}

// The agent's node name, or why not (`error` set).
struct agent_answer {
  agent_answer() = default;
  std::string node;
  std::string error;
};

asio::awaitable<agent_answer> ask_agent(const options& opts) {
  const auto ex = co_await asio::this_coro::executor;
  auto [ec, self] = co_await async_agent_self(ex, opts.config, asio::experimental::as_tuple(asio::use_awaitable));
  agent_answer out;
  if (ec) out.error = "cannot learn the agent's node name (GET /v1/agent/self): " + self.error;
  else out.node = std::move(self.node_name);
  co_return out;
}

class supervisor {
 public:
  supervisor(const options& opts, coalias::agent& node, ttl_publisher* publisher, event_log& log,
             std::string agent_node)
      : opts_(opts), log_(log), agent_node_(std::move(agent_node)), checks_(node, publisher, log) {}

  check_set& checks() noexcept { return checks_; }

  // Follows signals until SIGINT or SIGTERM; each SIGHUP reloads (`reload_due`: one came during the start). A
  // stop ends a long reload before its next check; SIGHUPs during a reload make one more after it.
  asio::awaitable<void> serve(asio::signal_set& signals, bool reload_due) {
    for (;;) {
      if (!reload_due) {
        const int sig = co_await signals.async_wait(asio::use_awaitable);  // not in a condition: g++ 12
        if (sig != SIGHUP) co_return;
      }
      signals_seen seen;
      co_await (reload() || until_stopped(signals, seen));
      if (seen.stop) co_return;
      reload_due = seen.reload;
    }
  }

 private:
  asio::awaitable<void> reload() {
    std::vector<check_definition> defs;
    try {
      defs = load(opts_.configs);
    } catch (const config_error& e) {
      log_.write(reload_refused_line(e.what()));
      co_return;
    }
    if (agent_node_.empty() && needs_agent_node(opts_, defs)) {
      auto answer = co_await ask_agent(opts_);
      if (!answer.error.empty()) {
        log_.write(reload_refused_line(answer.error));
        co_return;
      }
      agent_node_ = std::move(answer.node);
    }
    resolve(defs, agent_node_);
    const auto n = co_await checks_.apply(std::move(defs));
    log_.write(reload_line(n));
  }

  const options& opts_;
  event_log& log_;
  std::string agent_node_;
  check_set checks_;
};

asio::awaitable<int> run_checks(const options& opts, std::vector<check_definition> defs, asio::signal_set& signals,
                                event_log& log) {
  const auto ex = co_await asio::this_coro::executor;
  std::string agent_node;
  if (needs_agent_node(opts, defs)) {
    signals_seen seen;  // a SIGHUP now changes nothing: the configuration has just been read
    auto asked = co_await (ask_agent(opts) || until_stopped(signals, seen));
    if (seen.stop) co_return 0;  // stopped before the agent answered
    auto& answer = std::get<0>(asked);
    if (!answer.error.empty()) {
      log.write(error_line(answer.error));
      co_return cli::ex_unavailable;
    }
    agent_node = std::move(answer.node);
  }
  resolve(defs, agent_node);

  // The hub reports query failures to the metrics, which can only be made once the agent's state exists.
  remote_forwarder remote_events;
  remote_options remote;
  remote.observer = &remote_events;
  coalias::agent node(ex, agent_node.empty() ? std::string(unnamed_node) : agent_node, opts.config, remote);

  std::optional<prometheus_metrics> metrics;  // with --listen only
  publish_log publish_events(log);
  std::vector<publish_observer*> observers{&publish_events};
  if (opts.listen) {
    metrics.emplace(node.state());
    remote_events.set_target(&*metrics);
    observers.push_back(&*metrics);
  }
  publish_fanout publish_observers(std::move(observers));
  std::optional<health_endpoint> endpoint;
  if (opts.listen) {
    std::string bind_error;
    try {
      endpoint_options eo;
      eo.metrics = [&m = *metrics] { return m.render(); };
      const asio::ip::tcp::endpoint where(asio::ip::make_address(opts.listen->host), opts.listen->port);
      endpoint.emplace(ex, node.state(), where, std::move(eo));
    } catch (const std::system_error& e) {
      bind_error = e.what();
    }
    if (!bind_error.empty()) {
      log.write(error_line("--listen: " + bind_error));
      co_await node.async_shutdown(asio::use_awaitable);  // nothing runs yet, but an agent is shut down first
      co_return cli::ex_unavailable;
    }
    const auto where = endpoint->local_endpoint();
    log.write(listening_line(where.address().to_string(), where.port()));
  }

  std::optional<ttl_publisher> publisher;
  if (opts.publish) {
    publish_options po;
    po.ttl = opts.ttl;
    po.observer = &publish_observers;
    publisher.emplace(ex, node.state(), opts.config, po);
  }
  supervisor sup(opts, node, publisher ? &*publisher : nullptr, log, agent_node);
  // A stop during a long start (10,000 checks take a few hundred milliseconds) ends it before the next check
  // starts, so the exit stays prompt; the checks started so far are stopped below like any others.
  signals_seen seen;
  co_await (sup.checks().apply(std::move(defs)) || until_stopped(signals, seen));
  if (!seen.stop) {
    log.write(start_line(sup.checks().size(), opts));
    co_await (sup.serve(signals, seen.reload) || sup.checks().statuses().run());
  }
  if (endpoint) co_await endpoint->async_shutdown(asio::use_awaitable);
  co_await sup.checks().shutdown(opts.deregister_on_exit);
  co_return 0;
}

}  // namespace

std::vector<check_definition> load(const std::vector<std::filesystem::path>& configs) {
  auto defs = load_check_definitions(configs);
  if (defs.empty()) throw config_error("--config: no check definitions found");
  return defs;
}

asio::awaitable<int> run(const options& opts, asio::signal_set& signals, event_log& log) {
  std::vector<check_definition> defs;
  try {
    defs = load(opts.configs);
  } catch (const config_error& e) {
    log.write(error_line(e.what()));
    co_return cli::ex_usage;
  }
  for (const auto& w : opts.warnings) log.write(error_line("warning: " + w));
  co_return co_await run_checks(opts, std::move(defs), signals, log);
}

}  // namespace coalias::agent_cli
