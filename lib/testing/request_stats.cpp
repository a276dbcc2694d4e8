#include "request_stats.hpp"

namespace coalias::testing::detail {

void request_stats::record(const http_request& req, endpoint e) {
  request_record r{std::chrono::system_clock::now(), req.method, req.target, req.headers};
  std::lock_guard lock(mutex_);
  ++total_;
  ++per_endpoint_[static_cast<std::size_t>(e)];
  if (log_capacity_ == 0) return;
  if (log_.size() == log_capacity_) log_.pop_front();
  log_.push_back(std::move(r));
}

std::uint64_t request_stats::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::uint64_t request_stats::count(endpoint e) const {
  std::lock_guard lock(mutex_);
  return per_endpoint_[static_cast<std::size_t>(e)];
}

std::vector<request_record> request_stats::log() const {
  std::lock_guard lock(mutex_);
  return {log_.begin(), log_.end()};
}

void request_stats::clear_log() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

void request_stats::connection_accepted() {
  std::lock_guard lock(mutex_);
  ++accepted_;
}

void request_stats::connection_refused() {
  std::lock_guard lock(mutex_);
  ++refused_;
}

std::uint64_t request_stats::accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::uint64_t request_stats::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

void request_stats::connection_opened() {
  {
    std::lock_guard lock(mutex_);
    ++open_;
    if (open_ > peak_) peak_ = open_;
  }
  changed_.notify_all();
}

void request_stats::connection_closed() {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  changed_.notify_all();
}

std::size_t request_stats::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t request_stats::peak() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

void request_stats::reset_peak() {
  std::lock_guard lock(mutex_);
  peak_ = open_;
}

void request_stats::hold_started() {
  {
    std::lock_guard lock(mutex_);
    ++held_;
  }
  changed_.notify_all();
}

void request_stats::hold_ended() {
  {
    std::lock_guard lock(mutex_);
    --held_;
  }
  changed_.notify_all();
}

std::size_t request_stats::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

bool request_stats::wait_for_held(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return held_ == n; });
}

bool request_stats::wait_for_open(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return open_ == n; });
}

}  // namespace coalias::testing::detail
