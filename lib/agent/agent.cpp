#include <coalias/agent.hpp>

#include <cassert>

namespace coalias {

agent::agent(const executor_type& ex, std::string node_name)
    : executor_(ex), state_(std::move(node_name)), aliases_(ex, state_) {}

agent::agent(const executor_type& ex, std::string node_name, consul_config config, remote_options options)
    : executor_(ex),
      state_(std::move(node_name)),
      hub_(std::make_unique<remote_hub>(ex, std::move(config), std::move(options))),
      aliases_(ex, state_, *hub_) {}

agent::~agent() {
  assert((shut_down_ || aliases_.size() == 0) &&
         "coalias::agent destroyed with aliases running: co_await agent.async_shutdown() first");
}

void agent::start_shutdown(detail::completion_ptr<std::error_code> done) {
  // Aliases first: a remote alias whose query ended before it would show the shutdown as a failure.
  aliases_.async_shutdown([this, done = std::move(done)](std::error_code) mutable {
    auto finish = [this, done = std::move(done)](std::error_code) {
      shut_down_ = true;
      done->post(std::error_code{});
    };
    if (hub_) return hub_->async_shutdown(std::move(finish));
    finish(std::error_code{});
  });
}

}  // namespace coalias
