// Where and how to reach Consul: the agent address, TLS files, the ACL token and request defaults, filled in from
// code or from the CONSUL_* environment variables that Consul's own CLI and Go client read.
//
// The token is a secret: no error text, warning or description produced here ever contains it, and nothing here
// prints a whole config. `describe()` shows only whether a token is set.
//
// Thread safety: plain values, used like any std type; the functions are reentrant.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coalias {

/// A Consul HTTP endpoint: TCP `host:port` (optionally TLS, optionally under a path prefix) or a unix socket.
class consul_address {
 public:
  enum class kind : std::uint8_t { tcp, unix_socket };

  /// 127.0.0.1:8500, plain HTTP: Consul's default.
  consul_address() = default;

  /// Parses CONSUL_HTTP_ADDR's forms:
  ///  - `host`, `host:port`, `[v6]`, `[v6]:port` (no port → 8500; an IPv6 literal must be bracketed);
  ///  - `http://host[:port][/prefix]`, `https://host[:port][/prefix]` (TLS on; no port → 8500 as well);
  ///  - `unix:///path/to/socket`.
  /// The scheme is matched case-insensitively. Throws `std::system_error` with `errc::bad_address` for any other
  /// scheme, an empty host or socket path, a port outside 1..65535, user info (`user@`), a query or fragment, or
  /// characters that do not belong in a host name. The message names the problem without echoing the whole value.
  static consul_address parse(std::string_view text);

  kind type() const noexcept { return kind_; }
  /// Host name or IP literal without brackets; "localhost" for a unix socket.
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  /// "" or a prefix starting with '/' and not ending with one, e.g. "/consul".
  const std::string& path_prefix() const noexcept { return path_prefix_; }
  /// The socket path for `kind::unix_socket`, else "".
  const std::string& unix_socket() const noexcept { return unix_socket_; }
  bool tls() const noexcept { return tls_; }
  /// Turns TLS on or off. The environment only ever turns it on (`http://` never downgrades CONSUL_HTTP_SSL).
  void set_tls(bool on) noexcept { tls_ = on; }

  /// Scheme, authority and path prefix to put in front of `/v1/...`: `http://127.0.0.1:8500`,
  /// `https://[::1]:8501/consul`. For a unix socket: `http://localhost` (plus any prefix); the transport must then
  /// connect to `unix_socket()` instead of resolving the host.
  std::string base_url() const;

  friend bool operator==(const consul_address&, const consul_address&) = default;

 private:
  kind kind_ = kind::tcp;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 8500;
  std::string path_prefix_;
  std::string unix_socket_;
  bool tls_ = false;
};

/// TLS settings for an `https` address. Empty paths mean "not set": the system trust store, no client certificate,
/// and the address's host as the name to verify.
struct tls_config {
  std::string ca_file;      ///< PEM bundle to trust (CONSUL_CACERT)
  std::string ca_path;      ///< directory of CA certificates (CONSUL_CAPATH)
  std::string cert_file;    ///< client certificate (CONSUL_CLIENT_CERT); needs key_file
  std::string key_file;     ///< client key (CONSUL_CLIENT_KEY); needs cert_file
  std::string server_name;  ///< SNI and verified name, without port (CONSUL_TLS_SERVER_NAME)
  bool verify = true;       ///< verify the server certificate (CONSUL_HTTP_SSL_VERIFY)

  tls_config() = default;  // not an aggregate: g++ 12 mis-destroys aggregate temporaries next to co_await
  friend bool operator==(const tls_config&, const tls_config&) = default;
};

/// Everything the Consul client needs. Defaults match Consul's Go client except `wait` (the alias checks' own
/// one-minute blocking query) and the two limits.
struct consul_config {
  consul_address address;                   ///< default 127.0.0.1:8500
  std::string token;                        ///< ACL token, sent as X-Consul-Token; secret, never printed
  std::string datacenter;                   ///< `dc=` on every request when not empty
  std::string ns;                           ///< `ns=` (Consul Enterprise) when not empty
  std::string partition;                    ///< `partition=` (Consul Enterprise) when not empty
  coalias::tls_config tls;
  std::chrono::milliseconds wait{std::chrono::seconds(60)};  ///< blocking-query `wait`
  std::size_t max_body = std::size_t{16} << 20;              ///< responses above this many bytes are refused
  /// Connections to the agent at once. Consul refuses more than 200 concurrent connections per client IP
  /// (`limits.http_max_conns_per_client`) and every process on a host shares 127.0.0.1 towards its local agent,
  /// so the default of 8 leaves room for many processes. One connection stays reserved for non-blocking requests
  /// (catalog look-ups); `max_connections - 1` carry blocking queries: one per watched node while the nodes fit,
  /// else group queries on /v1/health/state/any that cover all of them (see remote_hub.hpp).
  /// Over an `https` address, HTTP/2: a connection carries up to 250 requests (Consul's stream limit), so the
  /// nodes fit up to `(max_connections - 1) * 250` (1,750 by default) before group queries take over, still
  /// `max_connections - 1` of them. Plain HTTP and unix sockets are HTTP/1.1: one request per connection.
  std::size_t max_connections = 8;

  consul_config() = default;  // not an aggregate: see tls_config
};

/// Looks up one environment variable: the value, or nullopt when unset. An empty value counts as unset, as in
/// Consul's Go client.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Reads the real process environment (std::getenv). Not thread-safe against concurrent setenv, like getenv.
env_lookup process_environment();

/// A config whose defaults come from Consul's environment variables:
///  CONSUL_HTTP_ADDR (see `consul_address::parse`), CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE (read once, trimmed,
///  wins over CONSUL_HTTP_TOKEN unless it holds only whitespace), CONSUL_HTTP_SSL and CONSUL_HTTP_SSL_VERIFY (Go
///  ParseBool: 1 t T TRUE true True 0 f F FALSE false False), CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT and
///  CONSUL_CLIENT_KEY (both or neither), CONSUL_TLS_SERVER_NAME (a trailing `:port` is dropped), CONSUL_NAMESPACE,
///  CONSUL_PARTITION. Unset variables keep the `consul_config()` defaults.
///
/// An unparseable bool is ignored, as Consul does, and described in `warnings` (if given). Errors throw
/// `std::system_error`: `errc::bad_address` for CONSUL_HTTP_ADDR, `errc::invalid_argument` for an unreadable token
/// file or a certificate without its key (or the reverse). No message or warning contains the token.
consul_config from_environment(const env_lookup& lookup = process_environment(),
                               std::vector<std::string>* warnings = nullptr);

/// Go's strconv.ParseBool: nullopt for anything but the twelve accepted spellings.
std::optional<bool> parse_go_bool(std::string_view text) noexcept;

/// One line for logs: address, TLS settings, dc/ns/partition, wait, limits, and `token=<set>` or `token=<none>`,
/// never the token itself.
std::string describe(const consul_config& config);

}  // namespace coalias
