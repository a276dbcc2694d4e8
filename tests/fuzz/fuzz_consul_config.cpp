// libFuzzer target: consul_address::parse (CONSUL_HTTP_ADDR's grammar) and from_environment with an injected
// environment built from the input.
//
// Input: lines separated by '\n'. A line `NAME=value` whose NAME is [A-Z_]+ sets that variable (a NAME without
// the CONSUL_ prefix gets it: `HTTP_TOKEN=x` sets CONSUL_HTTP_TOKEN); any other line sets CONSUL_HTTP_ADDR.
// CONSUL_HTTP_TOKEN_FILE=<text> writes <text> to a private temp file and points the variable at it (text starting
// with '!' points it at a file that does not exist instead). The whole input, and each line, is also given to
// consul_address::parse directly. Example:
//   https://[::1]:8501/pfx
//   HTTP_TOKEN=s3cr3t
//   HTTP_SSL_VERIFY=maybe
//
// Checks, beyond "no crash or sanitizer report":
//  - parse throws only system_error(bad_address), whose message does not echo a value longer than 32 bytes;
//    a parsed address satisfies the accessors' contracts and a TCP one round-trips through base_url();
//  - the token never shows: from_environment's exception message, its warnings and describe(config) are the same
//    whatever the token is (the input's or a sentinel), and never contain the sentinel unless the input does.
#include <coalias/consul_config.hpp>
#include <coalias/error.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

using coalias::consul_address;
using coalias::errc;

constexpr std::string_view sentinel = "SENTINEL-t0ken-c0a1ias-fuzz-9f2e";

bool host_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

void check_address(std::string_view text) {
  consul_address a;
  try {
    a = consul_address::parse(text);
  } catch (const std::system_error& e) {
    FUZZ_CHECK(e.code() == errc::bad_address);
    if (text.size() > 32) FUZZ_CHECK(std::string_view(e.what()).find(text) == std::string_view::npos);
    return;
  }
  FUZZ_CHECK(!text.empty());
  FUZZ_CHECK(!a.host().empty());
  const std::string& p = a.path_prefix();
  FUZZ_CHECK(p.empty() || (p.front() == '/' && p.back() != '/'));
  const std::string url = a.base_url();
  FUZZ_CHECK(url.rfind(a.tls() ? "https://" : "http://", 0) == 0);
  if (a.type() == consul_address::kind::unix_socket) {
    FUZZ_CHECK(!a.unix_socket().empty());
    FUZZ_CHECK(a.unix_socket().find('\0') == std::string::npos);
    FUZZ_CHECK(a.host() == "localhost");
    return;
  }
  FUZZ_CHECK(a.unix_socket().empty());
  FUZZ_CHECK(a.port() >= 1);
  const bool v6 = a.host().find(':') != std::string::npos;
  if (!v6)
    for (char c : a.host()) FUZZ_CHECK(host_char(c));
  // base_url() is itself a valid address for the same endpoint (a zone's '%' is escaped in URLs, so skip those).
  if (a.host().find('%') == std::string::npos) {
    consul_address back;
    try {
      back = consul_address::parse(url);
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "base_url '%s' does not parse back: %s\n", url.c_str(), e.what());
      FUZZ_CHECK(!"base_url() parses back");
    }
    FUZZ_CHECK(back == a);
  }
}

struct fake_env {
  std::map<std::string, std::string, std::less<>> vars;
  std::string token_file_text;  // content written to the token file, if CONSUL_HTTP_TOKEN_FILE is set
  bool token_file_missing = false;
};

bool is_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (!((c >= 'A' && c <= 'Z') || c == '_')) return false;
  return true;
}

// The token file: written before and removed after each from_environment call (libFuzzer ends without running
// atexit handlers, so nothing may outlive a call).
const std::string& token_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/coalias-fuzz-token-" + std::to_string(::getpid());
  }();
  return path;
}

std::string trimmed(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

struct outcome {
  bool threw = false;
  std::string text;  // exception (code + message), or describe() and warnings
  std::string token;
};

outcome run(const fake_env& env) {
  const bool has_file = env.vars.count("CONSUL_HTTP_TOKEN_FILE") != 0;
  if (has_file && !env.token_file_missing)
    std::ofstream(token_path(), std::ios::binary | std::ios::trunc) << env.token_file_text;
  const coalias::env_lookup lookup = [&env, has_file](std::string_view name) -> std::optional<std::string> {
    if (name == "CONSUL_HTTP_TOKEN_FILE" && has_file)
      return env.token_file_missing ? std::string("/nonexistent/coalias-fuzz/token") : token_path();
    const auto it = env.vars.find(name);
    if (it == env.vars.end()) return std::nullopt;
    return it->second;
  };
  outcome o;
  std::vector<std::string> warnings;
  try {
    const auto config = coalias::from_environment(lookup, &warnings);
    o.text = coalias::describe(config);
    for (const auto& w : warnings) o.text += "\n" + w;
    o.token = config.token;
  } catch (const std::system_error& e) {
    FUZZ_CHECK(e.code() == errc::bad_address || e.code() == errc::invalid_argument);
    o.threw = true;
    o.text = std::to_string(e.code().value()) + " " + e.what();
    for (const auto& w : warnings) o.text += "\n" + w;
  }
  if (has_file && !env.token_file_missing) std::remove(token_path().c_str());
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_address(input);

  fake_env env;
  for (std::size_t pos = 0; pos < input.size();) {
    auto end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() != input.size()) check_address(line);
    const auto eq = line.find('=');
    if (eq != std::string_view::npos && is_name(line.substr(0, eq))) {
      std::string name(line.substr(0, eq));
      if (name.rfind("CONSUL_", 0) != 0) name = "CONSUL_" + name;
      std::string value(line.substr(eq + 1));
      if (name == "CONSUL_HTTP_TOKEN_FILE") {
        env.token_file_missing = !value.empty() && value.front() == '!';
        env.token_file_text = value;
      }
      env.vars[name] = std::move(value);
    } else {
      env.vars["CONSUL_HTTP_ADDR"] = std::string(line);
    }
  }

  const outcome real = run(env);

  // The same environment with the sentinel as the token, wherever the input put a token that counts.
  fake_env alt = env;
  bool any_token = false;
  if (auto it = alt.vars.find("CONSUL_HTTP_TOKEN"); it != alt.vars.end() && !it->second.empty()) {
    it->second = std::string(sentinel);
    any_token = true;
  }
  if (alt.vars.count("CONSUL_HTTP_TOKEN_FILE") != 0 && !alt.token_file_missing &&
      !trimmed(alt.token_file_text).empty()) {
    alt.token_file_text = " " + std::string(sentinel) + "\n";
    any_token = true;
  }
  if (!any_token) return 0;
  const outcome fake = run(alt);

  if (fake.threw == real.threw && fake.text != real.text) {
    std::fprintf(stderr, "output depends on the token:\n--- real token:\n%s\n--- sentinel token:\n%s\n",
                 real.text.c_str(), fake.text.c_str());
  }
  FUZZ_CHECK(fake.threw == real.threw);
  FUZZ_CHECK(fake.text == real.text);
  if (input.find(sentinel) == std::string_view::npos) FUZZ_CHECK(fake.text.find(sentinel) == std::string::npos);
  if (!fake.threw) FUZZ_CHECK(fake.token == sentinel);
  return 0;
}
