// An alias check's task: a structured task that writes the alias's own check through the local state.
#pragma once

#include "core/structured_task.hpp"

#include <coalias/aggregate.hpp>
#include <coalias/alias_definition.hpp>
#include <coalias/local_state.hpp>

#include <memory>
#include <string>

namespace coalias::detail {

class alias_task : public structured_task {
 public:
  /// `check_id` names the alias's own check, which the task writes through `state`.
  alias_task(const asio::any_io_executor& ex, local_state& state, std::string check_id);

  const std::string& check_id() const noexcept { return self_.check_id; }

 protected:
  /// Writes the alias's own check (a no-op when nothing changed). Only ever called from the body.
  void publish(const check_result& result);
  /// A body that dies of anything but a stop must not leave a stale status behind.
  void on_failure(std::exception_ptr e) override;

  local_state& state_;
  const check_key self_;  // never counted by its own aggregation
};

/// Makes the task for a local alias (an empty `def.target.node`).
std::shared_ptr<alias_task> make_local_alias(const asio::any_io_executor& ex, local_state& state,
                                             alias_definition def);

}  // namespace coalias::detail
