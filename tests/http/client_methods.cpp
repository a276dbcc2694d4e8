// async_request: any method, with a body, and the Content-Length and Content-Type it sends.
#include "http/client.hpp"

#include "http_test.hpp"
#include "loopback_server.hpp"

#include <coalias/error.hpp>

#include <asio/use_future.hpp>

using namespace coalias;
using coalias::test::to;

namespace {

test::outcome send(http::client& client, http::request req) {
  auto done = std::make_shared<std::promise<test::outcome>>();
  auto future = done->get_future();
  client.async_request(std::move(req), [done](std::error_code ec, http::response r) {
    done->set_value({ec, std::move(r), std::chrono::steady_clock::now()});
  });
  return test::wait(future);
}

http::request with(std::string method, std::string url, std::string body = {}) {
  auto req = to(std::move(url));
  req.method = std::move(method);
  req.body = std::move(body);
  return req;
}

}  // namespace

TEST_CASE("a PUT with a body sends it with its length and application/json") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = send(client, with("PUT", server.url("/echo-request"), R"({"Status":"passing"})"));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 200);
  CHECK(out.response.body == R"(PUT|20|application/json|{"Status":"passing"})");
}

TEST_CASE("a PUT with an empty body sends Content-Length: 0 and no Content-Type") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = send(client, with("PUT", server.url("/echo-request")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "PUT|0|-|");
  CHECK(server.stats().last_head.find("Transfer-Encoding") == std::string::npos);
}

TEST_CASE("the caller's Content-Type wins, and POST and DELETE go out as named") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = with("POST", server.url("/echo-request"), "a=b");
  req.headers.emplace_back("Content-Type", "text/plain");
  auto out = send(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "POST|3|text/plain|a=b");

  out = send(client, with("DELETE", server.url("/echo-request")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "DELETE|0|-|");
}

TEST_CASE("requests with bodies and GETs share one kept-alive connection") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  for (int i = 0; i < 3; ++i) {
    const auto put = send(client, with("PUT", server.url("/echo-request"), std::string(1000, 'x')));
    REQUIRE_FALSE(put.ec);
    CHECK(put.response.body == "PUT|1000|application/json|" + std::string(1000, 'x'));
    const auto get = send(client, to(server.url("/echo-request")));
    REQUIRE_FALSE(get.ec);
    CHECK(get.response.body == "GET|-|-|");
  }
  CHECK(server.stats().accepted == 1);
}

TEST_CASE("async_get stays a GET whatever the request's method says") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = test::get(client, with("PUT", server.url("/echo-request")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "GET|-|-|");
}

TEST_CASE("a bad method, or a body on GET or HEAD, is refused before anything is sent") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  for (const char* method : {"", "PU T", "PUT\r\nX: y", "GE/T"})
    CHECK(send(client, with(method, server.url("/echo-request"))).ec == errc::invalid_argument);
  CHECK(send(client, with("GET", server.url("/echo-request"), "x")).ec == errc::invalid_argument);
  CHECK(send(client, with("HEAD", server.url("/echo-request"), "x")).ec == errc::invalid_argument);
  CHECK(server.stats().requests == 0);
}

TEST_CASE("async_request works with use_future") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto f = client.async_request(with("PUT", server.url("/echo-request"), "{}"), asio::use_future);
  REQUIRE(f.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(f.get().body == "PUT|2|application/json|{}");
}
