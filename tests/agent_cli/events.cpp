// coalias-agent's event lines: exact text, one line whatever the output holds.
#include "agent_cli/events.hpp"

#include "agent_cli/options.hpp"

#include <catch2/catch.hpp>

using namespace coalias;
using namespace coalias::agent_cli;
using namespace std::chrono_literals;

TEST_CASE("start lines say what is published where, never the token") {
  options o;
  o.config.token = "secret";
  CHECK(start_line(2, o) == "start: 2 checks, publishing to http://127.0.0.1:8500 (ttl 30s)");
  o.ttl = 1500ms;
  CHECK(start_line(1, o) == "start: 1 check, publishing to http://127.0.0.1:8500 (ttl 1500ms)");
  o.publish = false;
  CHECK(start_line(3, o) == "start: 3 checks, not publishing");
}

TEST_CASE("ttl format") {
  CHECK(format_ttl(30s) == "30s");
  CHECK(format_ttl(90s) == "1m30s");
  CHECK(format_ttl(3600s) == "1h");
  CHECK(format_ttl(250ms) == "250ms");
}

TEST_CASE("status, publish and reload lines") {
  health_check c;
  c.check_id = "web \"alias\"";
  c.status = status::warning;
  c.output = "slow\nreally";
  CHECK(status_line(c) == "check \"web \\\"alias\\\"\": warning: slow\\x0areally");
  CHECK(publish_failed_line("w", "Unexpected response code: 500") == "check \"w\": publish failed: Unexpected response code: 500");
  CHECK(publish_recovered_line("w") == "check \"w\": publish recovered");
  reload_counts n;
  n.added = 1;
  n.unchanged = 2;
  CHECK(reload_line(n) == "reload: 1 added, 0 changed, 0 removed, 2 unchanged");
  CHECK(reload_refused_line("a.json: x") == "reload refused: a.json: x");
  CHECK(listening_line("127.0.0.1", 8080) == "listening on 127.0.0.1:8080");
  CHECK(listening_line("::1", 8080) == "listening on [::1]:8080");
  CHECK(error_line("bad\rthing") == "coalias-agent: bad\\x0dthing");
}
