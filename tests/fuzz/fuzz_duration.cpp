// libFuzzer target: parse_duration (Go's duration syntax) and format_wait (the blocking-query `wait` value).
// The input is the duration text, as is; its first 8 bytes also serve as a raw nanosecond count for format_wait.
//
// Checks, beyond "no crash or sanitizer report":
//  - the error_code and throwing forms agree; errors are bad_duration, with a bounded, control-free message;
//  - a parsed duration is never negative, and "-..." is always refused;
//  - round trip: format_wait(d) is "<digits>ms" and parses back to d truncated to whole milliseconds (1ms for a
//    positive d under a millisecond); format_wait of any int64 count parses back (negative → 0ms);
//  - concatenation: for valid text not starting with '+' and not "0", text+text parses to 2*d (or is out of
//    range exactly when 2*d overflows).
#include <coalias/duration.hpp>
#include <coalias/error.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

namespace {

using namespace std::chrono;
using coalias::errc;

bool is_ms_text(std::string_view w) {
  if (w.size() < 3 || w.substr(w.size() - 2) != "ms") return false;
  for (char c : w.substr(0, w.size() - 2))
    if (c < '0' || c > '9') return false;
  return true;
}

// format_wait(wait) must parse back to what Consul's Go client would send.
void check_wait(nanoseconds wait) {
  const std::string w = coalias::format_wait(wait);
  FUZZ_CHECK(is_ms_text(w));
  nanoseconds back{-1};
  FUZZ_CHECK(!coalias::parse_duration(w, back));
  milliseconds want = duration_cast<milliseconds>(wait);  // truncates toward zero
  if (wait.count() > 0 && want.count() == 0) want = milliseconds(1);
  if (want.count() < 0) want = milliseconds(0);
  FUZZ_CHECK(back == duration_cast<nanoseconds>(want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  nanoseconds d{-12345};
  const std::error_code ec = coalias::parse_duration(text, d);

  // The throwing form agrees.
  try {
    const nanoseconds t = coalias::parse_duration(text);
    FUZZ_CHECK(!ec);
    FUZZ_CHECK(t == d);
  } catch (const std::system_error& e) {
    FUZZ_CHECK(ec == errc::bad_duration);
    FUZZ_CHECK(e.code() == errc::bad_duration);
    const std::string_view msg = e.what();
    FUZZ_CHECK(msg.size() < 256);  // quotes at most 64 bytes of the text
    for (char c : msg) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  }

  if (ec) {
    FUZZ_CHECK(ec == errc::bad_duration);
    FUZZ_CHECK(d == nanoseconds(-12345));  // untouched on error
  } else {
    FUZZ_CHECK(!text.empty());
    FUZZ_CHECK(text.front() != '-');
    FUZZ_CHECK(d.count() >= 0);
    check_wait(d);

    if (text.front() != '+' && text != "0") {
      const std::string twice = std::string(text) + std::string(text);
      nanoseconds d2{};
      const auto ec2 = coalias::parse_duration(twice, d2);
      const bool overflows = d.count() > std::numeric_limits<nanoseconds::rep>::max() / 2;
      if (overflows) {
        FUZZ_CHECK(ec2 == errc::bad_duration);
      } else {
        FUZZ_CHECK(!ec2);
        FUZZ_CHECK(d2 == 2 * d);
      }
    }
  }
  if (!text.empty() && text.front() == '-') FUZZ_CHECK(ec == errc::bad_duration);

  // format_wait on any count, including negative ones and the extremes.
  if (size >= 8) {
    std::int64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    check_wait(nanoseconds(raw));
  }
  return 0;
}
