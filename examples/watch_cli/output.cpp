#include "output.hpp"

#include "core/json_writer.hpp"

#include <cstdio>

namespace coalias::watch_cli {
namespace {

// Plain output: control characters escaped so one change stays one line; everything else as is.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace

std::string plain_line(const remote_evaluation& ev) {
  std::string out(to_string(ev.result.status));
  out.resize(8, ' ');
  out += "  ";
  out += printable(ev.result.output);
  out += "  (index ";
  out += std::to_string(ev.index);
  out += ')';
  return out;
}

std::string json_line(const alias_target& target, const remote_evaluation& ev) {
  std::string out = "{\"node\":";
  detail::append_json_string(out, target.node);
  out += ",\"service\":";
  detail::append_json_string(out, target.service_id);
  out += ",\"status\":";
  detail::append_json_string(out, to_string(ev.result.status));
  out += ",\"output\":";
  detail::append_json_string(out, ev.result.output);
  out += ",\"index\":";
  out += std::to_string(ev.index);
  out += '}';
  return out;
}

int exit_status(status s) noexcept {
  switch (s) {
    case status::passing: return 0;
    case status::warning: return 1;
    case status::critical: return 2;
  }
  return 2;
}

}  // namespace coalias::watch_cli
