// The test server writes JSON strings with the library's escaping (lib/core/json_writer.hpp).
#pragma once

#include "core/json_writer.hpp"

namespace coalias::testing::detail {

using coalias::detail::append_json_string;

}  // namespace coalias::testing::detail
