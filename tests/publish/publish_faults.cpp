// The publisher against a failing agent: 404 after an agent restart, 500 for a check without a TTL, coalescing
// behind a slow request, backoff that never drops the latest state, dropped connections, ACLs and the token.
#include <coalias/ttl_publisher.hpp>

#include "coro_test.hpp"
#include "publish_fixture.hpp"

#include <asio/use_awaitable.hpp>

using namespace coalias;
using namespace coalias::test;
using namespace std::chrono_literals;

TEST_CASE_METHOD(publish_fixture, "a 404 after an agent restart re-registers the check and sends the current state") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    server.restart_agent();
    CHECK_FALSE(agent("c1"));
    state.update_check("c1", status::warning, "degraded");
    co_await until([&] { return agent_shows("c1", status::warning, "degraded"); });
    co_await until([&] { return publisher.stats("c1")->registrations == 2; });
    CHECK(observer.saw(R"(failed c1: Unexpected response code: 404 (Unknown check ID "c1". Ensure that the check ID )"
                       R"(is passed, not the check name.))"));
    CHECK(observer.saw("recovered c1"));
    const auto log = server.agent_requests();
    REQUIRE(log.size() == 5);  // register, update, update (404), register, update
    CHECK(log[2].status == 404);
    CHECK(log[3].path == "/v1/agent/check/register");
    CHECK(log[3].body.find(R"("Status":"critical")") != std::string::npos);
    CHECK(log[4].body == R"({"Status":"warning","Output":"degraded"})");
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a 500 'does not have associated TTL' gives the check up instead of fighting") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    // Someone else registers an alias check under the same ID.
    REQUIRE(co_await agent_put(server, "/v1/agent/check/register", R"({"ID":"c1","Name":"c1","AliasNode":"db-7"})") == 200);
    state.update_check("c1", status::critical, "down");
    co_await until([&] { return publisher.stats("c1")->state == publish_stats::phase::given_up; });
    const std::string why = R"(Unexpected response code: 500 (CheckID "c1" does not have associated TTL): a check with )"
                            "this ID that is not a TTL check is registered with the agent; coalias stopped publishing it";
    CHECK(publisher.stats("c1")->error == why);
    CHECK(observer.saw("failed c1: " + why));
    const auto writes = server.agent_writes();
    state.update_check("c1", status::passing, "back");
    // Nothing more is sent for it; removing it with deregistration leaves the other check alone.
    co_await publisher.async_remove("c1", true, asio::use_awaitable);
    CHECK(server.agent_writes() == writes);
    REQUIRE(agent("c1"));
    CHECK(agent("c1")->type == "alias");
    CHECK_FALSE(observer.saw("deregistered c1"));
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "changes behind a slow request coalesce: the latest state wins") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    server.inject(testing::fault::delayed(200ms).on_path("/v1/agent/check/update/"));
    state.update_check("c1", status::critical, "flip 0");
    co_await until([&] { return server.faults_injected() == 1; });  // the slow request is in flight
    for (int i = 1; i <= 100; ++i) state.update_check("c1", i % 2 ? status::warning : status::critical, "flip " + std::to_string(i));
    co_await until([&] { return agent_shows("c1", status::critical, "flip 100"); });
    co_await until([&] { return publisher.stats("c1")->published == status::critical && publisher.stats("c1")->updates == 3; });
    const auto updates = puts_to("/v1/agent/check/update/c1");
    REQUIRE(updates.size() == 3);  // the first state, the slow one, then straight to the latest
    CHECK(updates[1].body == R"({"Status":"critical","Output":"flip 0"})");
    CHECK(updates[2].body == R"({"Status":"critical","Output":"flip 100"})");
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "failures back off and never drop the latest state") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    server.inject(testing::fault::with_status(500, "No cluster leader").on_path("/v1/agent/check/update/").persistent());
    state.update_check("c1", status::critical, "first");
    co_await until([&] { return publisher.stats("c1")->failures >= 6; });  // past backoff_after: backing off
    const auto s = publisher.stats("c1");
    CHECK(s->state == publish_stats::phase::failing);
    CHECK(s->error == "Unexpected response code: 500 (No cluster leader)");
    CHECK(s->published == status::passing);
    state.update_check("c1", status::warning, "latest");
    server.clear_faults();
    co_await until([&] { return agent_shows("c1", status::warning, "latest"); });
    co_await until([&] { return observer.saw("recovered c1"); });
    CHECK(observer.saw("failed c1: Unexpected response code: 500 (No cluster leader)"));
    CHECK(publisher.stats("c1")->state == publish_stats::phase::publishing);
    CHECK(publisher.stats("c1")->error.empty());
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "the backoff doubles from backoff_base up to backoff_max") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto o = fast();
    o.backoff_after = 1;
    o.backoff_base = 100ms;
    o.backoff_max = 200ms;
    ttl_publisher publisher(io.get_executor(), state, config(), o);
    server.inject(testing::fault::with_status(500, "boom").on_path("/v1/agent/check/register").persistent());
    const auto start = std::chrono::steady_clock::now();
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("c1")->failures >= 4; });
    // Retries after failures 1, 2, 3: 100 ms (spacing), then 100-120 ms, then 200 ms (capped): at least 400 ms.
    CHECK(std::chrono::steady_clock::now() - start >= 400ms);
    CHECK(publisher.stats("c1")->state == publish_stats::phase::failing);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a dropped connection is a failure and the state still arrives") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    server.inject(testing::fault::drop_connection().on_path("/v1/agent/check/update/").times(2));
    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return agent_shows("c1", status::passing, "all good"); });
    co_await until([&] { return publisher.stats("c1")->updates == 1; });
    // The first drop hit the connection the registration kept alive, and curl re-sends once on a reused
    // connection closed without an answer: two drops, one failure.
    CHECK(server.faults_injected() == 2);
    CHECK(publisher.stats("c1")->failures == 1);
    CHECK(observer.saw_prefix("failed c1: "));
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE_METHOD(publish_fixture, "a registration refused for an unknown service is retried until the service exists") {
  state.add_check(make_check("web:alias", status::passing, "web", "ok"));
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    ttl_publisher publisher(io.get_executor(), state, config(), fast());
    co_await publisher.async_add(check("web:alias", "", "web"), asio::use_awaitable);
    co_await until([&] { return publisher.stats("web:alias")->failures >= 1; });
    CHECK(publisher.stats("web:alias")->error == R"(Unexpected response code: 404 (ServiceID "web" does not exist))");
    CHECK(publisher.stats("web:alias")->state == publish_stats::phase::failing);
    REQUIRE(co_await agent_put(server, "/v1/agent/service/register", R"({"Name":"web"})") == 200);
    co_await until([&] { return agent_shows("web:alias", status::passing, "ok"); });
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}

TEST_CASE("the token travels only in X-Consul-Token and never in a reason") {
  testing::server_options so;
  so.acl_token = "s3cr3t-token";
  publish_fixture f(so);
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    auto cfg = f.config();
    cfg.token = "s3cr3t-token";
    ttl_publisher publisher(io.get_executor(), f.state, cfg, f.fast());
    co_await publisher.async_add(f.check("c1"), asio::use_awaitable);
    co_await until([&] { return f.agent_shows("c1", status::passing, "all good"); });
    for (const auto& r : f.server.recent_requests()) {
      CHECK(r.header("X-Consul-Token") == "s3cr3t-token");
      CHECK(r.target.find("s3cr3t") == std::string::npos);
    }
    for (const auto& r : f.server.agent_requests()) CHECK(r.body.find("s3cr3t") == std::string::npos);

    auto wrong = f.config();
    wrong.token = "wrong-s3cr3t";
    ttl_publisher refused(io.get_executor(), f.state, wrong, f.fast());
    co_await refused.async_add(f.check("c1"), asio::use_awaitable);
    co_await until([&] { return refused.stats("c1")->failures >= 1; });
    CHECK(refused.stats("c1")->error == "Unexpected response code: 403 (ACL not found)");
    for (const auto& e : f.observer.events()) CHECK(e.find("s3cr3t") == std::string::npos);
    co_await refused.async_shutdown(false, asio::use_awaitable);
    co_await publisher.async_shutdown(false, asio::use_awaitable);
  });
}
