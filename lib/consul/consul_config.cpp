// The CONSUL_* environment variables, read the way Consul's Go client (api/api.go) reads them.
#include <coalias/consul_config.hpp>

#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <system_error>

namespace coalias {
namespace {

// The token file's contents, trimmed like Go's strings.TrimSpace. The message names the file, never its contents.
std::string read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::system_error(errc::invalid_argument, "CONSUL_HTTP_TOKEN_FILE: cannot open '" + path + "'");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::system_error(errc::invalid_argument, "CONSUL_HTTP_TOKEN_FILE: cannot read '" + path + "'");
  return std::string(detail::trim(data));
}

// Go ParseBool with Consul's "log and ignore" policy.
std::optional<bool> env_bool(const env_lookup& env, std::string_view name, std::vector<std::string>* warnings) {
  const auto v = env(name);
  if (!v) return std::nullopt;
  const auto b = parse_go_bool(*v);
  if (!b && warnings)
    warnings->push_back(std::string(name) + ": cannot parse '" + detail::error_excerpt(*v, 32) +
                        "' as a bool (expected true or false); ignored");
  return b;
}

// Go's rule for TLSConfig.Address: drop a ":port" unless the colon belongs to a bracketed IPv6 address.
std::string strip_port(std::string_view name) {
  const auto colon = name.rfind(':');
  const auto bracket = name.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket))
    name = name.substr(0, colon);
  return std::string(name);
}

}  // namespace

std::optional<bool> parse_go_bool(std::string_view t) noexcept {
  if (t == "1" || t == "t" || t == "T" || t == "TRUE" || t == "true" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "FALSE" || t == "false" || t == "False") return false;
  return std::nullopt;
}

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

consul_config from_environment(const env_lookup& lookup, std::vector<std::string>* warnings) {
  // Empty values count as unset, whatever the lookup returns.
  const env_lookup env = [&lookup](std::string_view name) -> std::optional<std::string> {
    auto v = lookup(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  };

  consul_config c;
  if (auto addr = env("CONSUL_HTTP_ADDR")) {
    try {
      c.address = consul_address::parse(*addr);
    } catch (const std::system_error& e) {
      // e.what() already ends with ": <category message>"; keep the reason alone, so the message reads as
      // consul_address::parse's (and coalias-watch's --addr) does, with only the variable's name in front.
      std::string_view reason = e.what();
      const std::string suffix = ": " + e.code().message();
      if (reason.ends_with(suffix)) reason.remove_suffix(suffix.size());
      throw std::system_error(e.code(), "CONSUL_HTTP_ADDR: " + std::string(reason));
    }
  }
  if (auto t = env("CONSUL_HTTP_TOKEN")) c.token = std::move(*t);
  if (auto file = env("CONSUL_HTTP_TOKEN_FILE")) {
    // A file holding only whitespace leaves CONSUL_HTTP_TOKEN in force, as in the Go client.
    if (auto t = read_token_file(*file); !t.empty()) c.token = std::move(t);
  }
  if (env_bool(env, "CONSUL_HTTP_SSL", warnings).value_or(false)) c.address.set_tls(true);
  if (auto v = env_bool(env, "CONSUL_HTTP_SSL_VERIFY", warnings)) c.tls.verify = *v;
  if (auto v = env("CONSUL_CACERT")) c.tls.ca_file = std::move(*v);
  if (auto v = env("CONSUL_CAPATH")) c.tls.ca_path = std::move(*v);
  if (auto v = env("CONSUL_CLIENT_CERT")) c.tls.cert_file = std::move(*v);
  if (auto v = env("CONSUL_CLIENT_KEY")) c.tls.key_file = std::move(*v);
  if (c.tls.cert_file.empty() != c.tls.key_file.empty())
    throw std::system_error(errc::invalid_argument,
                            c.tls.cert_file.empty() ? "CONSUL_CLIENT_KEY is set without CONSUL_CLIENT_CERT"
                                                    : "CONSUL_CLIENT_CERT is set without CONSUL_CLIENT_KEY");
  if (auto v = env("CONSUL_TLS_SERVER_NAME")) c.tls.server_name = strip_port(*v);
  if (auto v = env("CONSUL_NAMESPACE")) c.ns = std::move(*v);
  if (auto v = env("CONSUL_PARTITION")) c.partition = std::move(*v);
  return c;
}

std::string describe(const consul_config& c) {
  std::string s = "address=" + c.address.base_url();
  if (c.address.type() == consul_address::kind::unix_socket) s += " unix_socket=" + c.address.unix_socket();
  if (c.address.tls()) {
    s += " tls_verify=";
    s += c.tls.verify ? "true" : "false";
    if (!c.tls.ca_file.empty()) s += " ca_file=" + c.tls.ca_file;
    if (!c.tls.ca_path.empty()) s += " ca_path=" + c.tls.ca_path;
    if (!c.tls.cert_file.empty()) s += " cert_file=" + c.tls.cert_file + " key_file=" + c.tls.key_file;
    if (!c.tls.server_name.empty()) s += " server_name=" + c.tls.server_name;
  }
  if (!c.datacenter.empty()) s += " dc=" + c.datacenter;
  if (!c.ns.empty()) s += " ns=" + c.ns;
  if (!c.partition.empty()) s += " partition=" + c.partition;
  s += " wait=" + std::to_string(c.wait.count()) + "ms";
  s += " max_body=" + std::to_string(c.max_body);
  s += " max_connections=" + std::to_string(c.max_connections);
  s += c.token.empty() ? " token=<none>" : " token=<set>";
  return s;
}

}  // namespace coalias
