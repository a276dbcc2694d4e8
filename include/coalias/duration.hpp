// Consul's duration syntax (Go's time.ParseDuration) and the `wait` query value Consul's Go client sends.
//
// Thread safety: pure functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>

namespace coalias {

/// Parses a Go duration: one or more `<number><unit>` parts (`500ms`, `1.5s`, `1m30s`, `.5h`), units `ns`, `us`,
/// `µs` (U+00B5), `μs` (U+03BC), `ms`, `s`, `m`, `h`; an optional leading `+`; or exactly `0`.
/// Refused with `errc::bad_duration`: empty text, a negative sign (a wait or timeout cannot be negative), a unitless
/// non-zero number, an unknown unit, a value above `nanoseconds::max()`, anything else.
/// Fractions below a nanosecond are truncated, as Go does.
std::error_code parse_duration(std::string_view text, std::chrono::nanoseconds& out) noexcept;

/// Throwing form: `std::system_error` with `errc::bad_duration` and a message that quotes (at most 64 bytes of)
/// the text and says what is wrong with it.
std::chrono::nanoseconds parse_duration(std::string_view text);

/// The blocking-query `wait` value as Consul's Go client writes it: whole milliseconds, `"<n>ms"`, truncated; a
/// positive wait under a millisecond becomes `"1ms"` so it does not turn into 0 (which means "server default").
/// A negative wait is written as `"0ms"`.
std::string format_wait(std::chrono::nanoseconds wait);

}  // namespace coalias
