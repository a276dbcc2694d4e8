#include "core/alias_task.hpp"

#include <exception>
#include <string>

namespace coalias::detail {

alias_task::alias_task(const asio::any_io_executor& ex, local_state& state, std::string check_id)
    : structured_task(ex), state_(state), self_{state.node_name(), std::move(check_id)} {}

void alias_task::publish(const check_result& result) {
  state_.update_check(self_.check_id, result.status, truncate_output(result.output));
}

void alias_task::on_failure(std::exception_ptr e) {
  std::string what = "unknown error";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  publish({status::critical, "Alias check stopped: " + what});
}

}  // namespace coalias::detail
