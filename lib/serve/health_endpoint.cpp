#include <coalias/health_endpoint.hpp>

#include "serve/endpoint_core.hpp"

#include <cassert>

namespace coalias {

health_endpoint::health_endpoint(const executor_type& ex, const local_state& state,
                                 const asio::ip::tcp::endpoint& where, endpoint_options options)
    : core_(std::make_shared<detail::endpoint_core>(ex, state, where, std::move(options))) {
  core_->start();
}

health_endpoint::~health_endpoint() {
  assert(core_->finished() && "health_endpoint destroyed before async_shutdown completed");
  core_->shutdown(nullptr);
}

health_endpoint::executor_type health_endpoint::get_executor() const noexcept { return core_->executor(); }

asio::ip::tcp::endpoint health_endpoint::local_endpoint() const { return core_->local_endpoint(); }

std::size_t health_endpoint::connection_count() const { return core_->connection_count(); }

const health_endpoint::executor_type& health_endpoint::executor_of(const detail::endpoint_core& core) noexcept {
  return core.executor();
}

void health_endpoint::start_shutdown(const std::shared_ptr<detail::endpoint_core>& core,
                                     detail::completion_ptr<std::error_code> done) {
  core->shutdown(std::move(done));
}

}  // namespace coalias
