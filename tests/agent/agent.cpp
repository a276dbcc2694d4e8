#include <coalias/agent.hpp>

#include <coalias/error.hpp>
#include <coalias/testing/consul_test_server.hpp>

#include "coro_test.hpp"
#include "local_fixture.hpp"
#include "remote_fixture.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace coalias;
using namespace coalias::test;
using namespace asio::experimental::awaitable_operators;

namespace {

void add_web(agent& node, status s) {
  node.state().add_service({"web", "web"});
  node.state().add_service({"sidecar", "sidecar"});
  node.state().add_check(make_check("web-check", s, "web", "", "web check"));
}

}  // namespace

TEST_CASE("an agent runs local aliases and one shutdown stops them all") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    agent node(io.get_executor(), "node-1");
    add_web(node, status::passing);
    CHECK(node.remote() == nullptr);
    co_await node.async_add(alias_of("web", "a1"), asio::use_awaitable);
    co_await node.async_add(alias_of("web", "a2"), asio::use_awaitable);
    auto a1 = node.watch("a1");
    co_await expect_check(a1, status::passing, "All checks passing.");
    node.state().update_check("web-check", status::critical, "down");
    co_await expect_check(a1, status::critical, "Aliased check \"web check\" failing: down");

    co_await node.async_shutdown(asio::use_awaitable);
    CHECK(node.aliases().size() == 0);
    const auto before = node.state().check("a2");
    node.state().update_check("web-check", status::passing, "up");
    for (int i = 0; i < 20; ++i) co_await asio::post(io, asio::use_awaitable);
    CHECK(node.state().check("a2") == before);  // stopped aliases never write
    auto [ec] = co_await node.async_add(alias_of("web", "late"), asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(ec == errc::shut_down);
  });
}

TEST_CASE("a local-only agent refuses remote aliases") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    agent node(io.get_executor(), "node-1");
    add_web(node, status::passing);
    auto remote = alias_of("pg-1", "remote");
    remote.target.node = "db-1";
    auto [ec] = co_await node.async_add(remote, asio::experimental::as_tuple(asio::use_awaitable));
    CHECK(ec == errc::invalid_argument);
    CHECK(node.state().check("remote") == nullptr);
    co_await node.async_shutdown(asio::use_awaitable);
  });
}

TEST_CASE_METHOD(remote_fixture, "an agent with a Consul configuration runs remote aliases and stops queries last") {
  run_coro([&](asio::io_context& io) -> asio::awaitable<void> {
    agent node(io.get_executor(), "node-1", config(), fast());
    node.state().add_service({"sidecar", "sidecar"});
    REQUIRE(node.remote() != nullptr);
    co_await node.async_add(remote_alias("db-1", "pg-1"), asio::use_awaitable);
    auto watch = node.watch("remote-alias");
    co_await expect_check(watch, status::passing, "All checks passing.");
    CHECK(node.remote()->watch_count() == 1);

    // Inside ||: the timer wins at once, yet the shutdown still runs to its end before the operator returns.
    asio::steady_timer now(io, std::chrono::milliseconds(0));
    (void)co_await (node.async_shutdown(asio::use_awaitable) || now.async_wait(asio::use_awaitable));
    CHECK(node.remote()->watch_count() == 0);
    CHECK(server.wait_for_held_queries(0, std::chrono::seconds(5)));
    // Aliases stopped before their queries: the alias never showed the shutdown as a failure.
    CHECK(node.state().check("remote-alias")->output == "All checks passing.");
  });
}

#ifndef NDEBUG
TEST_CASE("destroying an owner with aliases running asserts, naming what to call first") {
  // In a child process: the assertion aborts it, and its stderr must say what to do.
  int err[2];
  REQUIRE(pipe(err) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(err[1], 2);
    asio::io_context io;
    {
      agent node(io.get_executor(), "node-1");
      add_web(node, status::passing);
      node.async_add(alias_of("web"), [](std::error_code) {});
      io.poll();
    }  // destroyed without async_shutdown
    _exit(0);
  }
  close(err[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(err[0]);
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  // Aborted (TSan's runtime turns the abort into a non-zero exit): in no case a normal exit.
  CHECK_FALSE((WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0));
  CHECK(text.find("coalias::agent destroyed with aliases running: co_await agent.async_shutdown() first") !=
        std::string::npos);
}
#endif
