#include "args.hpp"

#include <coalias/aggregate.hpp>
#include <coalias/duration.hpp>

namespace coalias::cli {

std::string quote(std::string_view v) {
  if (v.size() > 64) return go_quote(v.substr(0, 64)) + "...";
  return go_quote(v);
}

std::string reason(const std::system_error& e) {
  std::string_view w = e.what();
  const std::string suffix = ": " + e.code().message();
  if (w.size() > suffix.size() && w.substr(w.size() - suffix.size()) == suffix) w.remove_suffix(suffix.size());
  return std::string(w);
}

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

std::variant<flag_arg, usage_error> next_flag(const std::vector<std::string_view>& args, std::size_t& i,
                                              std::span<const flag_spec> flags) {
  const std::string_view arg = args[i];
  if (arg.size() < 2 || arg[0] != '-') return usage_error{"unexpected argument " + quote(arg) + " (options start with --)"};
  const auto eq = arg.find('=');
  const std::string_view name = arg.substr(0, eq);
  const flag_spec* spec = nullptr;
  for (const auto& f : flags)
    if (f.name == name) spec = &f;
  if (!spec) return usage_error{"unknown option " + quote(name)};  // never the value after '=': it may be a secret
  flag_arg out;
  out.id = spec->id;
  out.name = name;
  if (!spec->takes_value) {
    if (eq != std::string_view::npos) return usage_error{std::string(name) + " takes no value"};
    return out;
  }
  if (eq != std::string_view::npos) {
    out.value = arg.substr(eq + 1);
  } else if (i + 1 < args.size() && !(args[i + 1].size() >= 2 && args[i + 1].substr(0, 2) == "--")) {
    out.value = args[++i];
  } else {
    return usage_error{std::string(name) + ": missing value"};
  }
  if (out.value.empty()) return usage_error{std::string(name) + ": empty value"};
  return out;
}

std::variant<consul_address, usage_error> parse_addr(std::string_view value) {
  try {
    return consul_address::parse(value);
  } catch (const std::system_error& e) {
    return usage_error{"--addr: " + one_line(reason(e))};
  }
}

std::variant<std::chrono::milliseconds, usage_error> parse_duration_flag(std::string_view name, std::string_view value) {
  std::chrono::nanoseconds d{};
  if (parse_duration(value, d)) return usage_error{std::string(name) + ": invalid duration " + quote(value)};
  // Round a positive sub-millisecond value up: 0 often means "the default".
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

std::variant<consul_config, usage_error> consul_settings(const env_lookup& env, consul_flags flags,
                                                         std::vector<std::string>& warnings) {
  const bool have_addr = flags.addr.has_value();
  const bool have_token = flags.token.has_value();
  const env_lookup masked = [&](std::string_view var) -> std::optional<std::string> {
    if (have_addr && var == "CONSUL_HTTP_ADDR") return std::nullopt;
    if (have_token && (var == "CONSUL_HTTP_TOKEN" || var == "CONSUL_HTTP_TOKEN_FILE")) return std::nullopt;
    return env(var);
  };
  consul_config config;
  try {
    config = from_environment(masked, &warnings);
  } catch (const std::system_error& e) {
    return usage_error{"environment: " + one_line(reason(e))};
  }
  if (flags.addr) {
    const bool tls = config.address.tls();  // only CONSUL_HTTP_SSL can have set it: CONSUL_HTTP_ADDR was hidden
    config.address = std::move(*flags.addr);
    if (tls) config.address.set_tls(true);
  }
  if (flags.token) config.token = std::move(*flags.token);
  if (flags.dc) config.datacenter = std::move(*flags.dc);
  return config;
}

}  // namespace coalias::cli
