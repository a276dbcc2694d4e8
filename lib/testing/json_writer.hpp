// The test server writes JSON strings with the library's Go-faithful writer (lib/consul/json_writer.hpp).
#pragma once

#include "consul/json_writer.hpp"

namespace coalias::testing::detail {
using consul::append_json_string;
}  // namespace coalias::testing::detail
