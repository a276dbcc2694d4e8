// The clock behind the alias lanes' refresh wheels: one thread per execution context that posts a lane's refresh
// handler when it is due.
//
// Why not an asio::steady_timer: a timer brings the reactor into its io_context, and from then on Asio runs the
// reactor (an epoll_wait system call) before nearly every handler that run_one() runs: about 1.2 µs on the
// reference machine, three quarters of a local alias's whole propagation. A refresh is due once a period (an
// hour by default), so a thread that sleeps until then costs nothing between refreshes. The thread is made on
// the first arm and joined when the context shuts down, before Asio destroys the handlers still queued.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/execution_context.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace coalias::detail {

class refresh_clock final : public asio::execution_context::service {
 public:
  using clock = std::chrono::steady_clock;
  static asio::execution_context::id id;

  /// One pending wake-up at a time, owned by its user (a lane). Cancel it before destroying it.
  class alarm {
   public:
    alarm() = default;
    alarm(const alarm&) = delete;
    alarm& operator=(const alarm&) = delete;

   protected:
    ~alarm() = default;

   private:
    friend class refresh_clock;
    /// Runs on the clock's thread, under its lock, at the due time: post a handler and return.
    virtual void fire() noexcept = 0;

    // Guarded by the clock's mutex.
    std::multimap<clock::time_point, alarm*>::iterator slot_{};
    bool armed_ = false;
    asio::any_io_executor work_;  // tracked while armed: the context does not run out of work meanwhile, as it
                                  // would not with a timer's wait pending
  };

  explicit refresh_clock(asio::execution_context& ctx);
  ~refresh_clock() override;

  /// Any thread. `a` fires at `due` (an earlier arm is replaced); until then `ex`'s context has work.
  void arm(alarm& a, clock::time_point due, const asio::any_io_executor& ex);
  /// Any thread. `a` does not fire after this returns (a handler it posted before may still run).
  void cancel(alarm& a) noexcept;

 private:
  void shutdown() override;
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;  // the earliest due time moved up, or the clock stops
  std::multimap<clock::time_point, alarm*> due_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace coalias::detail
