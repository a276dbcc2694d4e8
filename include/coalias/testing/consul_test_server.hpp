// A Consul-compatible HTTP test server: the endpoints aliasing reads (/v1/health/node/:node and
// /v1/catalog/node/:node) and the two that cover many targets (/v1/health/service/:name and
// /v1/health/state/:state), with blocking queries, ACL tokens, fault injection and request observation.
// Link `coalias-testing` to test a service without running Consul.
//
// Blocking queries are as strict as Consul's state store: a held query returns when what it reads changed, or
// at the end of its wait, never because something else changed. /v1/health/node/<n> wakes on a change to node
// n's checks, /v1/catalog/node/<n> on node n or its services, /v1/health/service/<s> on service s's index (its
// instances, their checks and the node-level checks of their nodes), /v1/health/state/<st> on any check change
// (its `filter` applies after). X-Consul-Index stays Consul's: the checks table's max index for the health
// endpoints but /health/service, whose index is the service's own (the catalog and checks max while it has no
// instance); the catalog's max index for /catalog/node.
//
// `filter` (go-bexpr) is understood on the three health endpoints in a subset: `Sel == "v"`, `Sel != "v"`,
// `and`, `or`, parentheses. Check rows have the selectors Node, CheckID, Name, Status, Notes, Output,
// ServiceID, ServiceName, Type; /health/service instances Node.ID, Node.Node, Node.Address, Node.Datacenter,
// Service.ID, Service.Service, Service.Address (as in Consul: `Node == "x"` is not valid there). Anything else
// is a 400 naming what is not supported.
//
// Connections: like Consul's `limits.http_max_conns_per_client`, at most `max_conns_per_client` concurrent
// connections per client IP; one more gets, over plain HTTP, Consul's 429 (`Your IP is issuing too many
// concurrent connections, please rate limit your calls` plus a newline, `Connection: close`) and is closed; over
// TLS it is closed without a handshake.
//
// The local agent: the server also plays the Consul agent at its address, node `server_options::agent_node`:
// GET /v1/agent/self, PUT /v1/agent/service/register, PUT /v1/agent/check/register, PUT
// /v1/agent/check/update/<id> and PUT /v1/agent/check/deregister/<id>, with Consul's validation order and error
// texts (400 `Missing check name`, `Bad check status`, `Invalid check: TTL must be > 0 for TTL checks`,
// `Invalid check status: '<s>'`, `Request decode failed: ...`; 404 `ServiceID "<id>" does not exist` and
// `Unknown check ID "<id>". Ensure that the check ID is passed, not the check name.`; 500 `CheckID "<id>" does
// not have associated TTL` for an agent check that is not a TTL check (alias, http or tcp: stored, never run);
// 403 `ACL not found` under ACLs; 405 for another method). Registered checks and services are written to the
// catalog on the agent's node, so /v1/health/node/<agent_node> shows them with a fresh index and held queries
// wake; an unchanged update moves no index (as Consul). Like Consul, registration ignores `Output` (a new check
// has none until its first update) and an update's output over 4,096 bytes is cut there by bytes with
// ` ... (captured 4096 of N bytes)` appended. A TTL check that gets no update within its TTL turns critical with
// `TTL expired` or `TTL expired (last output before timeout follows): <output>`. The agent's TTL clock runs in
// real time and advance_agent_clock() moves it ahead, so tests expire TTLs without sleeping. Faults apply to
// agent paths too (a delay, a status, a dropped connection), before the request changes anything.
//
// The server runs on its own thread with its own io_context, so the client code under test can run in any
// io_context of its own, and listens on 127.0.0.1 with an ephemeral port.
//
// Wire fidelity: header names are sent as Consul (Go net/http) sends them over HTTP/1.1, canonicalised:
// `X-Consul-Index`, `X-Consul-Knownleader`, `X-Consul-Lastcontact`. Clients must match header names
// case-insensitively, as the HTTP RFCs require. X-Consul-Index is set on 200 answers of the two endpoints,
// never on errors (Consul writes errors before its meta headers).
//
// Thread safety: every public member function may be called from any thread, concurrently, except that
// `stop()` (and so the destructor) must not be called from a handler running on the server's own thread.
// State mutations take effect atomically: a response sees a mutation entirely or not at all.
#pragma once

#include <coalias/health_check.hpp>
#include <coalias/status.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coalias::testing {

/// Configuration of a test server. (The constructor keeps this a non-aggregate: see docs/toolchain.md, g++ 12.)
struct server_options {
  server_options() = default;

  std::string datacenter = "dc1";  ///< `?dc=` must name this (case-insensitively) or get 500
  std::string acl_token;           ///< non-empty: every request must present this token, else 403
  std::string tls_cert_file;       ///< PEM certificate chain; with tls_key_file set, the server speaks HTTPS
  std::string tls_key_file;        ///< PEM private key
  std::uint64_t initial_index = 10;                                       ///< first raft index
  std::chrono::milliseconds default_wait = std::chrono::minutes(5);       ///< blocking wait without `wait=`
  std::chrono::milliseconds max_wait = std::chrono::minutes(10);          ///< cap of wait + jitter
  bool wait_jitter = true;                        ///< add a random delay up to wait/16, as Consul does
  std::size_t request_log_capacity = 256;         ///< recent_requests() keeps at most this many
  std::size_t max_conns_per_client = 200;         ///< per client IP, as Consul's default; 0 = no limit
  std::string agent_node = "test-agent";          ///< the node of the agent the server plays (/v1/agent/...)
};

/// What a fault does to the request it hits.
enum class fault_kind {
  http_status,           ///< answer `status` with `body` (text/plain)
  malformed_json,        ///< 200 with a body that is not JSON (`body`, or a fixed broken text)
  truncated_json,        ///< 200 with the first half of the real body; Content-Length matches what is sent
  lying_content_length,  ///< 200 whose Content-Length claims 100 bytes more than sent, then close
  delay,                 ///< wait `delay` (or until the client hangs up), then answer normally
  index_regress,         ///< answer normally but with X-Consul-Index `index`, or half the last index sent
  index_zero,            ///< answer normally but with the literal header `X-Consul-Index: 0`
  drop_connection,       ///< close the connection without answering
};

/// One injected fault. Build it with a factory, refine it with `on_path` and `times`/`persistent`.
struct fault {
  fault() = default;

  fault_kind kind = fault_kind::http_status;
  int status = 500;
  std::string body = "No cluster leader";
  std::chrono::milliseconds delay{0};
  std::uint64_t index = 0;  ///< for index_regress; 0 = half the last index sent (at least 1)
  std::string path_prefix;  ///< only requests whose path starts with this; empty = all
  std::size_t count = 1;    ///< hits left; 0 = persistent until clear_faults()

  static fault with_status(int status, std::string body);
  static fault no_leader();             ///< 500 "No cluster leader"
  static fault too_many_connections();  ///< 429 "Your IP is issuing too many concurrent connections, ..."
  static fault permission_denied();     ///< 403 "Permission denied"
  static fault malformed_json();
  static fault truncated_json();
  static fault lying_content_length();
  static fault delayed(std::chrono::milliseconds d);
  static fault index_regress(std::uint64_t to = 0);
  static fault index_zero();
  static fault drop_connection();

  fault on_path(std::string prefix) const;
  fault times(std::size_t n) const;
  fault persistent() const;
};

/// The raft-like indexes. `checks` is what /v1/health/node reports (cluster-wide: any node's change moves it);
/// `catalog` (nodes and services) is what /v1/catalog/node reports. Never 0.
struct index_snapshot {
  std::uint64_t raft = 0;
  std::uint64_t checks = 0;
  std::uint64_t catalog = 0;
};

/// A registered node. Names are matched case-insensitively, as Consul's state store does.
struct node_info {
  std::string name;
  std::string id;
  std::string address;
};

/// One request as received.
struct request_record {
  std::chrono::system_clock::time_point time;
  std::string method;
  std::string target;  ///< path + query exactly as received
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first value of header `name` (case-insensitive), if present.
  std::optional<std::string> header(std::string_view name) const;
};

/// A check registered through the agent API (PUT /v1/agent/check/register).
struct agent_check {
  std::string check_id;
  std::string name;
  std::string notes;
  std::string service_id;
  std::string type;                  ///< "ttl", "alias", "http" or "tcp"
  std::chrono::nanoseconds ttl{0};   ///< 0 unless a TTL check
  coalias::status status = coalias::status::critical;
  std::string output;
};

/// One request to /v1/agent/..., with its body and the status it was answered with (faults excluded).
struct agent_request {
  std::string method;
  std::string path;
  std::string body;
  int status = 0;
};

/// Endpoints counted separately by requests_to().
enum class endpoint { health_node, catalog_node, other, health_service, health_state };

class consul_test_server {
 public:
  /// Binds 127.0.0.1:0 and starts serving. Throws std::system_error (bind, TLS files) on failure.
  explicit consul_test_server(server_options options = server_options());
  ~consul_test_server();
  consul_test_server(const consul_test_server&) = delete;
  consul_test_server& operator=(const consul_test_server&) = delete;

  /// Closes the listener and every connection, ends held queries, joins the thread. Idempotent.
  void stop();

  std::uint16_t port() const noexcept;
  std::string address() const;  ///< "127.0.0.1:PORT"
  std::string url() const;       ///< "http://127.0.0.1:PORT" or "https://..."

  // ---- cluster state (each change bumps the raft index; a no-op change moves no table index) ----

  /// Registers or updates a node. An empty `id` gets a stable UUID derived from the name.
  void add_node(std::string name, std::string address = "127.0.0.1", std::string id = {});
  /// Removes the node with its services and checks. False if unknown.
  bool remove_node(std::string_view name);
  /// Registers or updates a service on `node` (registering the node if needed).
  void add_service(std::string_view node, const service& svc, std::vector<std::string> tags = {},
                   std::uint16_t port = 0);
  /// Removes the service and its checks. False if unknown.
  bool remove_service(std::string_view node, std::string_view service_id);
  /// Adds or replaces a check. Registers `check.node` and, for a service check, the service (named
  /// `check.service_name`) when unknown, like Consul's catalog register. `type` is the wire "Type".
  void set_check(const health_check& check, std::string type = {});
  /// Changes status and output of a check. False if unknown.
  bool update_check_status(std::string_view node, std::string_view check_id, status s, std::string output);
  /// False if unknown.
  bool remove_check(std::string_view node, std::string_view check_id);

  std::optional<node_info> find_node(std::string_view name) const;
  std::vector<health_check> checks(std::string_view node) const;  ///< sorted by check ID
  index_snapshot indexes() const;

  // ---- the local agent ----

  /// The agent's registered checks, sorted by ID.
  std::vector<agent_check> agent_checks() const;
  /// Forgets every agent-registered check and service, and removes them from the catalog, as an agent restart
  /// without persistence does; updates then answer 404.
  void restart_agent();
  /// Moves the agent's TTL clock ahead by `d`: every TTL check whose TTL has run out by then expires at once.
  void advance_agent_clock(std::chrono::nanoseconds d);
  /// The last requests to /v1/agent/... (at most request_log_capacity), oldest first.
  std::vector<agent_request> agent_requests() const;
  /// PUTs to /v1/agent/... answered so far (every status), the log's capacity notwithstanding.
  std::uint64_t agent_writes() const;

  // ---- fault injection ----

  /// Queues a fault; a request takes the first queued fault whose prefix matches its path.
  void inject(fault f);
  void clear_faults();
  std::uint64_t faults_injected() const;  ///< faults applied so far

  // ---- observation ----

  std::uint64_t total_requests() const;
  std::uint64_t requests_to(endpoint e) const;
  std::vector<request_record> recent_requests() const;  ///< oldest first
  void clear_request_log();
  std::size_t open_connections() const;    ///< served connections open now (refused ones never count)
  std::size_t peak_connections() const;
  std::uint64_t connections_accepted() const;  ///< every TCP connection accepted so far, refused ones included
  std::uint64_t connections_refused() const;   ///< those over max_conns_per_client
  void reset_peak_connections();  ///< peak := current open count
  std::size_t held_queries() const;  ///< blocking queries waiting for a change right now

  /// Waits until exactly `n` blocking queries are held; false on timeout. Lets tests sync without sleeping.
  bool wait_for_held_queries(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits until exactly `n` connections are open; false on timeout.
  bool wait_for_open_connections(std::size_t n, std::chrono::milliseconds timeout) const;

  class impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace coalias::testing
