// What one HTTP request asks for and what it answers: plain values, no curl types.
//
// Thread safety: plain values; distinct objects may be used from distinct threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coalias::http {

struct tls_options {
  std::string ca_file;      ///< PEM bundle of trusted CAs (CURLOPT_CAINFO); empty: the system default
  std::string ca_path;      ///< directory of hashed CA certificates (CURLOPT_CAPATH)
  std::string cert_file;    ///< client certificate, PEM
  std::string key_file;     ///< client private key, PEM
  std::string server_name;  ///< name for SNI and verification when the URL's host is another (an IP, say)
  bool verify = true;       ///< verify the peer's chain and name; turning it off must be explicit

  tls_options() = default;  // not an aggregate: g++ 12 miscompiles aggregate temporaries in co_await
};

struct request {
  /// A request-line token ("GET", "PUT", "POST", "DELETE", ...). GET and HEAD take no body.
  std::string method = "GET";
  std::string url;          ///< http:// or https:// only
  std::string unix_socket;  ///< connect to this unix socket path instead of the URL's host
  /// Sent as-is. Names and values must not contain CR, LF or NUL (errc::invalid_argument otherwise).
  /// Never logged or copied into an error message, so a token may travel here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{0};  ///< whole transfer, connect included; 0: none
  std::size_t max_body = 16u << 20;      ///< a larger body fails with errc::body_too_large
  tls_options tls;
  /// Sent with every method but GET and HEAD, always with a Content-Length (0 when empty), and with
  /// `Content-Type: application/json` when not empty unless `headers` name a Content-Type.
  std::string body;
  /// Storage for the response body, its contents dropped: a caller that reads answers of megabytes one after
  /// another hands back a spent body here, and the next one fills memory already mapped instead of fresh pages.
  std::string response_buffer;

  request() = default;
};

struct response {
  long status = 0;  ///< final status code; 0 when the transfer failed before one arrived
  /// Headers of the final response only (interim 1xx responses are dropped), in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// curl's own description of a transport failure (CURLOPT_ERRORBUFFER); empty on success.
  /// It names hosts and ports but never request headers.
  std::string error_detail;

  /// First header with this name, compared case-insensitively (HTTP/2 lower-cases names).
  std::optional<std::string_view> header(std::string_view name) const;
};

}  // namespace coalias::http
