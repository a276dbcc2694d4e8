// coalias-agent's stderr: one line per event, written whole (library threads may log too), never with the token.
//
//   start: 2 checks, publishing to http://127.0.0.1:8500 (ttl 30s)
//   start: 2 checks, not publishing
//   listening on 127.0.0.1:8080
//   check "web-alias": passing: All checks passing.
//   check "web-alias": critical: Aliased check "pg port" failing: connection refused
//   check "web-alias": publish failed: <reason>
//   check "web-alias": publish recovered
//   reload: 1 added, 1 changed, 1 removed, 2 unchanged
//   reload refused: <why>
//
// Event lines carry no program-name prefix (they are a log; `listening on HOST:PORT` stays easy to find);
// errors do: `coalias-agent: <message>`. Quoted ids and outputs are escaped so that every event is one line.
//
// Thread safety: `event_log` may be used from any thread; the line functions are pure.
#pragma once

#include <coalias/health_check.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace coalias::agent_cli {

struct options;

/// How many checks were changed by a reload.
struct reload_counts {
  reload_counts() = default;
  std::size_t added = 0, changed = 0, removed = 0, unchanged = 0;
};

std::string start_line(std::size_t checks, const options& opts);
std::string listening_line(std::string_view host, unsigned short port);
std::string status_line(const health_check& c);
std::string publish_failed_line(std::string_view check_id, std::string_view reason);
std::string publish_recovered_line(std::string_view check_id);
std::string reload_line(const reload_counts& n);
std::string reload_refused_line(std::string_view why);
/// An error line: `coalias-agent: <message>` (the message made one line).
std::string error_line(std::string_view message);

/// "30s", "1m30s" style for whole seconds, else milliseconds.
std::string format_ttl(std::chrono::milliseconds ttl);

class event_log {
 public:
  explicit event_log(std::FILE* out) : out_(out) {}
  /// Writes `text` and a newline in one piece, and flushes.
  void write(std::string_view text);

 private:
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace coalias::agent_cli
