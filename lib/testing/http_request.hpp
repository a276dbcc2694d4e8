// The test server reads requests with the parser it shares with the health endpoint (lib/http_server).
#pragma once

#include "http_server/http_request.hpp"

namespace coalias::testing::detail {

using http_server::find_param;
using http_server::header_list;
using http_server::http_request;
using http_server::parse_query;
using http_server::parse_request_head;
using http_server::percent_decode;

}  // namespace coalias::testing::detail
