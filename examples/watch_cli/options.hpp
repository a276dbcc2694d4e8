// coalias-watch's command line: a pure function from arguments and an environment to options or one usage error,
// so it can be unit-tested and fuzzed without a process.
//
// Grammar: `--flag VALUE` or `--flag=VALUE` for the value flags, bare `--json`, `--once`, `--demo`, `--help`/`-h`.
// A value flag given twice keeps the last value. Arguments are read left to right and the first problem found is
// the one reported; `--help` wins over any problem found after it (and over a missing --node).
//
// Secrets: no message produced here contains the --token value or the value after '=' of an unknown flag.
//
// Thread safety: pure; any thread (the env lookup given must be safe to call from it).
#pragma once

#include "cli_common/args.hpp"

#include <coalias/aggregate.hpp>
#include <coalias/consul_config.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coalias::watch_cli {

/// What the program does.
enum class mode { watch, demo, help };

struct options {
  options() = default;  // not an aggregate (g++ 12 and co_await, see docs/toolchain.md)

  watch_cli::mode mode = watch_cli::mode::watch;
  alias_target target;           ///< --node, --service (empty service: a node alias)
  consul_config config;           ///< CONSUL_* environment, then --addr, --token, --dc, --wait on top
  bool json = false;             ///< --json
  bool once = false;             ///< --once
  std::vector<std::string> warnings;  ///< ignored CONSUL_* values, to show on stderr (never contain the token)
};

using cli::usage_error;

using parse_result = std::variant<options, usage_error>;

/// `args` excludes argv[0]. `env` is consulted only in watch mode, and only for variables the flags leave open:
/// --addr hides CONSUL_HTTP_ADDR (CONSUL_HTTP_SSL=true still turns TLS on, as in Consul's CLI), --token hides
/// CONSUL_HTTP_TOKEN and CONSUL_HTTP_TOKEN_FILE. A CONSUL_* error is a usage error too.
parse_result parse_options(const std::vector<std::string_view>& args, const env_lookup& env);

/// The --help text, ending with a newline.
std::string_view usage_text() noexcept;

/// The program name used as the prefix of every stderr line.
inline constexpr std::string_view program_name = "coalias-watch";

}  // namespace coalias::watch_cli
