#include "core/refresh_clock.hpp"

#include <asio/execution/outstanding_work.hpp>
#include <asio/prefer.hpp>

#include <utility>

namespace coalias::detail {

asio::execution_context::id refresh_clock::id;

refresh_clock::refresh_clock(asio::execution_context& ctx) : service(ctx) {}

refresh_clock::~refresh_clock() { shutdown(); }

void refresh_clock::arm(alarm& a, clock::time_point due, const asio::any_io_executor& ex) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;  // the context is going: nothing it holds runs again
  if (a.armed_)
    due_.erase(a.slot_);
  else
    a.work_ = asio::prefer(ex, asio::execution::outstanding_work.tracked);
  a.slot_ = due_.emplace(due, &a);
  a.armed_ = true;
  if (!thread_.joinable())
    thread_ = std::thread([this] { run(); });
  else if (a.slot_ == due_.begin())
    changed_.notify_one();  // sooner than the thread sleeps for
}

void refresh_clock::cancel(alarm& a) noexcept {
  asio::any_io_executor work;  // let go after the lock: the context's last work may stop it
  std::lock_guard lock(mutex_);
  if (!a.armed_) return;
  due_.erase(a.slot_);
  a.armed_ = false;
  work = std::move(a.work_);
}

void refresh_clock::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [due, a] : due_) {
      a->armed_ = false;
      a->work_ = {};
    }
    due_.clear();
  }
  changed_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void refresh_clock::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto now = clock::now();
    if (const auto next = due_.begin()->first; now < next) {
      changed_.wait_until(lock, next);  // a copy: the entry may be gone when the wait reads its time again
      continue;
    }
    while (!due_.empty() && due_.begin()->first <= now) {
      alarm& a = *due_.begin()->second;
      due_.erase(due_.begin());
      a.armed_ = false;
      a.fire();       // the posted handler counts as work of its own...
      a.work_ = {};   // ...so this never lets the context run out
    }
  }
}

}  // namespace coalias::detail
