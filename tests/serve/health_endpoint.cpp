#include <coalias/health_endpoint.hpp>

#include "raw_http.hpp"
#include "served.hpp"

#include <catch2/catch.hpp>

#include <asio/connect.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <list>
#include <string>
#include <thread>

using coalias::endpoint_options;
using coalias::status;
using coalias::test::make_check;
using coalias::test::served;
using coalias::testing::test::ms_since;
using coalias::testing::test::raw_client;
using coalias::testing::test::raw_response;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

constexpr const char* web_json = R"({"id":"web:alive","status":"passing","output":"HTTP GET http://127.0.0.1/: 200 OK"})";
constexpr const char* disk_json = R"({"id":"disk","status":"warning","output":"disk 91% full"})";

raw_response get(std::uint16_t port, std::string_view target) { return raw_client(port).get(target); }

// Sends `bytes` on a fresh connection and returns the answer; the server must then close the connection.
raw_response refused(std::uint16_t port, std::string_view bytes) {
  raw_client c(port);
  c.send_raw(bytes);
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->header("Connection") == "close");
  CHECK(c.closed_by_peer());
  return *r;
}

// Waits (bounded) until the endpoint counts `n` open connections: closing is asynchronous on its side.
void await_connections(const served& s, std::size_t n) {
  const auto start = std::chrono::steady_clock::now();
  while (s.endpoint->connection_count() != n && ms_since(start) < 5000) std::this_thread::sleep_for(1ms);
  REQUIRE(s.endpoint->connection_count() == n);
}

}  // namespace

TEST_CASE("GET /health/<id> answers 200, 429 or 503 with the check as JSON") {
  served s;
  auto r = get(s.port(), "/health/web:alive");
  CHECK(r.status == 200);
  CHECK(r.reason == "OK");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Content-Length") == std::to_string(r.body.size()));
  CHECK(r.body == web_json);

  r = get(s.port(), "/health/disk");
  CHECK(r.status == 429);
  CHECK(r.reason == "Too Many Requests");
  CHECK(r.body == disk_json);

  s.state.update_check("disk", status::critical, "disk \"/\" full\n<100%>");
  r = get(s.port(), "/health/disk?ignored=1");
  CHECK(r.status == 503);
  CHECK(r.reason == "Service Unavailable");
  CHECK(r.body == R"({"id":"disk","status":"critical","output":"disk \"/\" full\n\u003c100%\u003e"})");
}

TEST_CASE("an unknown or unserved check ID is 404; the ID is one percent-decoded segment") {
  endpoint_options o;
  o.serves = [](const coalias::health_check& c) { return c.check_id != "disk"; };
  served s(o);
  s.state.add_check(make_check("a/b c", status::passing, "", "ok"));

  auto r = get(s.port(), "/health/nope");
  CHECK(r.status == 404);
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.body == "Unknown check ID \"nope\"\n");
  CHECK(get(s.port(), "/health/disk").body == "Unknown check ID \"disk\"\n");
  CHECK(get(s.port(), "/health/a%2Fb%20c").body == R"({"id":"a/b c","status":"passing","output":"ok"})");
  CHECK(get(s.port(), "/health/a/b%20c").body == "404 page not found\n");
  CHECK(get(s.port(), "/health/").body == "404 page not found\n");
}

TEST_CASE("GET /health answers the worst served status and every served check in ID order") {
  served s;
  auto r = get(s.port(), "/health");
  CHECK(r.status == 429);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == std::string("[") + disk_json + "," + web_json + "]");

  s.state.update_check("disk", status::passing, "disk 50% full");
  r = get(s.port(), "/health");
  CHECK(r.status == 200);
  s.state.update_check("web:alive", status::critical, "down");
  CHECK(get(s.port(), "/health").status == 503);
}

TEST_CASE("GET /health over a filter shows only served checks; none served is 200 with []") {
  endpoint_options o;
  o.serves = [](const coalias::health_check& c) { return c.service_id == "web"; };
  served s(o);
  auto r = get(s.port(), "/health");
  CHECK(r.status == 200);
  CHECK(r.body == std::string("[") + web_json + "]");

  s.state.remove_check("web:alive");
  r = get(s.port(), "/health");
  CHECK(r.status == 200);
  CHECK(r.body == "[]");
}

TEST_CASE("GET /metrics answers options.metrics as Prometheus text, 404 when not set") {
  {
    endpoint_options o;
    o.metrics = [] { return std::string("# TYPE x counter\nx 1\n"); };
    served s(o);
    const auto r = get(s.port(), "/metrics");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(r.body == "# TYPE x counter\nx 1\n");
  }
  served s;
  const auto r = get(s.port(), "/metrics");
  CHECK(r.status == 404);
  CHECK(r.body == "404 page not found\n");
}

TEST_CASE("other paths are 404, other methods 405 with Allow, HEAD is GET without a body") {
  served s;
  raw_client c(s.port());
  auto r = c.get("/v1/health/node/x");
  CHECK(r.status == 404);
  CHECK(r.reason == "Not Found");
  CHECK(r.body == "404 page not found\n");
  CHECK(c.get("/healthz").status == 404);
  CHECK(c.get("/").status == 404);

  c.send("POST", "/health", {{"Content-Length", "2"}});
  c.send_raw("{}");
  r = *c.read();
  CHECK(r.status == 405);
  CHECK(r.reason == "Method Not Allowed");
  CHECK(r.header("Allow") == "GET, HEAD");
  CHECK(r.body == "405 method not allowed\n");
  c.send("DELETE", "/health/disk");
  CHECK(c.read()->status == 405);
  c.send("PUT", "/nothing");
  CHECK(c.read()->status == 404);

  // HEAD: the GET's headers, Content-Length included, and no body; the next answer follows right after.
  c.send("HEAD", "/health/disk");
  c.send("GET", "/health/disk");
  std::string buffer;
  const std::size_t n = asio::read_until(c.socket(), asio::dynamic_buffer(buffer), "\r\n\r\n");
  const std::string head = buffer.substr(0, n);
  buffer.erase(0, n);
  CHECK(head == "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(std::string(disk_json).size()) + "\r\n\r\n");
  const auto after = coalias::testing::test::read_response(c.socket(), buffer);
  REQUIRE(after);
  CHECK(after->body == disk_json);
}

TEST_CASE("keep-alive: one connection, many requests, each answer reads the state at that moment") {
  served s;
  raw_client c(s.port());
  CHECK(c.get("/health/web:alive").status == 200);
  s.state.update_check("web:alive", status::critical, "connection refused");
  auto r = c.get("/health/web:alive");
  CHECK(r.status == 503);
  CHECK(r.body == R"({"id":"web:alive","status":"critical","output":"connection refused"})");
  CHECK(!r.header("Connection"));
  s.state.update_check("web:alive", status::passing, "back");
  CHECK(c.get("/health/web:alive").status == 200);
  CHECK(s.endpoint->connection_count() == 1);
}

TEST_CASE("pipelined requests are answered in order, a body is stepped over") {
  served s;
  raw_client c(s.port());
  c.send_raw(coalias::testing::test::request_bytes("GET", "/health/disk") +
             coalias::testing::test::request_bytes("GET", "/nope", {{"Content-Length", "5"}}) + "hello" +
             coalias::testing::test::request_bytes("GET", "/health/web:alive") +
             coalias::testing::test::request_bytes("GET", "/health", {{"Connection", "close"}}));
  CHECK(c.read()->body == disk_json);
  CHECK(c.read()->status == 404);
  CHECK(c.read()->body == web_json);
  const auto last = c.read();
  CHECK(last->status == 429);
  CHECK(last->header("Connection") == "close");
  CHECK(c.closed_by_peer());
}

TEST_CASE("HTTP/1.0 closes unless it asks for keep-alive") {
  served s;
  {
    raw_client c(s.port());
    c.send_raw("GET /health/disk HTTP/1.0\r\n\r\n");
    const auto r = c.read();
    CHECK(r->body == disk_json);
    CHECK(r->header("Connection") == "close");
    CHECK(c.closed_by_peer());
  }
  raw_client c(s.port());
  c.send_raw("GET /health/disk HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(c.read()->header("Connection") == "keep-alive");
  c.send_raw("GET /health/disk HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(c.read()->body == disk_json);
}

TEST_CASE("bad requests get 400 and the connection closed; the server goes on") {
  served s;
  const std::string_view bad[] = {
      "GARBAGE\r\n\r\n",
      "GET /health HTTP/1.1\r\n\r\n",                       // no Host
      "GET /health HTTP/2.0\r\nHost: x\r\n\r\n",
      "GET health HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET /health/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"sv,  // a TLS hello, more or less
      "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 8193\r\n\r\n",  // a body over max_request_bytes
  };
  for (const std::string_view bytes : bad) {
    INFO(coalias::detail::error_excerpt(bytes, 100));
    const auto r = refused(s.port(), bytes);
    CHECK(r.status == 400);
    CHECK(r.reason == "Bad Request");
    CHECK(r.body == "400 Bad Request\n");
  }
  // Binary garbage with NULs and no blank line: 431 once it is longer than a head may be.
  std::string noise(9000, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919) % 251);
  CHECK(refused(s.port(), noise).status == 431);
  CHECK(get(s.port(), "/health/disk").body == disk_json);
}

TEST_CASE("an oversized head or too many headers get 431 and the connection closed") {
  endpoint_options o;
  o.max_request_bytes = 512;
  o.max_headers = 4;
  served s(o);
  auto r = refused(s.port(), coalias::testing::test::request_bytes("GET", "/health", {{"X-Pad", std::string(600, 'a')}}));
  CHECK(r.status == 431);
  CHECK(r.reason == "Request Header Fields Too Large");
  CHECK(r.body == "431 Request Header Fields Too Large\n");

  // Host plus three: within the count; one more: 431.
  const coalias::testing::test::header_pairs three = {{"A", "1"}, {"B", "2"}, {"C", "3"}};
  CHECK(get(s.port(), "/health/disk").status == 429);
  raw_client ok(s.port());
  CHECK(ok.get("/health/disk", three).status == 429);
  auto four = three;
  four.emplace_back("D", "4");
  r = refused(s.port(), coalias::testing::test::request_bytes("GET", "/health", four));
  CHECK(r.status == 431);
}

TEST_CASE("a slow or idle client is closed after idle_timeout") {
  endpoint_options o;
  o.idle_timeout = 200ms;
  served s(o);
  {
    raw_client slow(s.port());
    const auto start = std::chrono::steady_clock::now();
    slow.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n");  // never finishes its head
    CHECK(slow.closed_by_peer());
    CHECK(ms_since(start) >= 190);
    CHECK(ms_since(start) < 5000);
  }
  {
    // Trickling bytes does not extend the deadline of a request.
    raw_client trickle(s.port());
    const auto start = std::chrono::steady_clock::now();
    asio::error_code ec;
    for (int i = 0; i < 100 && !ec; ++i) {
      asio::write(trickle.socket(), asio::buffer("X-A: b\r\n", 8), ec);
      std::this_thread::sleep_for(20ms);
    }
    CHECK(ms_since(start) < 1500);  // cut off well before the 100 lines were sent
  }
  raw_client idle(s.port());
  CHECK(idle.get("/health/disk").status == 429);
  const auto start = std::chrono::steady_clock::now();
  CHECK(idle.closed_by_peer());
  CHECK(ms_since(start) >= 150);
  await_connections(s, 0);
}

TEST_CASE("beyond max_connections a connection is accepted and closed; a freed slot serves again") {
  endpoint_options o;
  o.max_connections = 2;
  served s(o);
  std::list<raw_client> open;
  for (int i = 0; i < 2; ++i) CHECK(open.emplace_back(s.port()).get("/health/disk").status == 429);
  CHECK(s.endpoint->connection_count() == 2);

  raw_client extra(s.port());
  asio::error_code ec;
  asio::write(extra.socket(), asio::buffer(coalias::testing::test::request_bytes("GET", "/health")), ec);
  std::string nothing;
  CHECK(coalias::testing::test::peer_closed(extra.socket(), nothing));
  CHECK(nothing.empty());

  open.front().close();
  open.pop_front();
  await_connections(s, 1);
  raw_client again(s.port());
  CHECK(again.get("/health/disk").status == 429);
}

TEST_CASE("shutdown closes open connections, idle or mid-request, and the listening socket") {
  served s;
  raw_client idle(s.port());
  CHECK(idle.get("/health").status == 429);
  raw_client partial(s.port());
  partial.send_raw("GET /health HTTP/1.1\r\n");
  await_connections(s, 2);

  const auto start = std::chrono::steady_clock::now();
  s.shutdown();
  CHECK(ms_since(start) < 1000);
  CHECK(s.endpoint->connection_count() == 0);
  CHECK(idle.closed_by_peer());
  CHECK(partial.closed_by_peer());

  asio::io_context io;
  asio::ip::tcp::socket late(io);
  asio::error_code ec;
  late.connect({asio::ip::make_address_v4("127.0.0.1"), s.port()}, ec);
  CHECK(ec == asio::error::connection_refused);
  s.endpoint->async_shutdown(asio::use_future).get();  // again: harmless, at once
}

TEST_CASE("binding a used address throws a system_error naming it") {
  served s;
  asio::io_context io;
  const asio::ip::tcp::endpoint taken(asio::ip::make_address("127.0.0.1"), s.port());
  try {
    coalias::health_endpoint second(io.get_executor(), s.state, taken);
    FAIL("bound twice");
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::address_in_use);
    CHECK(std::string(e.what()).find("health endpoint: cannot listen on 127.0.0.1:" + std::to_string(s.port())) == 0);
  }
}
