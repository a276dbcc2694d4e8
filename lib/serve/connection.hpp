// One connection of the health endpoint: a structured task that reads requests, answers them in order and ends
// on close, error, the idle timeout or a stop.
//
// Thread safety: `start` and `request_stop` from any thread; everything else runs on the task's strand.
#pragma once

#include "core/structured_task.hpp"
#include "serve/routes.hpp"

#include <coalias/health_endpoint.hpp>
#include <coalias/local_state.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace coalias::detail {

/// What every connection of one endpoint reads; shared so that it outlives the last connection.
struct endpoint_config {
  endpoint_config(const local_state& s, endpoint_options o) : state(s), options(std::move(o)) {}
  const local_state& state;
  const endpoint_options options;
};

class endpoint_connection final : public structured_task {
 public:
  endpoint_connection(const asio::any_io_executor& ex, asio::ip::tcp::socket socket,
                      std::shared_ptr<const endpoint_config> config);

 protected:
  asio::awaitable<void> run() override;

 private:
  using clock = std::chrono::steady_clock;

  asio::awaitable<void> serve();
  asio::awaitable<void> watchdog();
  /// Reads what the peer sent next onto `in_`; false at end of stream or on error.
  asio::awaitable<bool> read_more();
  asio::awaitable<bool> flush();
  /// flush(), then read_more(); false if either failed.
  asio::awaitable<bool> flush_and_read();
  /// Sends the pending answers, then closes gracefully.
  asio::awaitable<void> close_after_flush();
  /// Sends the pending answers and the error answer for `error_status` (400, 431), then closes gracefully.
  asio::awaitable<void> answer_and_close(int error_status);
  asio::awaitable<void> linger();

  asio::ip::tcp::socket socket_;
  const std::shared_ptr<const endpoint_config> config_;
  clock::time_point deadline_;  // strand only; only ever moves later, so the watchdog never wakes too late
  std::string in_;              // bytes received and not yet handled
  std::string out_;             // answers not yet written
};

}  // namespace coalias::detail
