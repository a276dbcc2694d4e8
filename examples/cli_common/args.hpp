// What coalias's command-line programs share: the flag grammar, quoting outside text into one-line messages, and
// the Consul settings (the CONSUL_* environment with --addr, --token and --dc on top).
//
// Grammar: `--flag VALUE` or `--flag=VALUE` for value flags, bare flags otherwise. A value never starts with
// "--" when given as a separate word (so `--node --json` is a missing value, not a node named "--json").
//
// Secrets: no message produced here contains a --token value or the value after '=' of an unknown flag.
//
// Thread safety: pure; any thread (the env lookup given must be safe to call from it).
#pragma once

#include <coalias/consul_config.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace coalias::cli {

/// One line naming the problem, without the program-name prefix and without a newline.
struct usage_error {
  std::string message;
};

/// Go's %q of a value, cut to 64 bytes so a huge argument cannot flood the terminal.
std::string quote(std::string_view v);

/// `text` with control characters shown as \xNN: library messages may quote values with them, and a program
/// promises one line per message.
std::string one_line(std::string_view text);

/// A system_error's what() without the category message appended to it: the what_arg names the problem.
std::string reason(const std::system_error& e);

struct flag_spec {
  std::string_view name;  ///< "--addr"
  int id;                 ///< the program's own enum value
  bool takes_value;
};

/// One flag as given: `value` is empty for a bare flag.
struct flag_arg {
  int id = 0;
  std::string_view name;
  std::string_view value;
};

/// Reads the flag at `args[i]` (and its value from `args[i + 1]` when given as a separate word), leaving `i` on
/// the last word read. Errors: an argument that is not a flag, an unknown flag, a value on a bare flag, a missing
/// or empty value.
std::variant<flag_arg, usage_error> next_flag(const std::vector<std::string_view>& args, std::size_t& i,
                                              std::span<const flag_spec> flags);

/// --addr's value, or a usage error naming --addr.
std::variant<consul_address, usage_error> parse_addr(std::string_view value);

/// A Consul duration flag's value (`name` for the message), rounded up to whole milliseconds; negative refused.
std::variant<std::chrono::milliseconds, usage_error> parse_duration_flag(std::string_view name, std::string_view value);

/// The flags that override the environment.
struct consul_flags {
  std::optional<consul_address> addr;
  std::optional<std::string> token;
  std::optional<std::string> dc;
};

/// The CONSUL_* environment first, then the flags on top; a variable a flag replaces is never read: --addr hides
/// CONSUL_HTTP_ADDR (CONSUL_HTTP_SSL=true still turns TLS on, as in Consul's CLI), --token hides
/// CONSUL_HTTP_TOKEN and CONSUL_HTTP_TOKEN_FILE. A CONSUL_* error is a usage error ("environment: ...").
/// Ignored CONSUL_* values are described in `warnings` (never with the token).
std::variant<consul_config, usage_error> consul_settings(const env_lookup& env, consul_flags flags,
                                                         std::vector<std::string>& warnings);

}  // namespace coalias::cli
