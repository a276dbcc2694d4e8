#include <coalias/local_state.hpp>

#include <coalias/error.hpp>

#include <algorithm>
#include <system_error>

namespace coalias {

struct local_state::check_slot {
  // Written under mutex_ and `guard` both, so either one is enough to read it: `check` takes only `guard`,
  // held for a pointer copy, and never waits for an evaluation or a wake-up round, which hold mutex_. (Not
  // std::atomic<std::shared_ptr>: g++ 12's races under TSan; see docs/toolchain.md.)
  std::shared_ptr<const health_check> current;
  mutable std::mutex guard;
  check_pin* pin = nullptr;  // the writer that holds this slot, told when it goes; guarded by mutex_

  std::shared_ptr<const health_check> read() const {
    std::lock_guard lock(guard);
    return current;
  }
  // Makes `next` the current version (mutex_ held), for both kinds of reader. Returns the version it replaced,
  // for the caller to let go of after the locks.
  std::shared_ptr<const health_check> replace(std::shared_ptr<const health_check> next) {
    std::lock_guard lock(guard);
    return std::exchange(current, std::move(next));
  }
};

struct local_state::service_entry {
  bool registered = false;
  service svc;
  std::vector<check_slot*> checks;  // sorted by check ID
  watcher_list watchers;

  bool unused() const noexcept { return !registered && checks.empty() && watchers.empty(); }
};

namespace {

bool by_check_id(const auto* slot, std::string_view id) { return slot->current->check_id < id; }

}  // namespace

local_state::local_state(std::string node_name) : node_name_(std::move(node_name)) {}

local_state::~local_state() = default;

// --- services ---------------------------------------------------------------------------------------------

void local_state::add_service(service svc) {
  std::lock_guard lock(mutex_);
  auto& entry = entry_for(svc.id);
  const bool appeared = !entry.registered;
  entry.registered = true;
  entry.svc = std::move(svc);
  if (appeared) wake_all(entry.watchers);
}

bool local_state::remove_service(std::string_view service_id) {
  std::lock_guard lock(mutex_);
  const auto it = services_.find(service_id);
  if (service_id.empty() || it == services_.end() || !it->second.registered) return false;
  auto& entry = it->second;
  // Consul drops a service's checks with it.
  std::vector<std::string> removed;
  removed.reserve(entry.checks.size());
  for (check_slot* slot : entry.checks) {
    forget_pin(*slot);
    removed.push_back(slot->current->check_id);
  }
  entry.checks.clear();
  {
    std::lock_guard index(index_mutex_);  // gone for readers of single checks before anyone is woken
    for (const auto& id : removed) checks_.erase(id);
  }
  for (const auto& id : removed) wake_check_watchers(id);
  entry.registered = false;
  wake_all(entry.watchers);
  erase_if_unused(service_id);
  return true;
}

bool local_state::has_service(std::string_view service_id) const {
  std::lock_guard lock(mutex_);
  const auto it = services_.find(service_id);
  return it != services_.end() && it->second.registered;
}

// --- checks -----------------------------------------------------------------------------------------------

void local_state::add_check(health_check check) {
  if (check.check_id.empty()) throw std::system_error(errc::invalid_argument, "empty check ID");
  check.node = node_name_;
  std::lock_guard lock(mutex_);
  if (!check.service_id.empty()) {
    const auto svc = services_.find(check.service_id);
    if (svc == services_.end() || !svc->second.registered)
      throw std::system_error(errc::unknown_service, "check " + check.check_id + " names service " + check.service_id);
  }
  const auto it = checks_.find(check.check_id);
  if (it == checks_.end()) {
    auto first = std::make_shared<const health_check>(std::move(check));
    check_slot* slot = nullptr;
    {
      std::lock_guard index(index_mutex_);  // readers of single checks find it with its first version
      slot = &checks_.try_emplace(first->check_id).first->second;
      slot->replace(std::move(first));
    }
    link(*slot);
    wake_for_check(*slot->current);
    return;
  }
  check_slot& slot = it->second;
  if (*slot.current == check) return;
  const bool moves = slot.current->service_id != check.service_id;
  if (moves) {
    const std::string old_service = slot.current->service_id;
    const auto old = slot.current;  // keep the old version alive while waking its watchers
    unlink(slot);
    wake_for_check(*old);
    erase_if_unused(old_service);
  }
  slot.replace(std::make_shared<const health_check>(std::move(check)));
  if (moves) link(slot);
  wake_for_check(*slot.current);
}

// Each writer below lets go of the version it replaced only after the lock (`replaced` is declared first): the
// last reference frees it, and nobody waits for that.

template <class Output>
update_result local_state::update_locked(check_slot& slot, status s, Output&& output,
                                         std::shared_ptr<const health_check>& replaced) {
  const health_check& old = *slot.current;
  if (old.status == s && old.output == output) return update_result::unchanged;
  // Field by field, so that the old output is never copied only to be overwritten.
  static_assert(sizeof(health_check) == 8 * sizeof(std::string) + alignof(std::string),
                "a field was added to health_check: copy it here");
  auto next = std::make_shared<health_check>();
  next->node = old.node;
  next->check_id = old.check_id;
  next->name = old.name;
  next->status = s;
  next->notes = old.notes;
  next->output = std::string(std::forward<Output>(output));
  next->service_id = old.service_id;
  next->service_name = old.service_name;
  next->type = old.type;
  replaced = slot.replace(std::move(next));
  wake_for_check(*slot.current);
  return update_result::updated;
}

update_result local_state::update_check(std::string_view check_id, status s, std::string_view output) {
  std::shared_ptr<const health_check> replaced;
  std::lock_guard lock(mutex_);
  const auto it = checks_.find(check_id);
  if (it == checks_.end()) return update_result::unknown_check;
  return update_locked(it->second, s, output, replaced);
}

update_result local_state::update_check(check_pin& pin, std::string_view check_id, status s,
                                        std::string_view output) {
  std::shared_ptr<const health_check> replaced;
  std::lock_guard lock(mutex_);
  check_slot* slot = pinned_slot(pin, check_id);
  if (!slot) return update_result::unknown_check;
  return update_locked(*slot, s, output, replaced);
}

update_result local_state::update_alias_check(check_pin& pin, std::string_view check_id,
                                              std::string_view service_id) {
  return alias_round(*this, service_id).update(pin, check_id);
}

local_state::alias_round::alias_round(local_state& state, std::string_view service_id)
    : state_(state), service_id_(service_id), lock_(state.mutex_) {}

update_result local_state::alias_round::update(check_pin& pin, std::string_view check_id) {
  check_slot* slot = state_.pinned_slot(pin, check_id);
  if (!slot) return update_result::unknown_check;
  const auto aggregate = [&](std::string_view self) {
    auto result = state_.fold_locked(aggregator(state_.node_name_, service_id_, state_.node_name_, self), service_id_);
    result.output.resize(truncate_output(result.output).size());
    return result;
  };
  auto& replaced = replaced_[count_++];
  if (slot->current->type != alias_check_type) {
    auto own = aggregate(check_id);  // the aggregation may count this check: an alias never counts its own
    const auto result = state_.update_locked(*slot, own.status, std::move(own.output), replaced);
    if (result == update_result::updated) shared_.reset();  // the others may count what it wrote
    return result;
  }
  if (!shared_) shared_ = aggregate({});  // check IDs are never empty: skips nothing
  return state_.update_locked(*slot, shared_->status, std::string_view(shared_->output), replaced);
}

// The slot `pin` holds, else the check's (which `pin` then holds, unless another pin does); null if unknown.
local_state::check_slot* local_state::pinned_slot(check_pin& pin, std::string_view check_id) {
  if (pin.slot_) return pin.slot_;
  const auto it = checks_.find(check_id);
  if (it == checks_.end()) return nullptr;
  check_slot* slot = &it->second;
  if (!slot->pin) {
    slot->pin = &pin;
    pin.slot_ = slot;
    pin.state_ = this;
  }
  return slot;
}

void local_state::check_pin::unpin() noexcept {
  if (!state_) return;
  std::lock_guard lock(state_->mutex_);
  if (slot_) slot_->pin = nullptr;
  slot_ = nullptr;
  state_ = nullptr;
}

bool local_state::remove_check(std::string_view check_id) {
  std::lock_guard lock(mutex_);
  const auto it = checks_.find(check_id);
  if (it == checks_.end()) return false;
  const auto old = it->second.current;
  unlink(it->second);
  forget_pin(it->second);
  {
    std::lock_guard index(index_mutex_);  // gone for readers of single checks before anyone is woken
    checks_.erase(it);
  }
  wake_for_check(*old);
  erase_if_unused(old->service_id);
  return true;
}

std::shared_ptr<const health_check> local_state::check(std::string_view check_id) const {
  std::lock_guard index(index_mutex_);
  const auto it = checks_.find(check_id);
  return it == checks_.end() ? nullptr : it->second.read();
}

std::vector<std::shared_ptr<const health_check>> local_state::checks() const {
  std::vector<std::shared_ptr<const health_check>> out;
  {
    std::lock_guard lock(mutex_);  // one cut across all checks
    out.reserve(checks_.size());
    for (const auto& [id, slot] : checks_) out.push_back(slot.current);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->check_id < b->check_id; });
  return out;
}

std::size_t local_state::check_count() const {
  std::lock_guard index(index_mutex_);
  return checks_.size();
}

// Calls `visit` on the node-level checks and `service_id`'s checks, merged in check ID order (the order Consul's
// catalog returns); returns whether the service is registered. mutex_ must be held.
template <class Visit>
bool local_state::visit_locked(std::string_view service_id, Visit&& visit) const {
  static const std::vector<check_slot*> none;
  const auto node_it = services_.find(std::string_view{});
  const auto& node_checks = node_it == services_.end() ? none : node_it->second.checks;
  const auto svc_it = service_id.empty() ? services_.end() : services_.find(service_id);
  const auto& svc_checks = svc_it == services_.end() ? none : svc_it->second.checks;
  auto a = node_checks.begin(), b = svc_checks.begin();
  while (a != node_checks.end() || b != svc_checks.end()) {
    const bool take_a =
        b == svc_checks.end() || (a != node_checks.end() && (*a)->current->check_id < (*b)->current->check_id);
    visit((take_a ? *a++ : *b++)->current);
  }
  return svc_it != services_.end() && svc_it->second.registered;
}

local_state::service_snapshot local_state::snapshot(std::string_view service_id) const {
  service_snapshot out;
  std::lock_guard lock(mutex_);
  out.service_exists =
      visit_locked(service_id, [&](const std::shared_ptr<const health_check>& c) { out.checks.push_back(c); });
  return out;
}

check_result local_state::aggregate(const alias_target& target, const check_key& self) const {
  return fold(aggregator(target, self), target.service_id);
}

check_result local_state::aggregate(std::string_view service_id, std::string_view self_check_id) const {
  return fold(aggregator(node_name_, service_id, node_name_, self_check_id), service_id);
}

check_result local_state::fold(aggregator agg, std::string_view service_id) const {
  std::lock_guard lock(mutex_);  // held through finish(): the aggregator points into the published checks
  return fold_locked(agg, service_id);
}

check_result local_state::fold_locked(aggregator agg, std::string_view service_id) const {
  const bool exists = visit_locked(service_id, [&](const std::shared_ptr<const health_check>& c) { agg.add(*c); });
  return agg.finish(exists ? presence::present : presence::service_missing);
}

// --- watches ----------------------------------------------------------------------------------------------

local_state::watch local_state::watch_service(std::string_view service_id, wake_channel& ch) {
  return add_service_watcher(service_id, reinterpret_cast<watcher>(&ch));
}

local_state::watch local_state::watch_service(std::string_view service_id, detail::wake_target& t) {
  return add_service_watcher(service_id, reinterpret_cast<watcher>(&t) | 1);
}

local_state::watch local_state::add_service_watcher(std::string_view service_id, watcher w) {
  std::lock_guard lock(mutex_);
  auto it = services_.find(service_id);
  if (it == services_.end()) it = services_.try_emplace(std::string(service_id)).first;
  auto& list = it->second.watchers;
  return watch(this, &list, list.insert(list.end(), w), &it->first, false);
}

local_state::watch local_state::watch_check(std::string_view check_id, wake_channel& ch) {
  return add_check_watcher(check_id, reinterpret_cast<watcher>(&ch));
}

local_state::watch local_state::watch_check(std::string_view check_id, detail::wake_target& t) {
  return add_check_watcher(check_id, reinterpret_cast<watcher>(&t) | 1);
}

local_state::watch local_state::add_check_watcher(std::string_view check_id, watcher w) {
  std::lock_guard lock(mutex_);
  auto it = check_watchers_.find(check_id);
  if (it == check_watchers_.end()) it = check_watchers_.try_emplace(std::string(check_id)).first;
  auto& list = it->second;
  return watch(this, &list, list.insert(list.end(), w), &it->first, true);
}

local_state::watch::watch(watch&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      list_(other.list_),
      it_(other.it_),
      key_(other.key_),
      of_check_(other.of_check_) {}

local_state::watch& local_state::watch::operator=(watch&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::exchange(other.state_, nullptr);
    list_ = other.list_;
    it_ = other.it_;
    key_ = other.key_;
    of_check_ = other.of_check_;
  }
  return *this;
}

local_state::watch::~watch() { reset(); }

void local_state::watch::reset() noexcept {
  if (!state_) return;
  std::lock_guard lock(state_->mutex_);
  list_->erase(it_);
  if (list_->empty()) {
    // By iterator: the key lives in the node being erased.
    if (of_check_)
      state_->check_watchers_.erase(state_->check_watchers_.find(*key_));
    else
      state_->erase_if_unused(*key_);
  }
  state_ = nullptr;
}

// --- internals (mutex_ held) ------------------------------------------------------------------------------

local_state::service_entry& local_state::entry_for(std::string_view service_id) {
  auto it = services_.find(service_id);
  if (it == services_.end()) it = services_.try_emplace(std::string(service_id)).first;
  return it->second;
}

void local_state::erase_if_unused(std::string_view service_id) {
  const auto it = services_.find(service_id);
  if (it != services_.end() && it->second.unused()) services_.erase(it);
}

void local_state::link(check_slot& slot) {
  auto& list = entry_for(slot.current->service_id).checks;
  list.insert(std::lower_bound(list.begin(), list.end(), slot.current->check_id, by_check_id<check_slot>), &slot);
}

void local_state::unlink(check_slot& slot) {
  auto& list = services_.find(slot.current->service_id)->second.checks;
  list.erase(std::lower_bound(list.begin(), list.end(), slot.current->check_id, by_check_id<check_slot>));
}

void local_state::forget_pin(check_slot& slot) noexcept {
  if (slot.pin) slot.pin->slot_ = nullptr;  // its writer now finds the check by ID, or not at all
  slot.pin = nullptr;
}

void local_state::drop_wakeups_for_testing(bool drop) {
  std::lock_guard lock(mutex_);
  drop_wakeups_ = drop;
}

void local_state::wake_for_check(const health_check& check) {
  if (drop_wakeups_) {
    wake_check_watchers(check.check_id);
    return;
  }
  if (check.type == alias_check_type) {
    // No alias reads alias checks (see aggregator), so writing one wakes nobody else: no feedback loop.
  } else if (check.service_id.empty()) {
    for (const auto& [id, entry] : services_) wake_all(entry.watchers);  // node checks count for every alias
  } else {
    wake_service_watchers(check.service_id);
  }
  wake_check_watchers(check.check_id);
}

void local_state::wake_service_watchers(std::string_view service_id) {
  const auto it = services_.find(service_id);
  if (it != services_.end()) wake_all(it->second.watchers);
}

void local_state::wake_check_watchers(std::string_view check_id) {
  if (check_watchers_.empty()) return;  // the usual case: spares hashing the ID on every write
  const auto it = check_watchers_.find(check_id);
  if (it != check_watchers_.end()) wake_all(it->second);
}

void local_state::wake_all(const watcher_list& list) noexcept {
  for (const watcher w : list) {
    if (w & 1)
      reinterpret_cast<detail::wake_target*>(w & ~watcher{1})->wake();
    else
      wake(*reinterpret_cast<wake_channel*>(w));
  }
}

}  // namespace coalias
