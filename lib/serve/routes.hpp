// The health endpoint's answers, as pure functions of a request and the local state: what `health_endpoint.hpp`
// documents, testable without a socket.
//
// Thread safety: pure (reads the local state, which any thread may); any thread.
#pragma once

#include <coalias/health_endpoint.hpp>
#include <coalias/local_state.hpp>

#include <string>
#include <string_view>

namespace coalias::detail {

struct http_answer {
  http_answer() = default;
  http_answer(int s, std::string_view type, std::string b) : status(s), content_type(type), body(std::move(b)) {}

  int status = 200;
  std::string_view content_type;  ///< a static string
  std::string body;
  bool allow_header = false;  ///< 405: `Allow: GET, HEAD`
};

/// The answer to `method` on `target` (the raw request target).
http_answer answer(std::string_view method, std::string_view target, const local_state& state,
                   const endpoint_options& options);

/// 400 or 431, which close the connection.
http_answer error_answer(int status);

/// Appends the answer's wire form: status line, headers, and the body unless `head_only`. `close` adds
/// `Connection: close`, else `keep_alive_header` adds `Connection: keep-alive` (for HTTP/1.0 clients).
void append_wire(std::string& out, const http_answer& a, bool head_only, bool close, bool keep_alive_header);

}  // namespace coalias::detail
