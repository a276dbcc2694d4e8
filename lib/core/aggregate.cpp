#include <coalias/aggregate.hpp>

#include "core/ascii.hpp"

#include <cstdio>

namespace coalias {
namespace {

std::string failing_message(const health_check& check) {
  constexpr std::string_view head = "Aliased check ", middle = " failing: ";
  const std::string name = go_quote(check.name);
  std::string out;
  out.reserve(head.size() + name.size() + middle.size() + check.output.size());  // one allocation
  return out.append(head).append(name).append(middle).append(check.output);
}

}  // namespace

bool node_names_equal(std::string_view a, std::string_view b) noexcept { return detail::ascii_iequals(a, b); }

std::string go_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through, as Go prints printable runes as they are
        }
    }
  }
  out += '"';
  return out;
}

aggregator::aggregator(const alias_target& target, const check_key& self) noexcept
    : aggregator(target.node, target.service_id, self.node, self.check_id) {}

aggregator::aggregator(std::string_view target_node, std::string_view target_service_id, std::string_view self_node,
                       std::string_view self_check_id) noexcept
    : target_node_(target_node),
      target_service_id_(target_service_id),
      self_node_(self_node),
      self_check_id_(self_check_id) {}

void aggregator::add(const health_check& check) {
  if (!node_names_equal(check.node, target_node_)) return;
  if (!check.service_id.empty() && check.service_id != target_service_id_) return;
  if (check.check_id == self_check_id_ && node_names_equal(check.node, self_node_)) return;
  if (check.type == alias_check_type) return;  // alias checks never count: no cycle of aliases can form

  ++counted_;
  if (!check.service_id.empty()) service_check_found_ = true;
  if (check.status == status::critical && !first_critical_) first_critical_ = &check;
  if (check.status == status::warning && !first_warning_) first_warning_ = &check;
}

bool aggregator::needs_presence() const noexcept {
  return target_service_id_.empty() ? counted_ == 0 : !service_check_found_;
}

check_result aggregator::finish(presence p) const {
  if (needs_presence()) {
    if (!target_service_id_.empty() && p != presence::present)
      return {status::critical, "Service " + std::string(target_service_id_) + " could not be found on node " +
                                    std::string(target_node_)};
    if (target_service_id_.empty() && p == presence::node_missing)
      return {status::critical, "Node " + std::string(target_node_) + " could not be found"};
  }
  if (first_critical_) return {status::critical, failing_message(*first_critical_)};
  if (first_warning_) return {status::warning, failing_message(*first_warning_)};
  return {status::passing, counted_ ? "All checks passing." : "No checks found."};
}

}  // namespace coalias
