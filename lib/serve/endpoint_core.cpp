#include "serve/endpoint_core.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/redirect_error.hpp>

#include <chrono>
#include <string>
#include <system_error>

namespace coalias::detail {
namespace {

// Accepts until stopped; the listening socket closes when the body ends.
class acceptor_task final : public structured_task {
 public:
  acceptor_task(const asio::any_io_executor& ex, asio::ip::tcp::acceptor acceptor, std::weak_ptr<endpoint_core> core)
      : structured_task(ex), acceptor_(std::move(acceptor)), core_(std::move(core)) {}

 protected:
  asio::awaitable<void> run() override {
    struct closer {
      asio::ip::tcp::acceptor& a;
      ~closer() {
        asio::error_code ignored;
        a.close(ignored);
      }
    } close_at_end{acceptor_};
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (;;) {
      asio::error_code ec;
      asio::ip::tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of file descriptors and the like: pause, so a full table cannot turn this loop into a spin.
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::use_awaitable);
        continue;
      }
      if (auto core = core_.lock()) core->adopt(std::move(socket));
    }
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
  const std::weak_ptr<endpoint_core> core_;  // the core holds this task
};

asio::ip::tcp::acceptor listen_at(const asio::any_io_executor& ex, const asio::ip::tcp::endpoint& where) {
  asio::ip::tcp::acceptor acceptor(ex);
  try {
    acceptor.open(where.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(where);
    acceptor.listen();
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "health endpoint: cannot listen on " + where.address().to_string() + ":" +
                                          std::to_string(where.port()));
  }
  return acceptor;
}

}  // namespace

endpoint_core::endpoint_core(const asio::any_io_executor& ex, const local_state& state,
                             const asio::ip::tcp::endpoint& where, endpoint_options options)
    : ex_(ex),
      config_(std::make_shared<const endpoint_config>(state, std::move(options))),
      listening_(listen_at(ex, where)),
      local_(listening_.local_endpoint()) {}

void endpoint_core::start() {
  // Made here, not in the constructor: the task holds the core weakly, which needs the core's shared_ptr.
  acceptor_ = std::make_shared<acceptor_task>(ex_, std::move(listening_), weak_from_this());
  acceptor_->start();
}

std::size_t endpoint_core::connection_count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

bool endpoint_core::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

void endpoint_core::adopt(asio::ip::tcp::socket socket) {
  std::shared_ptr<endpoint_connection> c;
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_ || connections_.size() >= config_->options.max_connections) return;  // closes `socket`
    c = std::make_shared<endpoint_connection>(ex_, std::move(socket), config_);
    connections_.emplace(c.get(), c);
  }
  c->when_ended([weak = weak_from_this(), raw = c.get()] {
    if (auto self = weak.lock()) self->forget(raw);
  });
  c->start();
}

void endpoint_core::forget(const endpoint_connection* c) {
  std::lock_guard lock(mutex_);
  connections_.erase(c);
}

void endpoint_core::shutdown(completion_ptr<std::error_code> done) {
  {
    std::lock_guard lock(mutex_);
    if (finished_) {
      if (done) done->post(std::error_code());
      return;
    }
    if (done) waiting_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;
  }
  // First no new connection, then the open ones: once the acceptor has ended nothing can add to the list.
  acceptor_->request_stop();
  acceptor_->when_ended([self = shared_from_this()] {
    std::vector<std::shared_ptr<endpoint_connection>> open;
    {
      std::lock_guard lock(self->mutex_);
      for (const auto& [key, c] : self->connections_) open.push_back(c);
    }
    for (const auto& c : open) c->request_stop();
    when_all_ended(open, [self] { self->finish(); });
  });
}

void endpoint_core::finish() {
  std::vector<completion_ptr<std::error_code>> waiting;
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
    connections_.clear();
    waiting.swap(waiting_);
  }
  for (auto& w : waiting) w->dispatch(std::error_code());
}

}  // namespace coalias::detail
