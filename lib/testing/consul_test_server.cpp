// The public facade: forwards to the engine and the state store, and builds faults.
#include <coalias/testing/consul_test_server.hpp>

#include "server_impl.hpp"

#include "core/ascii.hpp"

#include <utility>

namespace coalias::testing {

// ---- fault factories ----

fault fault::with_status(int status, std::string body) {
  fault f;
  f.kind = fault_kind::http_status;
  f.status = status;
  f.body = std::move(body);
  return f;
}
fault fault::no_leader() { return with_status(500, "No cluster leader"); }
fault fault::too_many_connections() {
  return with_status(429, "Your IP is issuing too many concurrent connections, please rate limit your calls");
}
fault fault::permission_denied() { return with_status(403, "Permission denied"); }

namespace {
fault of_kind(fault_kind kind) {
  fault f;
  f.kind = kind;
  f.status = 200;
  f.body.clear();
  return f;
}
}  // namespace

fault fault::malformed_json() { return of_kind(fault_kind::malformed_json); }
fault fault::truncated_json() { return of_kind(fault_kind::truncated_json); }
fault fault::lying_content_length() { return of_kind(fault_kind::lying_content_length); }
fault fault::delayed(std::chrono::milliseconds d) {
  fault f = of_kind(fault_kind::delay);
  f.delay = d;
  return f;
}
fault fault::index_regress(std::uint64_t to) {
  fault f = of_kind(fault_kind::index_regress);
  f.index = to;
  return f;
}
fault fault::index_zero() { return of_kind(fault_kind::index_zero); }
fault fault::drop_connection() { return of_kind(fault_kind::drop_connection); }

fault fault::on_path(std::string prefix) const {
  fault f = *this;
  f.path_prefix = std::move(prefix);
  return f;
}
fault fault::times(std::size_t n) const {
  fault f = *this;
  f.count = n;
  return f;
}
fault fault::persistent() const { return times(0); }

std::optional<std::string> request_record::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (coalias::detail::ascii_iequals(key, name)) return value;
  }
  return std::nullopt;
}

// ---- lifetime ----

consul_test_server::consul_test_server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
consul_test_server::~consul_test_server() { stop(); }
void consul_test_server::stop() { impl_->stop(); }

std::uint16_t consul_test_server::port() const noexcept { return impl_->port(); }
std::string consul_test_server::address() const { return "127.0.0.1:" + std::to_string(port()); }
std::string consul_test_server::url() const { return (impl_->tls() ? "https://" : "http://") + address(); }

// ---- state ----

void consul_test_server::add_node(std::string name, std::string address, std::string id) {
  impl_->mutate_state([&](detail::cluster_state& s) { s.add_node(std::move(name), std::move(address), std::move(id)); });
}
bool consul_test_server::remove_node(std::string_view name) {
  return impl_->mutate_state([&](detail::cluster_state& s) { return s.remove_node(name); });
}
void consul_test_server::add_service(std::string_view node, const service& svc, std::vector<std::string> tags,
                                     std::uint16_t port) {
  impl_->mutate_state([&](detail::cluster_state& s) { s.add_service(node, svc, std::move(tags), port); });
}
bool consul_test_server::remove_service(std::string_view node, std::string_view service_id) {
  return impl_->mutate_state([&](detail::cluster_state& s) { return s.remove_service(node, service_id); });
}
void consul_test_server::set_check(const health_check& check, std::string type) {
  impl_->mutate_state([&](detail::cluster_state& s) { s.set_check(check, std::move(type)); });
}
bool consul_test_server::update_check_status(std::string_view node, std::string_view check_id, status st,
                                             std::string output) {
  return impl_->mutate_state(
      [&](detail::cluster_state& s) { return s.update_check_status(node, check_id, st, std::move(output)); });
}
bool consul_test_server::remove_check(std::string_view node, std::string_view check_id) {
  return impl_->mutate_state([&](detail::cluster_state& s) { return s.remove_check(node, check_id); });
}
std::optional<node_info> consul_test_server::find_node(std::string_view name) const {
  return impl_->read_state([&](const detail::cluster_state& s) { return s.find_node(name); });
}
std::vector<health_check> consul_test_server::checks(std::string_view node) const {
  return impl_->read_state([&](const detail::cluster_state& s) { return s.checks(node); });
}
index_snapshot consul_test_server::indexes() const {
  return impl_->read_state([](const detail::cluster_state& s) { return s.indexes(); });
}

// ---- faults ----

std::vector<agent_check> consul_test_server::agent_checks() const { return impl_->agent().checks(); }
void consul_test_server::restart_agent() { impl_->agent().restart(); }
void consul_test_server::advance_agent_clock(std::chrono::nanoseconds d) { impl_->agent().advance_clock(d); }
std::vector<agent_request> consul_test_server::agent_requests() const { return impl_->agent().requests(); }
std::uint64_t consul_test_server::agent_writes() const { return impl_->agent().writes(); }

void consul_test_server::inject(fault f) { impl_->faults_.push(std::move(f)); }
void consul_test_server::clear_faults() { impl_->faults_.clear(); }
std::uint64_t consul_test_server::faults_injected() const { return impl_->faults_.applied(); }

// ---- observation ----

std::uint64_t consul_test_server::total_requests() const { return impl_->stats_.total(); }
std::uint64_t consul_test_server::requests_to(endpoint e) const { return impl_->stats_.count(e); }
std::vector<request_record> consul_test_server::recent_requests() const { return impl_->stats_.log(); }
void consul_test_server::clear_request_log() { impl_->stats_.clear_log(); }
std::size_t consul_test_server::open_connections() const { return impl_->stats_.open(); }
std::size_t consul_test_server::peak_connections() const { return impl_->stats_.peak(); }
std::uint64_t consul_test_server::connections_accepted() const { return impl_->stats_.accepted(); }
std::uint64_t consul_test_server::connections_refused() const { return impl_->stats_.refused(); }
void consul_test_server::reset_peak_connections() { impl_->stats_.reset_peak(); }
std::size_t consul_test_server::held_queries() const { return impl_->stats_.held(); }
bool consul_test_server::wait_for_held_queries(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->stats_.wait_for_held(n, timeout);
}
bool consul_test_server::wait_for_open_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->stats_.wait_for_open(n, timeout);
}

}  // namespace coalias::testing
