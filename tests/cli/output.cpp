// Output lines: the exact plain and JSON formats, and JSON escaping.
#include "watch_cli/output.hpp"

#include <catch2/catch.hpp>

using namespace coalias;
using namespace coalias::watch_cli;

namespace {
remote_evaluation eval(status s, std::string output, std::uint64_t index) {
  remote_evaluation e;
  e.result.status = s;
  e.result.output = std::move(output);
  e.index = index;
  return e;
}
}  // namespace

TEST_CASE("plain lines: status padded to 8, two spaces, output, index") {
  CHECK(plain_line(eval(status::critical, "Aliased check \"pg port\" failing: refused", 42)) ==
        "critical  Aliased check \"pg port\" failing: refused  (index 42)");
  CHECK(plain_line(eval(status::passing, "All checks passing.", 7)) == "passing   All checks passing.  (index 7)");
  CHECK(plain_line(eval(status::warning, "", 0)) == "warning     (index 0)");
}

TEST_CASE("plain lines keep one change on one line") {
  CHECK(plain_line(eval(status::critical, "a\nb\r\tc\x01\x7f", 1)) == "critical  a\\nb\\r\\tc\\x01\\x7f  (index 1)");
  CHECK(plain_line(eval(status::passing, "caf\xC3\xA9 \\ \"q\"", 1)) == "passing   caf\xC3\xA9 \\ \"q\"  (index 1)");
}

TEST_CASE("JSON lines: node, service, status, output, index") {
  alias_target t{"db-1", "pg-1"};
  CHECK(json_line(t, eval(status::warning, "Aliased check \"x\" failing: slow", 42)) ==
        R"({"node":"db-1","service":"pg-1","status":"warning","output":"Aliased check \"x\" failing: slow","index":42})");
  alias_target n{"db-1", ""};
  CHECK(json_line(n, eval(status::passing, "All checks passing.", 0)) ==
        R"({"node":"db-1","service":"","status":"passing","output":"All checks passing.","index":0})");
  CHECK(json_line(n, eval(status::critical, "x", 18446744073709551615ull)).find("\"index\":18446744073709551615}") !=
        std::string::npos);
}

TEST_CASE("JSON escaping: quotes, backslashes, newlines, control characters") {
  CHECK(json_quote("") == R"("")");
  CHECK(json_quote("say \"hi\"") == R"("say \"hi\"")");
  CHECK(json_quote("C:\\dir") == R"("C:\\dir")");
  CHECK(json_quote("a\nb\rc\td\be\ff") == R"("a\nb\rc\td\be\ff")");
  CHECK(json_quote(std::string("\x00\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(json_quote("\x7f/") == "\"\x7f/\"");  // DEL and '/' need no escape
}

TEST_CASE("JSON escaping: valid UTF-8 passes, invalid bytes become U+FFFD") {
  CHECK(json_quote("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") == "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(json_quote("\xFF") == "\"" + fffd + "\"");
  CHECK(json_quote("a\xC3") == "\"a" + fffd + "\"");                   // truncated sequence
  CHECK(json_quote("\xC0\xAF") == "\"" + fffd + fffd + "\"");          // overlong
  CHECK(json_quote("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");  // surrogate
  CHECK(json_quote("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
}

TEST_CASE("--once exit statuses follow Consul's script checks") {
  CHECK(exit_status(status::passing) == 0);
  CHECK(exit_status(status::warning) == 1);
  CHECK(exit_status(status::critical) == 2);
}
