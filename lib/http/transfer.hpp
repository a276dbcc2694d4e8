// One easy handle and everything curl writes into while it runs: the request's options, the response being
// collected, and the completion to post when it ends. Owned by the engine; lives on the engine's strand.
#pragma once

#include "http/completion.hpp"
#include "http/request.hpp"

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <system_error>

namespace coalias::http::detail {

class transfer {
 public:
  transfer(std::uint64_t id, std::unique_ptr<completion> done);
  ~transfer();
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  /// Applies the request to a fresh easy handle. A non-empty error means the request was refused.
  /// Takes `req.response_buffer`.
  std::error_code setup(request& req);

  CURL* easy() const noexcept { return easy_; }
  std::uint64_t id() const noexcept { return id_; }

  /// Posts the outcome of curl's CURLMSG_DONE. The handle must already be out of the multi handle.
  void finish(CURLcode code);
  /// Posts an error without a response status (cancelled, shut down, refused).
  void fail(std::error_code ec);

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self);

  std::uint64_t id_;
  std::unique_ptr<completion> done_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  std::size_t max_body_ = 0;
  std::string body_;         // curl reads the request body from here (CURLOPT_POSTFIELDS does not copy)
  std::string unix_socket_;  // for error messages: curl names "localhost port 80" instead
  bool too_large_ = false;
  response response_;
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace coalias::http::detail
