// libFuzzer target: coalias-watch's parse_options. The input is split on NUL into the arguments; a fixed
// environment supplies a token and (when the first byte is odd) a client certificate without its key.
//
// Checks, beyond "no crash or sanitizer report":
//  - a usage error is one non-empty line of printable text, at most 512 bytes, that never contains the
//    environment's token (unless the arguments themselves hold it);
//  - watch mode always has a non-empty node; demo mode only comes from a lone --demo;
//  - parsing is deterministic.
#include "watch_cli/options.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {
constexpr std::string_view secret = "fuzz-secret-token-6f1d";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> args;
  for (std::size_t start = 0; start <= input.size();) {
    const auto end = input.find('\0', start);
    args.push_back(input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const bool broken_env = size > 0 && (data[0] & 1);
  const coalias::env_lookup env = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "CONSUL_HTTP_TOKEN") return std::string(secret);
    if (broken_env && name == "CONSUL_CLIENT_CERT") return std::string("c.pem");
    return std::nullopt;
  };
  using namespace coalias::watch_cli;
  const auto r = parse_options(args, env);
  const auto again = parse_options(args, env);
  FUZZ_CHECK(r.index() == again.index());
  if (const auto* e = std::get_if<usage_error>(&r)) {
    FUZZ_CHECK(e->message == std::get<usage_error>(again).message);
    FUZZ_CHECK(!e->message.empty() && e->message.size() <= 512);
    for (char c : e->message) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    if (input.find(secret) == std::string_view::npos) FUZZ_CHECK(e->message.find(secret) == std::string::npos);
    return 0;
  }
  const auto& o = std::get<options>(r);
  if (o.mode == mode::watch) FUZZ_CHECK(!o.target.node.empty());
  if (o.mode == mode::demo) FUZZ_CHECK(args.size() >= 1);
  return 0;
}
