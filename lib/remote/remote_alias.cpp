// A remote alias: subscribes to the shared watch of its node and re-evaluates on every published change.
#include "consul/url.hpp"
#include "core/alias_task.hpp"
#include "remote/node_watch.hpp"
#include "remote/remote_hub_impl.hpp"

#include <coalias/remote_hub.hpp>

#include <asio/use_awaitable.hpp>

namespace coalias {
namespace detail {
namespace {

class remote_alias final : public alias_task {
 public:
  remote_alias(const asio::any_io_executor& ex, local_state& state, alias_definition def,
               std::shared_ptr<remote_hub_impl> hub)
      : alias_task(ex, state, std::move(def.check_id)),
        hub_(std::move(hub)),
        target_(std::move(def.target)),
        token_(std::move(def.token)),
        wakeups_(strand_, wake_capacity) {}

 private:
  asio::awaitable<void> run() override {
    const subscription sub(*this);
    for (;;) {
      if (const auto ev = evaluate(*watch_->snapshot(), target_, self_)) publish(ev->result);  // no-op if unchanged
      co_await wakeups_.async_receive(asio::use_awaitable);
    }
  }

  // Subscribed for exactly as long as the body runs, however it ends.
  struct subscription {
    explicit subscription(remote_alias& a) : alias(a) {
      std::tie(alias.watch_, alias.subscription_) =
          alias.hub_->subscribe(alias.target_.node, alias.token_, alias.wakeups_, alias.target_.service_id);
    }
    ~subscription() {
      alias.hub_->unsubscribe(alias.watch_, alias.subscription_);
      alias.watch_.reset();
    }
    remote_alias& alias;
  };

  const std::shared_ptr<remote_hub_impl> hub_;
  const alias_target target_;
  const std::string token_;
  wake_channel wakeups_;
  std::shared_ptr<node_watch> watch_;
  std::uint64_t subscription_ = 0;
};

}  // namespace
}  // namespace detail

std::shared_ptr<detail::alias_task> remote_hub::make_alias(const asio::any_io_executor& ex, local_state& state,
                                                           alias_definition def) {
  // A node name that cannot be a path segment ("", ".", "..", NUL) is refused up front, not retried forever.
  std::string encoded;
  if (const auto ec = consul::append_path_segment(encoded, def.target.node))
    throw std::system_error(ec, "alias node name cannot be sent to Consul");
  return std::make_shared<detail::remote_alias>(ex, state, std::move(def), impl_);
}

}  // namespace coalias
