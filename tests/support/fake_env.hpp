// An environment for parsers that read CONSUL_* variables: a map instead of the process's, empty values unset
// as in Consul's Go client.
#pragma once

#include <coalias/consul_config.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace coalias::test {

using env_map = std::map<std::string, std::string, std::less<>>;

inline env_lookup env_of(env_map vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

}  // namespace coalias::test
