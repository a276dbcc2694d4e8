// Requests and their outcomes: status, body, headers, and each kind of transport failure.
#include "http/client.hpp"

#include "http_test.hpp"
#include "loopback_server.hpp"

#include <coalias/error.hpp>

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <cstdlib>
#include <unistd.h>

using namespace coalias;
using coalias::test::get;
using coalias::test::to;

TEST_CASE("a GET completes with status, body and headers looked up case-insensitively") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = get(client, to(server.url("/ok")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 200);
  CHECK(out.response.body == "hello");
  CHECK(out.response.header("X-Consul-Index") == "42");
  CHECK(out.response.header("x-consul-index") == "42");
  CHECK(out.response.header("CONTENT-TYPE") == "application/json");
  CHECK(out.response.header("Content-Length") == "5");
  CHECK_FALSE(out.response.header("X-Missing"));
  CHECK(out.response.error_detail.empty());
}

TEST_CASE("a non-2xx status completes without error, with its body") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto out = get(client, to(server.url("/status/404")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 404);
  CHECK(out.response.body == "status 404");

  out = get(client, to(server.url("/status/503")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 503);
  CHECK(out.response.body == "status 503");
}

TEST_CASE("headers of an interim 1xx response are dropped") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = get(client, to(server.url("/interim")));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 200);
  CHECK(out.response.body == "final");
  CHECK_FALSE(out.response.header("link"));
  CHECK(out.response.header("x-final") == "yes");
  CHECK(out.response.headers.size() == 2);  // Content-Length and X-Final
}

TEST_CASE("request headers reach the server") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url("/echo-header/X-Consul-Token"));
  req.headers.emplace_back("X-Consul-Token", "s3cr3t-token");
  const auto out = get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "s3cr3t-token");
}

TEST_CASE("a header with CR or LF is refused before anything is sent") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url("/ok"));
  req.headers.emplace_back("X-Consul-Token", "a\r\nX-Injected: 1");
  auto out = get(client, req);
  CHECK(out.ec == errc::invalid_argument);

  req.headers = {{"Bad:Name", "v"}};
  out = get(client, req);
  CHECK(out.ec == errc::invalid_argument);
  CHECK(server.stats().accepted == 0);
}

TEST_CASE("a long query reaches the server as written, and one curl refuses is still refused unsent") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  // A group query's filter at 10,000 nodes is tens of kilobytes: it goes out as the request target, unchanged.
  std::string query = "stale&filter=";
  for (int i = 0; i < 2000; ++i) query += "Node%20%3D%3D%20%22n" + std::to_string(i) + "%22%20or%20";
  query += "x=%2F%3F";
  auto out = get(client, to(server.url("/ok?" + query)));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 404);  // the script matches the whole target: "/ok?..." is not "/ok"
  const std::string head = server.stats().last_head;
  CHECK(head.substr(0, head.find("\r\n")) == "GET /ok?" + query + " HTTP/1.1");
  CHECK(head.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);

  const auto requests = server.stats().requests;
  out = get(client, to(server.url("/ok?filter=a b")));
  CHECK(out.ec == http::make_curl_error(CURLE_URL_MALFORMAT));
  CHECK(server.stats().requests == requests);
}

TEST_CASE("a response buffer handed in becomes the body's storage, its old contents dropped") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url("/big/3000"));
  req.response_buffer.assign(1 << 20, 'y');
  const auto out = get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == std::string(3000, 'x'));
  CHECK(out.response.body.capacity() >= (1u << 20));  // the same memory: no fresh pages for a large answer
}

TEST_CASE("schemes other than http and https are refused") {
  test::io_thread io;
  http::client client(io.io.get_executor());
  const auto out = get(client, to("file:///etc/passwd"));
  CHECK(out.ec == http::make_curl_error(CURLE_UNSUPPORTED_PROTOCOL));
  CHECK(out.response.body.empty());
}

TEST_CASE("proxies from the environment are ignored") {
  test::loopback_server server;
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  ::setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  test::io_thread io;
  http::client client(io.io.get_executor());
  const auto out = get(client, to(server.url("/ok")));
  ::unsetenv("http_proxy");
  ::unsetenv("ALL_PROXY");
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.status == 200);
}

TEST_CASE("a refused connection is CURLE_COULDNT_CONNECT with curl's detail") {
  unsigned short port = 0;
  {
    asio::io_context scratch;
    asio::ip::tcp::acceptor closed(scratch, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }  // closed again: nothing listens on `port` now
  test::io_thread io;
  http::client client(io.io.get_executor());

  const auto out = get(client, to("http://127.0.0.1:" + std::to_string(port) + "/"));
  CHECK(out.ec == http::make_curl_error(CURLE_COULDNT_CONNECT));
  CHECK(out.ec.category().name() == std::string("curl"));
  CHECK(out.ec.message() == curl_easy_strerror(CURLE_COULDNT_CONNECT));
  CHECK(out.response.status == 0);
  CHECK_FALSE(out.response.error_detail.empty());
}

TEST_CASE("the request timeout fails the transfer with CURLE_OPERATION_TIMEDOUT") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto req = to(server.url("/hang"));
  req.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  const auto out = get(client, req);
  CHECK(out.ec == http::make_curl_error(CURLE_OPERATION_TIMEDOUT));
  CHECK(out.at - start >= std::chrono::milliseconds(200));
  CHECK(out.at - start < std::chrono::seconds(5));
  CHECK(server.wait_until([](const auto& s) { return s.peer_closes == 1; }));
}

TEST_CASE("a body over the cap fails with body_too_large") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  const std::string path = GENERATE(as<std::string>{}, "/big/5000", "/chunked/5000");
  auto req = to(server.url(path));
  req.max_body = 4999;
  auto out = get(client, req);
  CHECK(out.ec == errc::body_too_large);

  req.max_body = 5000;  // exactly at the cap passes
  out = get(client, req);
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == std::string(5000, 'x'));
}

TEST_CASE("a body shorter than its Content-Length is CURLE_PARTIAL_FILE") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());
  const auto out = get(client, to(server.url("/lie")));
  CHECK(out.ec == http::make_curl_error(CURLE_PARTIAL_FILE));
}

TEST_CASE("a connection closed without an answer is CURLE_GOT_NOTHING") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());
  const auto out = get(client, to(server.url("/drop")));
  CHECK(out.ec == http::make_curl_error(CURLE_GOT_NOTHING));
}

TEST_CASE("a host name is resolved (curl's threaded resolver, woken by its timer)") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());
  const auto out = get(client, to("http://localhost:" + std::to_string(server.port()) + "/ok"));
  REQUIRE_FALSE(out.ec);
  CHECK(out.response.body == "hello");
}

TEST_CASE("a negative timeout is refused") {
  test::io_thread io;
  http::client client(io.io.get_executor());
  auto req = to("http://127.0.0.1:1/");
  req.timeout = std::chrono::milliseconds(-1);
  CHECK(get(client, req).ec == errc::invalid_argument);
}

TEST_CASE("a GET can go over a unix socket") {
  char dir[] = "/tmp/coalias-http-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/consul.sock";
  {
    test::loopback_server server(path);
    test::io_thread io;
    http::client client(io.io.get_executor());
    auto req = to("http://consul/ok");
    req.unix_socket = path;
    const auto out = get(client, req);
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.status == 200);
    CHECK(out.response.body == "hello");
  }
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("async_get works with use_future and use_awaitable") {
  test::loopback_server server;
  test::io_thread io;
  http::client client(io.io.get_executor());

  auto body = client.async_get(to(server.url("/ok")), asio::use_future);
  REQUIRE(body.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(body.get().body == "hello");

  auto failed = client.async_get(to(server.url("/drop")), asio::use_future);
  REQUIRE(failed.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK_THROWS_AS(failed.get(), std::system_error);

  auto coro = [&]() -> asio::awaitable<long> {
    const http::request req = to(server.url("/status/201"));
    const http::response r = co_await client.async_get(req, asio::use_awaitable);
    co_return r.status;
  };
  auto status = asio::co_spawn(io.io, coro(), asio::use_future);
  REQUIRE(status.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  CHECK(status.get() == 201);
}
