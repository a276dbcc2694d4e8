// The state behind `consul_json_parser` and the helpers its two body parsers share. Private to the library.
#pragma once

#include <coalias/consul_json.hpp>
#include <coalias/error.hpp>

#include <simdjson.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace coalias {

struct consul_json_parser::impl {
  simdjson::ondemand::parser parser;
  // simdjson reads up to SIMDJSON_PADDING bytes past the end, so bodies are copied here first; it only grows.
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
  std::size_t max_body;
  std::string error;  // detail of the last failure

  explicit impl(std::size_t cap) : max_body(cap) {}

  /// Copies `body` into the padded buffer, or fails with body_too_large before touching it.
  std::error_code load(std::string_view body, simdjson::padded_string_view& out) {
    error.clear();
    if (body.size() > max_body)
      return fail(errc::body_too_large, "body is " + std::to_string(body.size()) + " bytes, over the " +
                                            std::to_string(max_body) + "-byte limit");
    const std::size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (need > capacity) {
      // With an eighth to spare, for this buffer and simdjson's own (which it would size to the document exactly):
      // a group answer grows by a few bytes with each check that turns critical, and every reallocation of
      // megabytes costs a page fault per page.
      const std::size_t grown = need + need / 8;
      buffer = std::make_unique_for_overwrite<char[]>(grown);
      capacity = grown;
      if (auto e = parser.allocate(grown)) return fail_json(e, "document");
    }
    if (!body.empty()) std::memcpy(buffer.get(), body.data(), body.size());
    std::memset(buffer.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    out = simdjson::padded_string_view(buffer.get(), body.size(), capacity);
    return {};
  }

  std::error_code fail(errc code, std::string detail) {
    error = std::move(detail);
    return code;
  }

  /// Maps a simdjson error: a type mismatch is valid JSON of the wrong shape; everything else is broken JSON.
  std::error_code fail_json(simdjson::error_code e, std::string_view where) {
    if (e == simdjson::INCORRECT_TYPE || e == simdjson::NO_SUCH_FIELD)
      return fail(errc::unexpected_json, std::string(where) + ": unexpected JSON type");
    return fail(errc::malformed_json, std::string(where) + ": " + simdjson::error_message(e));
  }
};

namespace consul_json_detail {

/// Ends a parse: anything but whitespace after the top-level value is malformed JSON. On Demand stops reading at
/// the end of the value it was asked for, so this has to be asked explicitly.
inline bool at_end(simdjson::ondemand::document& doc) {
  const char* loc = nullptr;
  return doc.current_location().get(loc) != simdjson::SUCCESS;  // OUT_OF_BOUNDS: nothing left
}

}  // namespace consul_json_detail
}  // namespace coalias
