// remote_options::observer hears every failed query and the first good answer after failures, per node.
#include <coalias/remote_hub.hpp>

#include <coalias/alias_registry.hpp>
#include <coalias/observer.hpp>

#include "coro_test.hpp"
#include "remote_fixture.hpp"

#include <asio/use_awaitable.hpp>

#include <mutex>
#include <string>
#include <vector>

using namespace coalias;
using namespace coalias::test;
using testing::fault;

namespace {

struct recording_observer final : remote_observer {
  void on_query_failed(std::string_view node, std::string_view reason) override {
    std::lock_guard lock(mutex);
    events.push_back("failed " + std::string(node) + ": " + std::string(reason));
  }
  void on_query_recovered(std::string_view node) override {
    std::lock_guard lock(mutex);
    events.push_back("recovered " + std::string(node));
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(mutex);
    return events;
  }

  std::mutex mutex;
  std::vector<std::string> events;
};

}  // namespace

TEST_CASE_METHOD(remote_fixture, "the remote observer hears each failed query and one recovery") {
  recording_observer observer;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    remote_options options = remote_fixture::fast();
    options.observer = &observer;
    remote_session session(io, state, config(), options);
    check_watch watch(state, "remote-alias", io.get_executor());
    co_await session.registry.async_add(remote_fixture::remote_alias("db-1", "pg-1"), asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");
    CHECK(observer.taken().empty());

    server.inject(fault::no_leader().persistent());
    server.update_check_status("db-1", "service:pg-1", status::warning, "wake the blocking query");
    for (;;) {
      const auto c = co_await watch.async_next(asio::use_awaitable);
      if (c->status == status::critical) break;
    }
    server.clear_faults();
    co_await expect_check(watch, status::warning, "Aliased check \"pg port\" failing: wake the blocking query");
    co_await session.close();
  });

  const auto events = observer.taken();
  REQUIRE(events.size() >= 3);  // critical shows from the second consecutive failure
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    CHECK(events[i] == "failed db-1: Unexpected response code: 500 (No cluster leader)");
  }
  CHECK(events.back() == "recovered db-1");
}
