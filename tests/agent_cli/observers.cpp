// coalias-agent's observers: publish failures logged once per failing spell, fan-out to every target.
#include "agent_cli/observers.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace coalias;
using namespace coalias::agent_cli;

namespace {

// The text written to an event_log backed by a temporary file.
struct captured_log {
  std::FILE* file = std::tmpfile();
  event_log log{file};
  ~captured_log() { std::fclose(file); }
  std::string text() {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    for (int c; (c = std::fgetc(file)) != EOF;) out += static_cast<char>(c);
    return out;
  }
};

struct counting : publish_observer {
  int failed = 0, recovered = 0, published = 0;
  void on_publish_failed(std::string_view, std::string_view) override { ++failed; }
  void on_publish_recovered(std::string_view) override { ++recovered; }
  void on_published(std::string_view, status, std::chrono::nanoseconds) override { ++published; }
};

}  // namespace

TEST_CASE("publish_log: the first failure and the recovery, once each per spell") {
  captured_log out;
  publish_log log(out.log);
  log.on_publish_failed("a", "Unexpected response code: 500 (No cluster leader)");
  log.on_publish_failed("a", "Unexpected response code: 500 (No cluster leader)");
  log.on_publish_failed("b", "timeout");
  log.on_publish_recovered("a");
  log.on_publish_recovered("a");
  log.on_publish_recovered("c");  // never failed: nothing to say
  log.on_publish_failed("a", "again");
  CHECK(out.text() ==
        "check \"a\": publish failed: Unexpected response code: 500 (No cluster leader)\n"
        "check \"b\": publish failed: timeout\n"
        "check \"a\": publish recovered\n"
        "check \"a\": publish failed: again\n");
}

TEST_CASE("publish_fanout forwards every hook to every target") {
  counting x, y;
  publish_fanout both({&x, &y});
  both.on_publish_failed("a", "r");
  both.on_publish_recovered("a");
  both.on_published("a", status::passing, std::chrono::nanoseconds(1));
  CHECK((x.failed == 1 && x.recovered == 1 && x.published == 1));
  CHECK((y.failed == 1 && y.recovered == 1 && y.published == 1));
}
