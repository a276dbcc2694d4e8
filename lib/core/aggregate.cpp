#include <coalias/aggregate.hpp>

#include "core/ascii.hpp"

#include <cstdio>

namespace coalias {
namespace {

std::string failing_message(const health_check& check) {
  return "Aliased check " + go_quote(check.name) + " failing: " + check.output;
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
    : target_(&target), self_(&self) {}

void aggregator::add(const health_check& check) {
  if (!node_names_equal(check.node, target_->node)) return;
  if (!check.service_id.empty() && check.service_id != target_->service_id) return;
  if (check.check_id == self_->check_id && node_names_equal(check.node, self_->node)) return;
  if (check.type == alias_check_type) return;  // alias checks never count: no cycle of aliases can form

  ++counted_;
  if (!check.service_id.empty()) service_check_found_ = true;
  if (check.status == status::critical && !first_critical_) first_critical_ = &check;
  if (check.status == status::warning && !first_warning_) first_warning_ = &check;
}

bool aggregator::needs_presence() const noexcept {
  return target_->service_id.empty() ? counted_ == 0 : !service_check_found_;
}

check_result aggregator::finish(presence p) const {
  if (needs_presence()) {
    if (!target_->service_id.empty() && p != presence::present)
      return {status::critical, "Service " + target_->service_id + " could not be found on node " + target_->node};
    if (target_->service_id.empty() && p == presence::node_missing)
      return {status::critical, "Node " + target_->node + " could not be found"};
  }
  if (first_critical_) return {status::critical, failing_message(*first_critical_)};
  if (first_warning_) return {status::warning, failing_message(*first_warning_)};
  return {status::passing, counted_ ? "All checks passing." : "No checks found."};
}

}  // namespace coalias
