// A local agent for alias tests: node "node-1" with services web, db and sidecar, and helpers that read the
// alias's own check through a check_watch.
#pragma once

#include <coalias/alias_definition.hpp>
#include <coalias/check_watch.hpp>
#include <coalias/local_state.hpp>

#include <catch2/catch.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <string>

namespace coalias::test {

inline health_check make_check(std::string id, status s, std::string service = "", std::string output = "",
                               std::string name = "") {
  health_check c;
  c.check_id = std::move(id);
  c.name = name.empty() ? c.check_id : std::move(name);
  c.status = s;
  c.output = std::move(output);
  c.service_id = std::move(service);
  return c;
}

inline alias_definition alias_of(std::string service, std::string check_id = "sidecar-alias",
                                 std::chrono::milliseconds refresh = std::chrono::hours(1)) {
  alias_definition def;
  def.check_id = std::move(check_id);
  def.name = "Sidecar alias";
  def.service_id = "sidecar";
  def.target.service_id = std::move(service);
  def.refresh = refresh;  // an hour by default: only wake-ups can update the alias within a test
  return def;
}

struct local_fixture {
  local_state state{"node-1"};
  local_fixture() {
    state.add_service({"web", "web"});
    state.add_service({"db", "db"});
    state.add_service({"sidecar", "sidecar"});
  }
};

/// Reads versions of `watch` until one shows `s` and `output`; a hang is caught by run_coro's guard.
inline asio::awaitable<void> expect_check(check_watch& watch, status s, std::string output) {
  for (;;) {
    const auto c = co_await watch.async_next(asio::use_awaitable);
    if (c && c->status == s && c->output == output) co_return;
  }
}

}  // namespace coalias::test
