#include "events.hpp"

#include "cli_common/args.hpp"
#include "options.hpp"

#include <coalias/aggregate.hpp>

namespace coalias::agent_cli {
namespace {

std::string check_prefix(std::string_view id) { return "check " + go_quote(id) + ": "; }

}  // namespace

std::string format_ttl(std::chrono::milliseconds ttl) {
  if (ttl.count() % 1000 != 0) return std::to_string(ttl.count()) + "ms";
  auto s = ttl.count() / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

std::string start_line(std::size_t checks, const options& opts) {
  std::string out = "start: " + std::to_string(checks) + (checks == 1 ? " check, " : " checks, ");
  if (!opts.publish) return out + "not publishing";
  return out + "publishing to " + opts.config.address.base_url() + " (ttl " + format_ttl(opts.ttl) + ")";
}

std::string listening_line(std::string_view host, unsigned short port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return "listening on " + (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

std::string status_line(const health_check& c) {
  return check_prefix(c.check_id) + std::string(to_string(c.status)) + ": " + cli::one_line(c.output);
}

std::string publish_failed_line(std::string_view check_id, std::string_view reason) {
  return check_prefix(check_id) + "publish failed: " + cli::one_line(reason);
}

std::string publish_recovered_line(std::string_view check_id) { return check_prefix(check_id) + "publish recovered"; }

std::string reload_line(const reload_counts& n) {
  return "reload: " + std::to_string(n.added) + " added, " + std::to_string(n.changed) + " changed, " +
         std::to_string(n.removed) + " removed, " + std::to_string(n.unchanged) + " unchanged";
}

std::string reload_refused_line(std::string_view why) { return "reload refused: " + cli::one_line(why); }

std::string error_line(std::string_view message) {
  return std::string(program_name) + ": " + cli::one_line(message);
}

void event_log::write(std::string_view text) {
  std::string line(text);
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace coalias::agent_cli
