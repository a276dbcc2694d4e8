#include "options.hpp"

#include <coalias/duration.hpp>

#include <chrono>
#include <optional>
#include <system_error>

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

// Go's %q of a value, cut to 64 bytes so a huge argument cannot flood the terminal.
std::string quote(std::string_view v) {
  if (v.size() > 64) return go_quote(v.substr(0, 64)) + "...";
  return go_quote(v);
}

// A system_error's what() is "<what_arg>: <category message>"; keep the what_arg, which names the problem.
std::string reason(const std::system_error& e) {
  std::string_view w = e.what();
  const std::string suffix = ": " + e.code().message();
  if (w.size() > suffix.size() && w.substr(w.size() - suffix.size()) == suffix) w.remove_suffix(suffix.size());
  return std::string(w);
}

// Library messages may quote values (a token-file path, say) with control characters in them: the CLI promises
// exactly one line on stderr, so those are shown escaped.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += hex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

enum class flag { node, service, addr, token, dc, wait, json, once, demo, help };

struct flag_spec {
  std::string_view name;
  flag id;
  bool takes_value;
};

constexpr flag_spec flags[] = {
    {"--node", flag::node, true},   {"--service", flag::service, true}, {"--addr", flag::addr, true},
    {"--token", flag::token, true}, {"--dc", flag::dc, true},           {"--wait", flag::wait, true},
    {"--json", flag::json, false},  {"--once", flag::once, false},      {"--demo", flag::demo, false},
    {"--help", flag::help, false},  {"-h", flag::help, false},
};

const flag_spec* find_flag(std::string_view name) {
  for (const auto& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace

std::string_view usage_text() noexcept { return usage; }

parse_result parse_options(const std::vector<std::string_view>& args, const env_lookup& env) {
  options out;
  bool demo = false;
  bool other_than_demo = false;
  std::optional<std::string> node, service, token, dc;
  std::optional<consul_address> addr;
  std::optional<std::chrono::milliseconds> wait;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      return usage_error{"unexpected argument " + quote(arg) + " (options start with --)"};
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const flag_spec* spec = find_flag(name);
    if (!spec) return usage_error{"unknown option " + quote(name)};  // never the value after '=': it may be a secret
    if (!spec->takes_value) {
      if (eq != std::string_view::npos) return usage_error{std::string(name) + " takes no value"};
      switch (spec->id) {
        case flag::help: {
          options h;
          h.mode = mode::help;
          return h;
        }
        case flag::demo: demo = true; break;
        case flag::json: out.json = true; other_than_demo = true; break;
        case flag::once: out.once = true; other_than_demo = true; break;
        default: break;
      }
      continue;
    }
    other_than_demo = true;
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !(args[i + 1].size() >= 2 && args[i + 1].substr(0, 2) == "--")) {
      value = args[++i];
    } else {
      return usage_error{std::string(name) + ": missing value"};
    }
    if (value.empty()) return usage_error{std::string(name) + ": empty value"};
    switch (spec->id) {
      case flag::node: node = std::string(value); break;
      case flag::service: service = std::string(value); break;
      case flag::token: token = std::string(value); break;
      case flag::dc: dc = std::string(value); break;
      case flag::addr:
        try {
          addr = consul_address::parse(value);
        } catch (const std::system_error& e) {
          return usage_error{"--addr: " + one_line(reason(e))};
        }
        break;
      case flag::wait: {
        std::chrono::nanoseconds d{};
        if (parse_duration(value, d)) return usage_error{"--wait: invalid duration " + quote(value)};
        // Round a positive sub-millisecond wait up: 0 would mean "the server's default".
        wait = std::chrono::ceil<std::chrono::milliseconds>(d);
        break;
      }
      default: break;
    }
  }

  if (demo) {
    if (other_than_demo) return usage_error{"--demo cannot be combined with other options"};
    out.mode = mode::demo;
    return out;
  }
  if (!node) return usage_error{"missing --node (see --help)"};

  // The environment first, then the flags on top; a variable a flag replaces is never read.
  const bool have_addr = addr.has_value();
  const bool have_token = token.has_value();
  const env_lookup masked = [&](std::string_view var) -> std::optional<std::string> {
    if (have_addr && var == "CONSUL_HTTP_ADDR") return std::nullopt;
    if (have_token && (var == "CONSUL_HTTP_TOKEN" || var == "CONSUL_HTTP_TOKEN_FILE")) return std::nullopt;
    return env(var);
  };
  try {
    out.config = from_environment(masked, &out.warnings);
  } catch (const std::system_error& e) {
    return usage_error{"environment: " + one_line(reason(e))};
  }
  if (addr) {
    const bool tls = out.config.address.tls();  // only CONSUL_HTTP_SSL can have set it: CONSUL_HTTP_ADDR was hidden
    out.config.address = std::move(*addr);
    if (tls) out.config.address.set_tls(true);
  }
  if (token) out.config.token = std::move(*token);
  if (dc) out.config.datacenter = std::move(*dc);
  if (wait) out.config.wait = *wait;
  out.target.node = std::move(*node);
  if (service) out.target.service_id = std::move(*service);
  return out;
}

}  // namespace coalias::watch_cli
