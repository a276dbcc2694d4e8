#include <coalias/status.hpp>

#include <catch2/catch.hpp>

using coalias::status;

TEST_CASE("statuses print as Consul's strings and parse back") {
  for (const auto s : {status::passing, status::warning, status::critical})
    CHECK(coalias::parse_status(coalias::to_string(s)) == s);
  CHECK(coalias::to_string(status::passing) == "passing");
  CHECK(coalias::to_string(status::warning) == "warning");
  CHECK(coalias::to_string(status::critical) == "critical");
}

TEST_CASE("an unknown status string is an error, never passing") {
  for (const char* text : {"", "Passing", "PASSING", "ok", "maintenance", "passing ", " critical", "unknown"})
    CHECK_FALSE(coalias::parse_status(text).has_value());
}

TEST_CASE("statuses order from best to worst") {
  CHECK(status::passing < status::warning);
  CHECK(status::warning < status::critical);
}
