// Observers: hooks that let a program count, log or export what the publisher and the remote hub do
// (coalias-metrics implements both; coalias-agent logs with them).
//
// Threads: every hook is called from library threads (the strands of the tasks it reports on), possibly several
// at once. An implementation must be thread-safe and must not block: it runs inside the library's tasks.
// Lifetime: an observer is not owned; it must outlive every object it was given to.
// Tokens never reach an observer: reasons are built from status codes and error texts that hold no token.
#pragma once

#include <coalias/status.hpp>

#include <chrono>
#include <string_view>

namespace coalias {

/// What a ttl_publisher reports about each published check.
class publish_observer {
 public:
  virtual ~publish_observer() = default;
  /// The agent accepted the check's registration (at start, after a 404 or after async_replace).
  virtual void on_registered(std::string_view /*check_id*/) {}
  /// The agent acknowledged a new state of the check, with status `s` (heartbeats of an unchanged state are not
  /// reported). `since_change`: from the local_state write of this state until the acknowledgement, as the
  /// publisher sees it: a write wakes it at once when no request is in flight; a write made during a request is
  /// counted from that request's end, when the newest state is read.
  virtual void on_published(std::string_view /*check_id*/, status /*s*/, std::chrono::nanoseconds /*since_change*/) {}
  /// A request failed, or the publisher gave the check up; `reason` is one line and never holds a token.
  virtual void on_publish_failed(std::string_view /*check_id*/, std::string_view /*reason*/) {}
  /// The first success after one or more failures.
  virtual void on_publish_recovered(std::string_view /*check_id*/) {}
  /// The check was deregistered from the agent (async_remove or async_shutdown with `deregister`).
  virtual void on_deregistered(std::string_view /*check_id*/) {}
};

/// What a remote_hub reports about its queries, per node.
class remote_observer {
 public:
  virtual ~remote_observer() = default;
  /// A query for `node` failed; `reason` is one line and never holds a token.
  virtual void on_query_failed(std::string_view /*node*/, std::string_view /*reason*/) {}
  /// The first good answer for `node` after one or more failures.
  virtual void on_query_recovered(std::string_view /*node*/) {}
};

}  // namespace coalias
