// The publishing rules against the test server's agent: registration, the current state at once, every change,
// heartbeats, truncation, replace, a missing local check, the end-to-end path to a remote alias, 1,000 checks.
#include <coalias/ttl_publisher.hpp>

#include <coalias/alias_registry.hpp>
#include <coalias/remote_hub.hpp>

#include "coro_test.hpp"
#include "publish_fixture.hpp"

#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;
using namespace std::chrono_literals;

TEST_CASE_METHOD(publish_fixture, "a check is registered critical, then its current state is sent at once") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    published_check c = check("c1", "web alias");
    c.notes = "mirrors web";
    co_await publisher.async_add(c, asio::use_awaitable);
    co_await until([&] { return agent_shows("c1", status::passing, "all good"); });
    co_await until([&] { return publisher.stats("c1")->updates == 1; });  // the answer reaches the publisher after
    const auto log = server.agent_requests();
    REQUIRE(log.size() == 2);
    CHECK(log[0].path == "/v1/agent/check/register");
    CHECK(log[0].body == R"({"ID":"c1","Name":"web alias","Notes":"mirrors web","TTL":"30000ms","Status":"critical",)"
                         R"("Output":"Registered by coalias; not evaluated yet"})");
    CHECK(log[1].path == "/v1/agent/check/update/c1");
    CHECK(log[1].body == R"({"Status":"passing","Output":"all good"})");
    CHECK(agent("c1")->type == "ttl");
    CHECK(agent("c1")->ttl == 30s);
    CHECK(agent("c1")->name == "web alias");
    CHECK(agent("c1")->notes == "mirrors web");
    const auto stats = publisher.stats("c1");
    REQUIRE(stats);
    CHECK(stats->state == publish_stats::phase::publishing);
    CHECK(stats->published == status::passing);
    CHECK(stats->registrations == 1);
    CHECK(stats->updates == 1);
    CHECK(stats->failures == 0);
    CHECK(observer.events() == std::vector<std::string>{"registered c1", "published c1 passing"});
    CHECK_FALSE(observer.negative_latency());
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "every change of status or output is sent; a name or an ID with ':' is fine") {
  state.add_check(make_check("web:alias", status::passing, "", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("web:alias"), asio::use_awaitable);
    co_await until([&] { return agent_shows("web:alias", status::passing, "ok"); });
    CHECK(agent("web:alias")->name == "web:alias");  // an empty name is the ID
    state.update_check("web:alias", status::critical, "down");
    co_await until([&] { return agent_shows("web:alias", status::critical, "down"); });
    state.update_check("web:alias", status::critical, "still down");
    co_await until([&] { return agent_shows("web:alias", status::critical, "still down"); });
    state.update_check("web:alias", status::warning, "still down");
    co_await until([&] { return agent_shows("web:alias", status::warning, "still down"); });
    const auto updates = puts_to("/v1/agent/check/update/web:alias");
    REQUIRE(updates.size() == 4);
    CHECK(updates[1].body == R"({"Status":"critical","Output":"down"})");
    CHECK(updates[3].body == R"({"Status":"warning","Output":"still down"})");
    // The catalog on the agent's node shows it: what a remote alias reads.
    const auto catalog = server.checks("test-agent");
    REQUIRE(catalog.size() == 1);
    CHECK(catalog[0].status == status::warning);
    CHECK(catalog[0].output == "still down");
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "the unchanged state is re-sent every ttl/3") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto o = fast();
    o.ttl = 150ms;  // heartbeat every 50 ms
    ttl_publisher publisher(io.get_executor(), state, config(), o);
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates >= 4; });
    for (const auto& u : puts_to("/v1/agent/check/update/c1")) CHECK(u.body == R"({"Status":"passing","Output":"all good"})");
    CHECK(agent("c1")->ttl == 150ms);
    CHECK(observer.events() == std::vector<std::string>{"registered c1", "published c1 passing"});  // heartbeats are not news
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "output is cut to 4,096 bytes on a UTF-8 boundary") {
  std::string output = "x";
  for (int i = 0; i < 3000; ++i) output += "\xc3\xa9";  // 'é': cutting at 4,096 bytes would split one
  state.update_check("c1", status::warning, output);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return agent("c1") && agent("c1")->status == status::warning; });
    CHECK(agent("c1")->output.size() == 4095);
    CHECK(agent("c1")->output == output.substr(0, 4095));
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "output with quotes, backslashes and control characters arrives intact") {
  state.update_check("c1", status::passing, "say \"hi\"\\\n\ttab");
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return agent_shows("c1", status::passing, "say \"hi\"\\\n\ttab"); });
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "invalid UTF-8 in an output arrives as U+FFFD, as Go's encoder sends it") {
  state.update_check("c1", status::passing, "bad \xff byte, cut \xc3");
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return agent_shows("c1", status::passing, "bad \xef\xbf\xbd byte, cut \xef\xbf\xbd"); });
    CHECK(publisher.stats("c1")->failures == 0);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a check missing from the local state is published critical, then follows it") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("later"), asio::use_awaitable);
    co_await until([&] {
      return agent_shows("later", status::critical, "Check \"later\" is not registered in the local state");
    });
    state.add_check(make_check("later", status::passing, "", "here now"));
    co_await until([&] { return agent_shows("later", status::passing, "here now"); });
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a service check is registered with its service ID") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    REQUIRE(co_await agent_put(server, "/v1/agent/service/register", R"({"ID":"web","Name":"web"})") == 200);
    state.add_check(make_check("web:alias", status::passing, "web", "ok"));
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("web:alias", "", "web"), asio::use_awaitable);
    co_await until([&] { return agent_shows("web:alias", status::passing, "ok"); });
    CHECK(agent("web:alias")->service_id == "web");
    CHECK(server.checks("test-agent")[0].service_name == "web");
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "replace re-registers with the status last published: the catalog shows no flap") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1", "old name"), asio::use_awaitable);
    co_await until([&] { return agent_shows("c1", status::passing, "all good"); });
    co_await publisher.async_replace(check("c1", "new name"), asio::use_awaitable);
    co_await until([&] { return agent("c1")->name == "new name" && agent_shows("c1", status::passing, "all good"); });
    const auto registers = puts_to("/v1/agent/check/register");
    REQUIRE(registers.size() == 2);
    CHECK(registers[1].body.find(R"("Name":"new name","TTL":"30000ms","Status":"passing")") != std::string::npos);
    CHECK(publisher.stats("c1")->registrations == 1);  // the new task's own count
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "end to end: a local flip reaches /v1/health/node, and a remote alias of it") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);

    // Another process's view: an alias of the agent's node, through a remote hub's blocking queries.
    local_state elsewhere("node-2");
    remote_options ro;
    ro.min_request_spacing = 2ms;
    remote_hub hub(io.get_executor(), config(), ro);
    alias_registry registry(io.get_executor(), elsewhere, hub);
    alias_definition def;
    def.check_id = "agent-alias";
    def.target.node = "test-agent";
    check_watch watch(elsewhere, "agent-alias", io.get_executor());
    co_await registry.async_add(def, asio::use_awaitable);
    co_await expect_check(watch, status::passing, "All checks passing.");

    state.update_check("c1", status::critical, "disk full");
    co_await until([&] {
      const auto body = server.checks("test-agent");
      return body.size() == 1 && body[0].status == status::critical && body[0].output == "disk full";
    });
    co_await expect_check(watch, status::critical, "Aliased check \"c1\" failing: disk full");
    state.update_check("c1", status::passing, "recovered");
    co_await expect_check(watch, status::passing, "All checks passing.");

    co_await registry.async_shutdown(asio::use_awaitable);
    co_await hub.async_shutdown(asio::use_awaitable);
    co_await publisher.async_shutdown(true, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "1,000 checks are published, flipped and deregistered") {
  constexpr int n = 1000;
  for (int i = 0; i < n; ++i) state.add_check(make_check("k" + std::to_string(i), status::passing, "", "up"));
  run_coro(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        ttl_publisher publisher(io.get_executor(), state, config(), fast());
        for (int i = 0; i < n; ++i) co_await publisher.async_add(check("k" + std::to_string(i)), asio::use_awaitable);
        CHECK(publisher.size() == n);
        auto all_show = [&](status s, const char* out) {
          const auto checks = server.agent_checks();
          return checks.size() == n && std::all_of(checks.begin(), checks.end(), [&](const testing::agent_check& c) {
                   return c.status == s && c.output == out;
                 });
        };
        co_await until([&] { return all_show(status::passing, "up"); }, 60s);
        for (int i = 0; i < n; ++i) state.update_check("k" + std::to_string(i), status::critical, "down");
        co_await until([&] { return all_show(status::critical, "down"); }, 60s);
        CHECK(server.checks("test-agent").size() == n);
        // The agent changed before its answer reached the publisher: wait for the answers too.
        auto acknowledged = [&] {
          for (int i = 0; i < n; ++i) {
            const auto s = publisher.stats("k" + std::to_string(i));
            if (!s || s->published != status::critical) return false;
          }
          return true;
        };
        co_await until(acknowledged, 60s);
        std::uint64_t failures = 0;
        for (int i = 0; i < n; ++i) failures += publisher.stats("k" + std::to_string(i))->failures;
        CHECK(failures == 0);
        co_await publisher.async_shutdown(true, asio::use_awaitable);
        CHECK(server.agent_checks().empty());
        CHECK(server.checks("test-agent").empty());
      },
      120s);
}
