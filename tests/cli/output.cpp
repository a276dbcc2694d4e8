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

TEST_CASE("JSON lines escape as Consul does, through the library's JSON writer") {
  alias_target t{"db-<1>", ""};
  CHECK(json_line(t, eval(status::critical, "a\"b\\c\nd\te\x01 caf\xC3\xA9 \xFF", 3)) ==
        R"({"node":"db-\u003c1\u003e","service":"","status":"critical","output":"a\"b\\c\nd\te\u0001 caf)"
        "\xC3\xA9"
        R"( \ufffd","index":3})");
}

TEST_CASE("--once exit statuses follow Consul's script checks") {
  CHECK(exit_status(status::passing) == 0);
  CHECK(exit_status(status::warning) == 1);
  CHECK(exit_status(status::critical) == 2);
}
