// The completion of one GET: the engine stores it without knowing the handler type.
#pragma once

#include "http/request.hpp"

#include <coalias/detail/completion.hpp>

#include <system_error>

namespace coalias::http::detail {

using completion = coalias::detail::completion<std::error_code, response>;

template <class Handler, class IoExecutor>
using completion_for = coalias::detail::completion_for<Handler, IoExecutor, std::error_code, response>;

}  // namespace coalias::http::detail
