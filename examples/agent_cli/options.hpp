// coalias-agent's command line: a pure function from arguments and an environment to options or one usage error,
// so it can be unit-tested without a process. The grammar is the one of every coalias program
// (cli_common/args.hpp); --config may be given many times and keeps them all, other value flags keep the last.
//
// Secrets: no message produced here contains the --token value.
//
// Thread safety: pure; any thread (the env lookup given must be safe to call from it).
#pragma once

#include "cli_common/args.hpp"

#include <coalias/consul_config.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coalias::agent_cli {

using cli::usage_error;

enum class mode { run, help };

/// --listen's address: an IP literal (IPv6 in brackets) or "localhost", and a port (0: any free one).
struct listen_address {
  listen_address() = default;
  std::string host;  ///< without brackets
  std::uint16_t port = 0;
};

struct options {
  options() = default;  // not an aggregate (g++ 12 and co_await, see docs/toolchain.md)

  agent_cli::mode mode = agent_cli::mode::run;
  std::vector<std::filesystem::path> configs;  ///< --config, in order
  consul_config config;                        ///< CONSUL_* environment, then --addr, --token, --dc on top
  std::optional<listen_address> listen;        ///< --listen
  std::chrono::milliseconds ttl{std::chrono::seconds(30)};  ///< --ttl
  bool publish = true;                         ///< not --no-publish
  bool deregister_on_exit = false;             ///< --deregister-on-exit
  std::vector<std::string> warnings;           ///< ignored CONSUL_* values, to show on stderr (never the token)
};

using parse_result = std::variant<options, usage_error>;

/// `args` excludes argv[0]. A CONSUL_* error is a usage error too.
parse_result parse_options(const std::vector<std::string_view>& args, const env_lookup& env);

/// The --help text, ending with a newline.
std::string_view usage_text() noexcept;

/// The program name used as the prefix of every error line.
inline constexpr std::string_view program_name = "coalias-agent";

}  // namespace coalias::agent_cli
