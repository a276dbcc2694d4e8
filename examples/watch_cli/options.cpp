#include "options.hpp"

#include <chrono>
#include <optional>

namespace coalias::watch_cli {
namespace {

constexpr std::string_view usage =
    "usage: coalias-watch --node NODE [--service SERVICE_ID] [--addr ADDR] [--token TOKEN] [--dc DC]\n"
    "                     [--wait DURATION] [--json] [--once]\n"
    "       coalias-watch --demo\n"
    "\n"
    "Follows a Consul alias check of a node (or of one service instance on it) and prints one line per change\n"
    "of the alias's status or output, starting with the first evaluation.\n"
    "\n"
    "  --node NODE          the aliased node (required)\n"
    "  --service ID         the aliased service instance on NODE; without it, the node (its node-level checks)\n"
    "  --addr ADDR          Consul's HTTP address: host[:port], http(s)://host[:port][/prefix], unix:///path\n"
    "                       (default $CONSUL_HTTP_ADDR, else 127.0.0.1:8500)\n"
    "  --token TOKEN        ACL token (default $CONSUL_HTTP_TOKEN_FILE or $CONSUL_HTTP_TOKEN); never printed\n"
    "  --dc DC              datacenter to query (default: the agent's)\n"
    "  --wait DURATION      blocking-query wait, Consul syntax: 500ms, 10s, 5m (default 1m)\n"
    "  --json               one JSON object per line: node, service, status, output, index\n"
    "  --once               print the first evaluation and exit: 0 passing, 1 warning, 2 critical\n"
    "  --demo               run against an embedded test Consul whose checks flap, then exit\n"
    "  -h, --help           this text\n"
    "\n"
    "Other CONSUL_* variables (TLS files, namespace, partition) are read as Consul's CLI reads them.\n"
    "Exit status: 0 (or the --once status), 64 for a usage or configuration error. SIGINT/SIGTERM exit 0.\n";

enum class flag { node, service, addr, token, dc, wait, json, once, demo, help };

constexpr int id(flag f) { return static_cast<int>(f); }

constexpr cli::flag_spec flags[] = {
    {"--node", id(flag::node), true},   {"--service", id(flag::service), true}, {"--addr", id(flag::addr), true},
    {"--token", id(flag::token), true}, {"--dc", id(flag::dc), true},           {"--wait", id(flag::wait), true},
    {"--json", id(flag::json), false},  {"--once", id(flag::once), false},      {"--demo", id(flag::demo), false},
    {"--help", id(flag::help), false},  {"-h", id(flag::help), false},
};

}  // namespace

std::string_view usage_text() noexcept { return usage; }

parse_result parse_options(const std::vector<std::string_view>& args, const env_lookup& env) {
  options out;
  bool demo = false;
  bool other_than_demo = false;
  std::optional<std::string> node, service;
  cli::consul_flags consul;
  std::optional<std::chrono::milliseconds> wait;

  for (std::size_t i = 0; i < args.size(); ++i) {
    auto next = cli::next_flag(args, i, flags);
    if (auto* e = std::get_if<usage_error>(&next)) return std::move(*e);
    const auto [f, name, value] = std::get<cli::flag_arg>(next);
    switch (static_cast<flag>(f)) {
      case flag::help: {
        options h;
        h.mode = mode::help;
        return h;
      }
      case flag::demo: demo = true; continue;
      case flag::json: out.json = true; break;
      case flag::once: out.once = true; break;
      case flag::node: node = std::string(value); break;
      case flag::service: service = std::string(value); break;
      case flag::token: consul.token = std::string(value); break;
      case flag::dc: consul.dc = std::string(value); break;
      case flag::addr: {
        auto a = cli::parse_addr(value);
        if (auto* e = std::get_if<usage_error>(&a)) return std::move(*e);
        consul.addr = std::get<consul_address>(std::move(a));
        break;
      }
      case flag::wait: {
        auto d = cli::parse_duration_flag(name, value);
        if (auto* e = std::get_if<usage_error>(&d)) return std::move(*e);
        wait = std::get<std::chrono::milliseconds>(d);
        break;
      }
    }
    other_than_demo = true;
  }

  if (demo) {
    if (other_than_demo) return usage_error{"--demo cannot be combined with other options"};
    out.mode = mode::demo;
    return out;
  }
  if (!node) return usage_error{"missing --node (see --help)"};

  auto config = cli::consul_settings(env, std::move(consul), out.warnings);
  if (auto* e = std::get_if<usage_error>(&config)) return std::move(*e);
  out.config = std::get<consul_config>(std::move(config));
  if (wait) out.config.wait = *wait;
  out.target.node = std::move(*node);
  if (service) out.target.service_id = std::move(*service);
  return out;
}

}  // namespace coalias::watch_cli
