#include <coalias/aggregate.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace coalias;

namespace {

health_check chk(std::string node, std::string id, status s, std::string output = "", std::string service = "") {
  health_check c;
  c.node = std::move(node);
  c.check_id = id;
  c.name = "check " + id;
  c.status = s;
  c.output = std::move(output);
  c.service_id = std::move(service);
  return c;
}

check_result eval(const alias_target& target, const std::vector<health_check>& checks,
                  presence p = presence::present, const check_key& self = {"n1", "alias"}) {
  aggregator agg(target, self);
  for (const auto& c : checks) agg.add(c);
  return agg.finish(p);
}

const alias_target web{"n1", "web"};
const alias_target node_only{"n1", ""};

}  // namespace

TEST_CASE("no checks at all: passing, No checks found.") {
  CHECK(eval(web, {}) == check_result{status::passing, "No checks found."});
  CHECK(eval(node_only, {}) == check_result{status::passing, "No checks found."});
}

TEST_CASE("every counted check passing: All checks passing.") {
  CHECK(eval(web, {chk("n1", "a", status::passing, "ok", "web"), chk("n1", "serf", status::passing)}) ==
        check_result{status::passing, "All checks passing."});
}

TEST_CASE("one critical check makes the alias critical with its name and output") {
  CHECK(eval(web, {chk("n1", "a", status::passing, "", "web"), chk("n1", "b", status::critical, "down", "web")}) ==
        check_result{status::critical, "Aliased check \"check b\" failing: down"});
}

TEST_CASE("critical wins over an earlier warning") {
  CHECK(eval(web, {chk("n1", "a", status::warning, "slow", "web"), chk("n1", "b", status::critical, "down", "web")}) ==
        check_result{status::critical, "Aliased check \"check b\" failing: down"});
}

TEST_CASE("of several criticals the first one's message is reported") {
  CHECK(eval(web, {chk("n1", "a", status::critical, "first", "web"), chk("n1", "b", status::critical, "second", "web")}) ==
        check_result{status::critical, "Aliased check \"check a\" failing: first"});
}

TEST_CASE("a warning's message survives a later passing check (the seed overwrote it)") {
  CHECK(eval(web, {chk("n1", "a", status::warning, "slow", "web"), chk("n1", "b", status::passing, "ok", "web")}) ==
        check_result{status::warning, "Aliased check \"check a\" failing: slow"});
}

TEST_CASE("of several warnings the first one's message is reported") {
  CHECK(eval(web, {chk("n1", "a", status::warning, "w1", "web"), chk("n1", "b", status::warning, "w2", "web")}) ==
        check_result{status::warning, "Aliased check \"check a\" failing: w1"});
}

TEST_CASE("checks of other services are skipped") {
  CHECK(eval(web, {chk("n1", "db", status::critical, "down", "db")}) ==
        check_result{status::passing, "No checks found."});
  CHECK(eval(web, {chk("n1", "db", status::critical, "down", "db"), chk("n1", "w", status::passing, "", "web")}) ==
        check_result{status::passing, "All checks passing."});
}

TEST_CASE("node-level checks always count, for service and node aliases") {
  const std::vector<health_check> checks{chk("n1", "serf", status::critical, "gone"), chk("n1", "w", status::passing, "", "web")};
  CHECK(eval(web, checks) == check_result{status::critical, "Aliased check \"check serf\" failing: gone"});
  CHECK(eval(node_only, checks) == check_result{status::critical, "Aliased check \"check serf\" failing: gone"});
}

TEST_CASE("a node alias skips every service check") {
  CHECK(eval(node_only, {chk("n1", "w", status::critical, "down", "web"), chk("n1", "serf", status::passing)}) ==
        check_result{status::passing, "All checks passing."});
}

TEST_CASE("checks of other nodes are skipped; node names compare case-insensitively") {
  CHECK(eval(web, {chk("n2", "w", status::critical, "down", "web")}) ==
        check_result{status::passing, "No checks found."});
  CHECK(eval(web, {chk("N1", "w", status::critical, "down", "web")}) ==
        check_result{status::critical, "Aliased check \"check w\" failing: down"});
}

TEST_CASE("the alias check itself is never counted") {
  CHECK(eval(node_only, {chk("n1", "alias", status::critical, "me")}) ==
        check_result{status::passing, "No checks found."});
  // The same ID on another node is someone else's check.
  CHECK(eval(alias_target{"n2", ""}, {chk("n2", "alias", status::critical, "them")}) ==
        check_result{status::critical, "Aliased check \"check alias\" failing: them"});
}

TEST_CASE("a missing service with no checks is critical and says so") {
  CHECK(eval(web, {}, presence::service_missing) ==
        check_result{status::critical, "Service web could not be found on node n1"});
  CHECK(eval(web, {}, presence::node_missing) ==
        check_result{status::critical, "Service web could not be found on node n1"});
  // Missing outranks a failing node check: the service is simply not there.
  CHECK(eval(web, {chk("n1", "serf", status::critical, "gone")}, presence::service_missing) ==
        check_result{status::critical, "Service web could not be found on node n1"});
}

TEST_CASE("presence matters only when nothing of the subject was found") {
  CHECK(eval(web, {chk("n1", "w", status::passing, "", "web")}, presence::service_missing) ==
        check_result{status::passing, "All checks passing."});
  CHECK(eval(node_only, {chk("n1", "serf", status::passing)}, presence::node_missing) ==
        check_result{status::passing, "All checks passing."});
}

TEST_CASE("a node alias of an unknown node is critical") {
  CHECK(eval(node_only, {}, presence::node_missing) == check_result{status::critical, "Node n1 could not be found"});
  CHECK(eval(node_only, {}, presence::service_missing) == check_result{status::passing, "No checks found."});
}

TEST_CASE("needs_presence tells when existence decides") {
  const check_key self{"n1", "alias"};
  aggregator svc(web, self);
  svc.add(chk("n1", "serf", status::passing));
  CHECK(svc.needs_presence());
  const auto w = chk("n1", "w", status::passing, "", "web");
  svc.add(w);
  CHECK_FALSE(svc.needs_presence());
  aggregator node(node_only, self);
  CHECK(node.needs_presence());
  const auto serf = chk("n1", "serf", status::passing);
  node.add(serf);
  CHECK_FALSE(node.needs_presence());
}

TEST_CASE("check names are quoted as Go's %q does") {
  CHECK(go_quote("plain") == "\"plain\"");
  CHECK(go_quote("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
  CHECK(go_quote("a\nb\tc") == "\"a\\nb\\tc\"");
  CHECK(go_quote(std::string("\x01", 1)) == "\"\\x01\"");
  CHECK(go_quote("héllo") == "\"héllo\"");
}
