// libFuzzer target: the HTTP/1.x request head parser shared by the health endpoint and the test server
// (lib/http_server), and the health endpoint's answer to what it accepts. The input is a request head (the bytes
// before the blank line); its first byte, when present, also picks the header-count limit.
//
// Checks, beyond "no crash or sanitizer report":
//  - an accepted head has a token method, a target starting with '/' without spaces or control bytes, version
//    1.0 or 1.1, at most `max_headers` headers with token names and values free of control bytes (tab aside)
//    and of surrounding whitespace, a Host header for 1.1, a content_length equal to any Content-Length header,
//    and a path that is the percent-decoded target before '?';
//  - a head refused for too many headers parses without the limit into more headers than the limit, and a head
//    refused as bad is refused without a limit too;
//  - the endpoint answers an accepted request with one of its codes, and its wire form's Content-Length is the
//    body's size.
#include "http_server/http_request.hpp"
#include "serve/routes.hpp"

#include "fuzz_check.hpp"

#include "core/ascii.hpp"

#include <coalias/local_state.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace hs = coalias::http_server;

// RFC 9110 tchar, spelled out as a set: the oracle does not reuse the parser's own test.
constexpr std::string_view tchars =
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

bool is_token(std::string_view s) { return !s.empty() && s.find_first_not_of(tchars) == std::string_view::npos; }

const coalias::local_state& state() {
  static coalias::local_state* s = [] {
    auto* st = new coalias::local_state("node-1");
    coalias::health_check c;
    c.check_id = "web";
    c.status = coalias::status::warning;
    c.output = "a \"quoted\"\n<output>";
    st->add_check(c);
    return st;
  }();
  return *s;
}

void check_accepted(const hs::http_request& req, std::size_t max_headers) {
  FUZZ_CHECK(is_token(req.method));
  FUZZ_CHECK(!req.target.empty() && req.target[0] == '/');
  for (char ch : req.target) {
    const auto c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c > 0x20 && c < 0x7F);
  }
  FUZZ_CHECK(req.minor_version == 0 || req.minor_version == 1);
  FUZZ_CHECK(req.headers.size() <= max_headers);
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(is_token(name));
    for (char ch : value) {
      const auto c = static_cast<unsigned char>(ch);
      FUZZ_CHECK((c >= 0x20 && c != 0x7F) || c == '\t');
    }
    FUZZ_CHECK(coalias::detail::trim(value, coalias::detail::http_ows) == value);
  }
  if (req.minor_version == 1) FUZZ_CHECK(req.header("Host").has_value());
  if (const auto cl = req.header("Content-Length")) {
    std::size_t n = 0;
    const auto [ptr, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    FUZZ_CHECK(ec == std::errc() && ptr == cl->data() + cl->size() && n == req.content_length);
  }
  FUZZ_CHECK(!req.header("Transfer-Encoding"));
  const auto decoded = hs::percent_decode(std::string_view(req.target).substr(0, req.target.find('?')), false);
  FUZZ_CHECK(decoded && *decoded == req.path);

  coalias::endpoint_options options;
  options.metrics = [] { return std::string("x 1\n"); };
  const auto a = coalias::detail::answer(req.method, req.target, state(), options);
  FUZZ_CHECK(a.status == 200 || a.status == 404 || a.status == 405 || a.status == 429 || a.status == 503);
  std::string wire;
  coalias::detail::append_wire(wire, a, false, !req.keep_alive, false);
  const std::string length = "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n";
  FUZZ_CHECK(wire.find(length) != std::string::npos);
  FUZZ_CHECK(wire.size() >= a.body.size() && wire.compare(wire.size() - a.body.size(), a.body.size(), a.body) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  const std::size_t max_headers = size == 0 ? 64 : data[0] % 8;

  hs::head_error why{};
  const auto req = hs::parse_request_head(head, max_headers, &why);
  const auto unlimited = hs::parse_request_head(head);
  if (req) {
    check_accepted(*req, max_headers);
    FUZZ_CHECK(unlimited && unlimited->headers == req->headers && unlimited->target == req->target);
  } else if (why == hs::head_error::too_many_headers) {
    FUZZ_CHECK(!unlimited || unlimited->headers.size() > max_headers);
  } else {
    FUZZ_CHECK(!unlimited);
  }
  if (unlimited) check_accepted(*unlimited, unlimited->headers.size());
  return 0;
}
