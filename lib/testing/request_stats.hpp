// Counters and the bounded request log that tests and benches read.
//
// Thread safety: all members may be called from any thread. The wait_* functions block the caller (never
// call them on the server thread).
#pragma once

#include "http_request.hpp"

#include <coalias/testing/consul_test_server.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace coalias::testing::detail {

class request_stats {
 public:
  explicit request_stats(std::size_t log_capacity) : log_capacity_(log_capacity) {}

  void record(const http_request& req, endpoint e);
  std::uint64_t total() const;
  std::uint64_t count(endpoint e) const;
  std::vector<request_record> log() const;
  void clear_log();

  void connection_accepted();  ///< any accepted socket, before the per-client cap
  void connection_refused();
  std::uint64_t accepted() const;
  std::uint64_t refused() const;
  void connection_opened();
  void connection_closed();
  std::size_t open() const;
  std::size_t peak() const;
  void reset_peak();

  void hold_started();
  void hold_ended();
  std::size_t held() const;

  bool wait_for_held(std::size_t n, std::chrono::milliseconds timeout) const;
  bool wait_for_open(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  const std::size_t log_capacity_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;  // signalled when open or held change
  std::uint64_t total_ = 0;
  std::array<std::uint64_t, 5> per_endpoint_{};
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  std::deque<request_record> log_;
  std::size_t open_ = 0;
  std::size_t peak_ = 0;
  std::size_t held_ = 0;
};

}  // namespace coalias::testing::detail
