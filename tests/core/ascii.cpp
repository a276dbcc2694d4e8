#include "core/ascii.hpp"

#include <catch2/catch.hpp>

#include <clocale>
#include <string>

using namespace coalias::detail;
using namespace std::string_literals;

TEST_CASE("ascii_lower folds A-Z and leaves every other byte alone") {
  CHECK(ascii_lower('A') == 'a');
  CHECK(ascii_lower('Z') == 'z');
  CHECK(ascii_lower('@') == '@');  // the neighbours of A-Z
  CHECK(ascii_lower('[') == '[');
  CHECK(ascii_lower('a') == 'a');
  CHECK(ascii_lower('\xC0') == '\xC0');  // Latin-1 'À' is not a letter here
  CHECK(ascii_lower("Node-1.DC1_x") == "node-1.dc1_x");
  CHECK(ascii_lower("\xC4\xB0stanbul") == "\xC4\xB0stanbul");  // 'İ' (U+0130) stays two bytes
  CHECK(ascii_lower("") == "");
  CHECK(ascii_lower("a\0B"s) == "a\0b"s);
}

TEST_CASE("ascii_iequals ignores the case of ASCII letters only") {
  CHECK(ascii_iequals("X-Consul-Index", "x-consul-index"));
  CHECK(ascii_iequals("HTTPS", "https"));
  CHECK(ascii_iequals("", ""));
  CHECK_FALSE(ascii_iequals("a", ""));
  CHECK_FALSE(ascii_iequals("", "a"));
  CHECK_FALSE(ascii_iequals("node", "node1"));
  CHECK_FALSE(ascii_iequals("@", "`"));  // 0x40 and 0x60 differ by the case bit but are not letters
  CHECK_FALSE(ascii_iequals("[", "{"));
  CHECK_FALSE(ascii_iequals("\xC0", "\xE0"));  // Latin-1 'À' / 'à'
  CHECK_FALSE(ascii_iequals("\xC4\xB0", "i"));  // 'İ' / 'i'
  CHECK_FALSE(ascii_iequals("I", "\xC4\xB1"));  // 'I' / dotless 'ı'
  CHECK(ascii_iequals("\xC4\xB0x", "\xC4\xB0X"));
  CHECK(ascii_iequals("a\0B"s, "A\0b"s));
}

TEST_CASE("the case helpers give the same answers whatever the C locale") {
  const std::string before = std::setlocale(LC_ALL, nullptr);
  for (const char* name : {"tr_TR.UTF-8", "tr_TR.ISO-8859-9", "de_DE.ISO-8859-1", "C.UTF-8", "C"}) {
    if (std::setlocale(LC_ALL, name) == nullptr) continue;  // not installed here
    INFO(name);
    CHECK(ascii_lower("I\xC0\xDD") == "i\xC0\xDD");
    CHECK(ascii_iequals("TITLE", "title"));
    CHECK_FALSE(ascii_iequals("\xC0", "\xE0"));
    CHECK_FALSE(ascii_iequals("\xDD", "i"));  // ISO-8859-9 'İ'
    CHECK(trim("\xA0x\xA0") == "\xA0x\xA0");  // Latin-1 no-break space is not ASCII space
  }
  std::setlocale(LC_ALL, before.c_str());
}

TEST_CASE("trim drops ASCII whitespace, or the given bytes, from both ends") {
  CHECK(trim("  a b \t") == "a b");
  CHECK(trim("\t\r\n\v\f x \f") == "x");
  CHECK(trim("   ") == "");
  CHECK(trim("") == "");
  CHECK(trim("x") == "x");
  CHECK(trim("\xC2\xA0x\xC2\xA0") == "\xC2\xA0x\xC2\xA0");  // U+00A0 is outside ASCII
  CHECK(trim("\0x\0"s) == "\0x\0"s);
  CHECK(trim(" \t5 \t", http_ows) == "5");
  CHECK(trim(" 5\r\n", http_ows) == "5\r\n");  // OWS is spaces and tabs only
  CHECK(trim("5", "") == "5");
}

TEST_CASE("error_excerpt bounds the text, masks control bytes and marks a cut") {
  CHECK(error_excerpt("abc", 32) == "abc");
  CHECK(error_excerpt("", 32) == "");
  CHECK(error_excerpt("", 0) == "");
  CHECK(error_excerpt("a", 0) == "...");
  CHECK(error_excerpt(std::string(32, 'x'), 32) == std::string(32, 'x'));
  CHECK(error_excerpt(std::string(33, 'x'), 32) == std::string(32, 'x') + "...");
  CHECK(error_excerpt("a\nb\x7f\x01\t\0"s, 32) == "a?b????");
  CHECK(error_excerpt("\xC4\xB0 \xC0", 32) == "\xC4\xB0 \xC0");  // bytes from 0x80 pass through
  CHECK(error_excerpt("\xC4\xB0", 1) == "\xC4...");  // cut on a byte, not a character
  CHECK(error_excerpt("\x1b[2Jhidden", 4) == "?[2J...");
}
