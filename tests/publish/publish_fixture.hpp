// A test server playing the local agent, a local state with a few checks, a recording observer, and waits for a
// condition on the server (polled every millisecond up to a hang guard: a wait for a state, not a sleep).
#pragma once

#include <coalias/testing/consul_test_server.hpp>
#include <coalias/ttl_publisher.hpp>

#include "http/client.hpp"
#include "local_fixture.hpp"

#include <catch2/catch.hpp>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <mutex>
#include <string>
#include <vector>

namespace coalias::test {

/// Every hook as one line: "registered c1", "published c1 passing", "failed c1: <reason>", "recovered c1",
/// "deregistered c1".
class recording_observer final : public publish_observer {
 public:
  void on_registered(std::string_view id) override { add("registered " + std::string(id)); }
  void on_published(std::string_view id, status s, std::chrono::nanoseconds since) override {
    add("published " + std::string(id) + " " + std::string(to_string(s)));
    std::lock_guard lock(mutex_);
    if (since.count() < 0) negative_latency_ = true;
  }
  void on_publish_failed(std::string_view id, std::string_view reason) override {
    add("failed " + std::string(id) + ": " + std::string(reason));
  }
  void on_publish_recovered(std::string_view id) override { add("recovered " + std::string(id)); }
  void on_deregistered(std::string_view id) override { add("deregistered " + std::string(id)); }

  std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  bool saw(const std::string& line) const {
    const auto e = events();
    return std::find(e.begin(), e.end(), line) != e.end();
  }
  bool saw_prefix(const std::string& prefix) const {
    for (const auto& e : events())
      if (e.rfind(prefix, 0) == 0) return true;
    return false;
  }
  bool negative_latency() const {
    std::lock_guard lock(mutex_);
    return negative_latency_;
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  bool negative_latency_ = false;
};

struct publish_fixture : local_fixture {
  testing::consul_test_server server;
  recording_observer observer;

  publish_fixture() : publish_fixture(testing::server_options()) {}
  explicit publish_fixture(testing::server_options o) : server(std::move(o)) {
    state.add_check(make_check("c1", status::passing, "", "all good"));
  }

  consul_config config() const {
    consul_config c;
    c.address = consul_address::parse(server.address());
    return c;
  }

  publish_options fast() {
    publish_options o;
    o.backoff_base = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(40);
    o.request_timeout = std::chrono::seconds(5);
    o.observer = &observer;
    return o;
  }

  static published_check check(std::string id, std::string name = "", std::string service = "") {
    published_check c;
    c.check_id = std::move(id);
    c.name = std::move(name);
    c.service_id = std::move(service);
    return c;
  }

  /// The agent's copy of `id`, if registered.
  std::optional<testing::agent_check> agent(const std::string& id) const {
    for (auto& c : server.agent_checks())
      if (c.check_id == id) return c;
    return std::nullopt;
  }
  bool agent_shows(const std::string& id, status s, const std::string& output) const {
    const auto c = agent(id);
    return c && c->status == s && c->output == output;
  }
  /// PUTs logged to `path`.
  std::vector<testing::agent_request> puts_to(const std::string& path) const {
    std::vector<testing::agent_request> out;
    for (auto& r : server.agent_requests())
      if (r.method == "PUT" && r.path == path) out.push_back(r);
    return out;
  }
};

/// Waits until `done()` holds, checking every millisecond; fails the test after `guard`.
inline asio::awaitable<void> until(std::function<bool()> done, std::chrono::milliseconds guard = std::chrono::seconds(10)) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("condition not reached in time");
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

/// A PUT to the agent the server plays, as another program would send it (a service registering itself, another
/// check taking an ID); completes with the status.
inline asio::awaitable<long> agent_put(const testing::consul_test_server& server, std::string path, std::string body) {
  http::client client(co_await asio::this_coro::executor);
  http::request req;
  req.method = "PUT";
  req.url = server.url() + path;
  req.body = std::move(body);
  const auto r = co_await client.async_request(std::move(req), asio::use_awaitable);
  co_return r.status;
}

}  // namespace coalias::test
