// What a health_endpoint owns: the listening socket's task, the open connections, and the shutdown that waits
// for all of them. Shared with the tasks, so an operation in flight keeps what it touches alive.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include "core/structured_task.hpp"
#include "serve/connection.hpp"

#include <coalias/detail/completion.hpp>
#include <coalias/health_endpoint.hpp>

#include <asio/ip/tcp.hpp>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace coalias::detail {

class endpoint_core : public std::enable_shared_from_this<endpoint_core> {
 public:
  /// Binds and listens; throws std::system_error naming the address.
  endpoint_core(const asio::any_io_executor& ex, const local_state& state, const asio::ip::tcp::endpoint& where,
                endpoint_options options);

  /// Starts accepting. Call once, right after construction.
  void start();
  /// Completes `done` (if any) once the acceptor and every connection have ended.
  void shutdown(completion_ptr<std::error_code> done);

  const asio::any_io_executor& executor() const noexcept { return ex_; }
  const asio::ip::tcp::endpoint& local_endpoint() const noexcept { return local_; }
  std::size_t connection_count() const;
  bool finished() const;

  /// From the acceptor task: serves `socket`, or closes it at once beyond the connection cap.
  void adopt(asio::ip::tcp::socket socket);

 private:
  void forget(const endpoint_connection* c);
  void finish();

  const asio::any_io_executor ex_;
  const std::shared_ptr<const endpoint_config> config_;
  asio::ip::tcp::acceptor listening_;  // until start() hands it to the acceptor task
  const asio::ip::tcp::endpoint local_;
  std::shared_ptr<structured_task> acceptor_;

  mutable std::mutex mutex_;
  std::unordered_map<const endpoint_connection*, std::shared_ptr<endpoint_connection>> connections_;
  std::vector<completion_ptr<std::error_code>> waiting_;
  bool shutting_down_ = false;
  bool finished_ = false;
};

}  // namespace coalias::detail
