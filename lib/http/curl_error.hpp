// libcurl's CURLcode as a std::error_code, in a category named "curl" whose messages are curl_easy_strerror.
//
// Thread safety: pure; any thread.
#pragma once

#include <curl/curl.h>

#include <system_error>

namespace coalias::http {

const std::error_category& curl_category() noexcept;

inline std::error_code make_curl_error(CURLcode code) noexcept { return {static_cast<int>(code), curl_category()}; }

}  // namespace coalias::http
