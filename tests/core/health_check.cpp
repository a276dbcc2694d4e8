#include <coalias/health_check.hpp>

#include <catch2/catch.hpp>

#include <string>

using coalias::truncate_output;

TEST_CASE("truncate_output keeps short outputs whole") {
  CHECK(truncate_output("") == "");
  CHECK(truncate_output("ok") == "ok");
  CHECK(truncate_output(std::string(4096, 'x')).size() == 4096);
  CHECK(coalias::check_output_max_size == 4096);
}

TEST_CASE("truncate_output never splits a UTF-8 character") {
  // "é" is 2 bytes, "€" 3, "𝄞" 4: a cut inside any of them backs off to where the character starts.
  CHECK(truncate_output("ab\xc3\xa9", 3) == "ab");
  CHECK(truncate_output("ab\xe2\x82\xac", 3) == "ab");
  CHECK(truncate_output("ab\xe2\x82\xac", 4) == "ab");
  CHECK(truncate_output("a\xf0\x9d\x84\x9e" "b", 4) == "a");
  CHECK(truncate_output("a\xf0\x9d\x84\x9e" "b", 5) == "a\xf0\x9d\x84\x9e");
}

TEST_CASE("truncate_output cuts bytes that are not UTF-8 at the limit") {
  // Five continuation bytes in a row start no character: backing off further would only lose more.
  CHECK(truncate_output("a\x80\x80\x80\x80\x80", 4) == "a\x80\x80\x80");
}
