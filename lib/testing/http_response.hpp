// One HTTP answer of the test server and its wire form.
//
// Thread safety: pure; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace coalias::testing::detail {

struct http_response {
  int status = 200;
  std::string body;
  bool json = true;                   ///< application/json; else text/plain; charset=utf-8 (Go's sniffed type)
  std::optional<std::string> index;   ///< X-Consul-Index, with the consistency and leader headers
  bool stale = false;                 ///< X-Consul-Effective-Consistency: stale instead of leader
  std::string allow;                  ///< non-empty: an Allow header (405)
  std::size_t extra_claimed_bytes = 0;  ///< Content-Length lies by this much (fault injection)
};

/// A text/plain answer: how Consul's HTTP layer writes its error messages.
http_response text(int status, std::string body);

/// The status line and headers, up to the blank line; the body goes on the wire after them, as it is (a group
/// answer is megabytes: it is not copied behind the head). `close` adds `Connection: close`.
std::string serialize_head(const http_response& r, bool close);

/// The reason phrase Go's net/http uses for `status`.
const char* reason_phrase(int status) noexcept;

}  // namespace coalias::testing::detail
