#include <coalias/error.hpp>

#include <string>

namespace coalias {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "coalias"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::unknown_service: return "service not registered";
      case errc::unknown_check: return "check not registered";
      case errc::alias_exists: return "an alias check with this ID already exists";
      case errc::shut_down: return "shut down";
      case errc::invalid_argument: return "invalid argument";
      case errc::bad_status: return "unknown check status";
      case errc::malformed_json: return "malformed JSON";
      case errc::unexpected_json: return "unexpected JSON shape";
      case errc::body_too_large: return "response body too large";
      case errc::http_status: return "unexpected HTTP status";
      case errc::bad_header: return "malformed response header";
      case errc::transport: return "HTTP transport failure";
      case errc::bad_address: return "invalid Consul address";
      case errc::bad_duration: return "invalid duration";
    }
    return "unknown coalias error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace coalias
