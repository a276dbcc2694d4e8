// The local Consul agent the test server plays: /v1/agent/self and the agent's check and service endpoints, with
// TTL checks that expire on a clock tests can move. Agent-registered checks and services live in the catalog on
// the agent's node (server_options::agent_node), so /v1/health/node shows them and held queries wake.
//
// Thread safety: the agent's tables are guarded by the server's state mutex (every access goes through
// impl::mutate_state/read_state); the expiry timer is touched on the server thread only.
#pragma once

#include "cluster_state.hpp"
#include "http_request.hpp"
#include "http_response.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coalias::testing::detail {

/// True for the paths agent_endpoints answers.
bool is_agent_path(std::string_view path) noexcept;

class agent_endpoints {
 public:
  explicit agent_endpoints(consul_test_server::impl& server);

  /// Answers one agent request (server thread). `body` is the request body.
  http_response answer(const http_request& req, std::string_view body);

  std::vector<agent_check> checks() const;
  std::vector<agent_request> requests() const;
  std::uint64_t writes() const;
  void restart();
  void advance_clock(std::chrono::nanoseconds d);
  /// Server thread, at shutdown: ends the expiry timer's wait.
  void stop();

 private:
  using clock = std::chrono::steady_clock;
  struct check_row {
    agent_check info;
    std::optional<clock::time_point> deadline;  // agent-clock time the TTL runs out; none once expired
    std::string last_output;                    // what "TTL expired" quotes
  };

  // `denied`: the request's token is refused; each endpoint says so where Consul resolves the token.
  http_response self() const;
  http_response register_service(std::string_view body, bool denied);
  http_response register_check(std::string_view body, bool denied);
  http_response update_check(std::string_view id, std::string_view body, bool denied);
  http_response deregister_check(std::string_view id);

  // Under the state lock:
  clock::time_point now() const { return clock::now() + skew_; }
  void expire_due(cluster_state& state);
  void forget_all(cluster_state& state);

  void rearm();  // server thread: the timer waits for the earliest deadline
  void log(const http_request& req, std::string_view body, int status);

  consul_test_server::impl& server_;
  asio::steady_timer timer_;  // server thread
  // Guarded by the server's state mutex:
  std::map<std::string, check_row> checks_;
  std::map<std::string, std::string> services_;  // ID -> name
  clock::duration skew_{0};                      // advance_clock moves the agent's clock ahead of the real one
  // The request log has its own mutex: it is written after the answer is built.
  mutable std::mutex log_mutex_;
  std::deque<agent_request> log_;
  std::uint64_t writes_ = 0;
};

}  // namespace coalias::testing::detail
