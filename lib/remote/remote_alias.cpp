// A remote alias: subscribes to the shared watch of its node and re-evaluates on every published change.
#include "consul/url.hpp"
#include "core/alias_task.hpp"
#include "remote/node_watch.hpp"
#include "remote/remote_hub_impl.hpp"

#include <coalias/remote_hub.hpp>

#include <asio/bind_executor.hpp>

namespace coalias {
namespace detail {
namespace {

class remote_alias final : public alias_task {
 public:
  remote_alias(std::shared_ptr<alias_lane> lane, local_state& state, alias_definition def,
               std::shared_ptr<remote_hub_impl> hub)
      : alias_task(std::move(lane), state, std::move(def.check_id)),
        hub_(std::move(hub)),
        target_(std::move(def.target)),
        token_(std::move(def.token)),
        self_(state.node_name(), check_id()),
        wakeups_(strand(), wake_capacity) {}

 private:
  // Subscribed for exactly as long as the task runs, however it ends. The watch signals a channel (its API);
  // a plain handler waits on it, not a coroutine.
  void begin() override {
    std::tie(watch_, subscription_) = hub_->subscribe(target_.node, token_, wakeups_, target_.service_id);
    receive();
  }

  void evaluate() override {
    if (const auto ev = detail::evaluate(*watch_->snapshot(), target_, self_)) publish(ev->result);  // no-op if unchanged
  }

  void end() noexcept override {
    if (watch_) hub_->unsubscribe(watch_, subscription_);
    watch_.reset();
    wakeups_.cancel();  // the pending receive completes (and does nothing) at once
  }

  void receive() {
    wakeups_.async_receive(asio::bind_executor(
        strand(), [self = std::static_pointer_cast<remote_alias>(shared_from_this())](std::error_code ec) {
          if (ec || !self->running()) return;
          self->evaluate_guarded();
          if (self->running()) self->receive();
        }));
  }

  const std::shared_ptr<remote_hub_impl> hub_;
  const alias_target target_;
  const std::string token_;
  const check_key self_;  // never counted by its own aggregation
  wake_channel wakeups_;
  std::shared_ptr<node_watch> watch_;
  std::uint64_t subscription_ = 0;
};

}  // namespace
}  // namespace detail

std::shared_ptr<detail::alias_task> remote_hub::make_alias(std::shared_ptr<detail::alias_lane> lane,
                                                           local_state& state, alias_definition def) {
  // A node name that cannot be a path segment ("", ".", "..", NUL) is refused up front, not retried forever.
  std::string encoded;
  if (const auto ec = consul::append_path_segment(encoded, def.target.node))
    throw std::system_error(ec, "alias node name cannot be sent to Consul");
  return std::make_shared<detail::remote_alias>(std::move(lane), state, std::move(def), impl_);
}

}  // namespace coalias
