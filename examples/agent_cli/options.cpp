#include "options.hpp"

#include <charconv>

namespace coalias::agent_cli {
namespace {

constexpr std::string_view usage =
    "usage: coalias-agent --config PATH [--config PATH ...] [--addr ADDR] [--token TOKEN] [--dc DC]\n"
    "                     [--listen HOST:PORT] [--ttl DURATION] [--no-publish] [--deregister-on-exit]\n"
    "\n"
    "Runs the alias checks of Consul check-definition files and keeps their status registered with a Consul\n"
    "agent as TTL checks. One line on stderr per event: start, status change, publish failure and recovery,\n"
    "reload. SIGHUP re-reads every --config; SIGINT/SIGTERM stop.\n"
    "\n"
    "  --config PATH        a JSON file, or a directory whose *.json files are read in name order; each holds\n"
    "                       {\"check\": {...}} or {\"checks\": [...]} with id, name, notes, service_id,\n"
    "                       alias_node (empty: the agent's node), alias_service\n"
    "  --addr ADDR          Consul's HTTP address: host[:port], http(s)://host[:port][/prefix], unix:///path\n"
    "                       (default $CONSUL_HTTP_ADDR, else 127.0.0.1:8500)\n"
    "  --token TOKEN        ACL token (default $CONSUL_HTTP_TOKEN_FILE or $CONSUL_HTTP_TOKEN); never printed\n"
    "  --dc DC              datacenter of the aliased nodes (default: the agent's)\n"
    "  --listen HOST:PORT   serve GET /health/<id>, /health and /metrics there (port 0: any free port)\n"
    "  --ttl DURATION       TTL of the registered checks, Consul syntax: 10s, 1m (default 30s)\n"
    "  --no-publish         run the checks without registering them with the agent\n"
    "  --deregister-on-exit deregister every published check when stopped\n"
    "  -h, --help           this text\n"
    "\n"
    "Other CONSUL_* variables (TLS files, namespace, partition) are read as Consul's CLI reads them.\n"
    "Exit status: 0 after SIGINT/SIGTERM, 64 for a usage or configuration error.\n";

enum class flag { config, addr, token, dc, listen, ttl, no_publish, deregister, help };

constexpr int id(flag f) { return static_cast<int>(f); }

constexpr cli::flag_spec flags[] = {
    {"--config", id(flag::config), true},
    {"--addr", id(flag::addr), true},
    {"--token", id(flag::token), true},
    {"--dc", id(flag::dc), true},
    {"--listen", id(flag::listen), true},
    {"--ttl", id(flag::ttl), true},
    {"--no-publish", id(flag::no_publish), false},
    {"--deregister-on-exit", id(flag::deregister), false},
    {"--help", id(flag::help), false},
    {"-h", id(flag::help), false},
};

bool ipv4_literal(std::string_view h) {
  int parts = 0;
  for (std::size_t i = 0; i <= h.size(); ++parts) {
    const auto dot = std::min(h.find('.', i), h.size());
    unsigned v = 0;
    const auto part = h.substr(i, dot - i);
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || part.size() > 3 || ec != std::errc() || p != part.data() + part.size() || v > 255) return false;
    i = dot + 1;
  }
  return parts == 4;
}

bool ipv6_literal(std::string_view h) {
  if (h.empty() || h.size() > 45) return false;
  for (char c : h)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
      return false;
  return h.find(':') != std::string_view::npos;  // the endpoint's own parse is the final judge
}

std::variant<listen_address, usage_error> parse_listen(std::string_view value) {
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos)
    return usage_error{"--listen: expected HOST:PORT, got " + cli::quote(value)};
  std::string_view host = value.substr(0, colon);
  const std::string_view port = value.substr(colon + 1);
  listen_address out;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!ipv6_literal(host)) return usage_error{"--listen: " + cli::quote(host) + " is not an IPv6 address"};
  } else if (host != "localhost" && !ipv4_literal(host)) {
    return usage_error{"--listen: " + cli::quote(host) + " is not an IP address (IPv6 in brackets) or localhost"};
  }
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
    return usage_error{"--listen: port " + cli::quote(port) + " is not in 0..65535"};
  out.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  out.port = static_cast<std::uint16_t>(p);
  return out;
}

}  // namespace

std::string_view usage_text() noexcept { return usage; }

parse_result parse_options(const std::vector<std::string_view>& args, const env_lookup& env) {
  options out;
  cli::consul_flags consul;
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
      case flag::config: out.configs.emplace_back(std::string(value)); break;
      case flag::addr: {
        auto a = cli::parse_addr(value);
        if (auto* e = std::get_if<usage_error>(&a)) return std::move(*e);
        consul.addr = std::get<consul_address>(std::move(a));
        break;
      }
      case flag::token: consul.token = std::string(value); break;
      case flag::dc: consul.dc = std::string(value); break;
      case flag::listen: {
        auto l = parse_listen(value);
        if (auto* e = std::get_if<usage_error>(&l)) return std::move(*e);
        out.listen = std::get<listen_address>(std::move(l));
        break;
      }
      case flag::ttl: {
        auto d = cli::parse_duration_flag(name, value);
        if (auto* e = std::get_if<usage_error>(&d)) return std::move(*e);
        out.ttl = std::get<std::chrono::milliseconds>(d);
        if (out.ttl.count() <= 0) return usage_error{"--ttl: must be positive, got " + cli::quote(value)};
        break;
      }
      case flag::no_publish: out.publish = false; break;
      case flag::deregister: out.deregister_on_exit = true; break;
    }
  }
  if (out.configs.empty()) return usage_error{"missing --config (see --help)"};
  auto config = cli::consul_settings(env, std::move(consul), out.warnings);
  if (auto* e = std::get_if<usage_error>(&config)) return std::move(*e);
  out.config = std::get<consul_config>(std::move(config));
  return out;
}

}  // namespace coalias::agent_cli
