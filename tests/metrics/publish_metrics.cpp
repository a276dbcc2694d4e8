// prometheus_metrics as a real publisher's observer, scraped through a health endpoint: each new state the agent
// acknowledged is counted and its latency observed; the state set follows the local state.
#include <coalias/prometheus_metrics.hpp>

#include <coalias/health_endpoint.hpp>
#include <coalias/ttl_publisher.hpp>

#include "coro_test.hpp"
#include "publish_fixture.hpp"
#include "raw_http.hpp"

#include <asio/use_awaitable.hpp>

#include <future>
#include <string>

using namespace coalias;
using namespace coalias::test;

namespace {

bool has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST_CASE_METHOD(publish_fixture, "a publisher's acknowledged states show in /metrics") {
  prometheus_metrics metrics(state);
  std::string scraped;
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    endpoint_options eo;
    eo.metrics = [&metrics] { return metrics.render(); };
    health_endpoint probes(io.get_executor(), state, {asio::ip::make_address("127.0.0.1"), 0}, eo);
    publish_options po = fast();
    po.observer = &metrics;
    ttl_publisher publisher(io.get_executor(), state, config(), po);

    co_await publisher.async_add(check("c1"), asio::use_awaitable);
    co_await until([&] { return has(metrics.render(), "coalias_publishes_total 1"); });
    state.update_check("c1", status::critical, "down");
    co_await until([&] { return has(metrics.render(), "coalias_publishes_total 2"); });
    CHECK(agent_shows("c1", status::critical, "down"));

    co_await publisher.async_shutdown(false, asio::use_awaitable);
    // The scrape is a blocking client: run it beside the io_context, which serves it.
    auto scrape = std::async(std::launch::async, [port = probes.local_endpoint().port()] {
      return coalias::testing::test::raw_client(port).get("/metrics").body;
    });
    while (scrape.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      asio::steady_timer tick(io, std::chrono::milliseconds(1));
      co_await tick.async_wait(asio::use_awaitable);
    }
    scraped = scrape.get();
    co_await probes.async_shutdown(asio::use_awaitable);
  });
  CHECK(has(scraped, "coalias_publishes_total 2"));
  CHECK(has(scraped, "coalias_publish_failures_total 0"));
  CHECK(has(scraped, "coalias_publish_latency_seconds_count 2"));
  CHECK(has(scraped, "coalias_check_status{id=\"c1\",status=\"critical\"} 1"));
  CHECK(has(scraped, "coalias_check_status{id=\"c1\",status=\"passing\"} 0"));
}
