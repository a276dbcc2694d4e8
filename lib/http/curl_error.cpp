#include "http/curl_error.hpp"

#include <string>

namespace coalias::http {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "curl"; }
  std::string message(int value) const override { return curl_easy_strerror(static_cast<CURLcode>(value)); }
};

}  // namespace

const std::error_category& curl_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace coalias::http
