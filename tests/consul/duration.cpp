#include <coalias/duration.hpp>

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

TEST_CASE("Go durations parse to exact nanoseconds") {
  struct row {
    const char* text;
    nanoseconds want;
  };
  const row rows[] = {
      {"0", 0ns},           {"0s", 0ns},
      {"500ms", 500ms},     {"10s", 10s},
      {"5m", 5min},         {"1h", 1h},
      {"1.5s", 1500ms},     {"1m30s", 90s},
      {"300us", 300us},     {"300\xC2\xB5s", 300us},  // U+00B5 micro sign
      {"7\xCE\xBCs", 7us},  // U+03BC Greek mu
      {"42ns", 42ns},       {".5s", 500ms},
      {"5.s", 5s},          {"+10s", 10s},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"0.000000001s", 1ns}, {"2562047h", 2562047h},
      {"9223372036854775807ns", nanoseconds::max()},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(coalias::parse_duration(r.text) == r.want);
    nanoseconds out{-1};
    CHECK_FALSE(coalias::parse_duration(r.text, out));
    CHECK(out == r.want);
  }
}

TEST_CASE("anything but a non-negative Go duration is refused with bad_duration") {
  const char* bad[] = {"", "-1s", "-0", "10", "00", "1", "s", ".", ".s", "1.5", "10x", "10 s", " 10s", "10s ",
                       "1d", "1S", "1e3s", "--1s", "+", "+-1s", "1s-", "9223372036854775808ns", "2562048h",
                       "99999999999999999999s", "1h\xC2", "NaN", "infs"};
  for (const char* text : bad) {
    INFO('"' << text << '"');
    nanoseconds out{123};
    CHECK(coalias::parse_duration(text, out) == coalias::errc::bad_duration);
    CHECK(out == nanoseconds{123});
    try {
      (void)coalias::parse_duration(text);
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code() == coalias::errc::bad_duration);
    }
  }
}

TEST_CASE("the duration error says what is wrong and quotes a bounded excerpt") {
  try {
    (void)coalias::parse_duration("10");
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("\"10\"") && Catch::Contains("missing unit"));
  }
  try {
    (void)coalias::parse_duration(std::string(1000, '9') + "s");
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).size() < 200);
    CHECK_THAT(e.what(), Catch::Contains("out of range"));
  }
}

TEST_CASE("format_wait writes whole milliseconds like Consul's Go client") {
  CHECK(coalias::format_wait(60s) == "60000ms");
  CHECK(coalias::format_wait(1500ms) == "1500ms");
  CHECK(coalias::format_wait(1999us) == "1ms");
  CHECK(coalias::format_wait(1ns) == "1ms");  // positive sub-ms must not become "server default"
  CHECK(coalias::format_wait(0ns) == "0ms");
  CHECK(coalias::format_wait(-5s) == "0ms");
  CHECK(coalias::format_wait(10min) == "600000ms");
}
