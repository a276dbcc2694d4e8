// coalias: Consul's alias health checks for Asio coroutine services. The umbrella header.
#pragma once

#include <coalias/detail/asio_config.hpp>  // first: configures Asio (see the header)
#include <coalias/agent.hpp>
#include <coalias/agent_self.hpp>
#include <coalias/aggregate.hpp>
#include <coalias/alias_check.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/alias_registry.hpp>
#include <coalias/check_definitions.hpp>
#include <coalias/check_watch.hpp>
#include <coalias/consul_config.hpp>
#include <coalias/consul_json.hpp>
#include <coalias/duration.hpp>
#include <coalias/error.hpp>
#include <coalias/health_check.hpp>
#include <coalias/health_endpoint.hpp>
#include <coalias/local_state.hpp>
#include <coalias/observer.hpp>
#include <coalias/remote_hub.hpp>
#include <coalias/status.hpp>
#include <coalias/ttl_publisher.hpp>
#include <coalias/wake_channel.hpp>
