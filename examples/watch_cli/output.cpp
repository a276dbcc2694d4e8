#include "output.hpp"

#include <cstdint>
#include <cstdio>

namespace coalias::watch_cli {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one (overlongs, surrogates and > U+10FFFF refused).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return 0;
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

void append_hex_escape(std::string& out, const char* fmt, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, fmt, value);
  out += buf;
}

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
        if (c < 0x20 || c == 0x7f) append_hex_escape(out, "\\x%02x", c);
        else out += ch;
    }
  }
  return out;
}

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const char ch = text[i];
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      if (const auto n = utf8_length(text, i)) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD for one invalid byte
        ++i;
      }
      continue;
    }
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) append_hex_escape(out, "\\u%04x", c);
        else out += ch;
    }
    ++i;
  }
  out += '"';
  return out;
}

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
  out += json_quote(target.node);
  out += ",\"service\":";
  out += json_quote(target.service_id);
  out += ",\"status\":";
  out += json_quote(to_string(ev.result.status));
  out += ",\"output\":";
  out += json_quote(ev.result.output);
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
