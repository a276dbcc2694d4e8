// `consul_json_parser`'s lifetime, settings and the one-shot helpers.
#include "consul/json_parser.hpp"

namespace coalias {

consul_json_parser::consul_json_parser(std::size_t max_body) : impl_(std::make_unique<impl>(max_body)) {}
consul_json_parser::~consul_json_parser() = default;
consul_json_parser::consul_json_parser(consul_json_parser&&) noexcept = default;
consul_json_parser& consul_json_parser::operator=(consul_json_parser&&) noexcept = default;

const std::string& consul_json_parser::last_error() const noexcept { return impl_->error; }
std::size_t consul_json_parser::max_body() const noexcept { return impl_->max_body; }
void consul_json_parser::set_max_body(std::size_t bytes) noexcept { impl_->max_body = bytes; }

std::vector<health_check> parse_health_node(std::string_view body, std::size_t max_body) {
  consul_json_parser p(max_body);
  std::vector<health_check> out;
  if (auto ec = p.parse_health_node(body, out)) throw std::system_error(ec, p.last_error());
  return out;
}

catalog_node parse_catalog_node(std::string_view body, std::size_t max_body) {
  consul_json_parser p(max_body);
  catalog_node out;
  if (auto ec = p.parse_catalog_node(body, out)) throw std::system_error(ec, p.last_error());
  return out;
}

}  // namespace coalias
