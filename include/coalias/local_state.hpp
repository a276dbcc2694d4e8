// The agent-local registry of services and checks that local aliases watch.
//
// Thread safety: every member function may be called from any thread at any time. Readers never see a check
// change under them: a published `health_check` is immutable, an update publishes a new version, and a snapshot
// holds the versions it took (copy-on-write; the race Consul fixed in #5876).
// `check` and `check_count` take no lock that a writer holds while it evaluates or wakes: a reader of single
// checks (a health endpoint, a poller) never waits for an alias's evaluation, nor delays one. A writer publishes
// a change to them before it wakes anyone.
//
// Wake-ups: `watch_service` and `watch_check` register a `wake_channel` that is signalled, without blocking the
// writer and coalescing with a pending wake-up, whenever what the watcher reads may have changed. Node-level
// checks (empty service ID) count for every alias, so a change to one wakes every service watcher. Alias checks
// (type "alias") count for no alias, so a change to one wakes only the watchers of that check.
#pragma once

#include <coalias/aggregate.hpp>
#include <coalias/health_check.hpp>
#include <coalias/wake_channel.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace coalias {

namespace detail {
/// What coalias's own alias tasks register instead of a wake_channel: a call, not a message, so an idle alias
/// holds no pending receive. `wake()` runs under the state's lock: it must not block or call into the state.
class wake_target {
 public:
  virtual void wake() noexcept = 0;

 protected:
  ~wake_target() = default;
};
}  // namespace detail

enum class update_result {
  updated,        ///< a new version was published and watchers were woken
  unchanged,      ///< status and output were already those: nothing published, nobody woken
  unknown_check,  ///< no check with that ID is registered
};

class local_state {
  struct check_slot;
  struct service_entry;
  // A wake_channel* or a detail::wake_target*, told apart by the low bit (both types are aligned): one word,
  // so each watch's list node stays small (100,000 aliases hold one each).
  using watcher = std::uintptr_t;
  using watcher_list = std::list<watcher>;

 public:
  /// `node_name` is stamped on every check added, and names the node in "could not be found" outputs.
  explicit local_state(std::string node_name);
  local_state(const local_state&) = delete;
  local_state& operator=(const local_state&) = delete;
  ~local_state();

  const std::string& node_name() const noexcept { return node_name_; }

  /// Adds or replaces a service. Wakes its watchers when it appears.
  void add_service(service svc);
  /// Removes a service and its checks, as Consul's agent does. Returns false if it was not registered.
  bool remove_service(std::string_view service_id);
  bool has_service(std::string_view service_id) const;

  /// Adds or replaces a check (node set to `node_name()`). Throws `std::system_error` with
  /// `errc::unknown_service` if it names a service that is not registered, `errc::invalid_argument` for an
  /// empty check ID. Re-adding an identical check publishes nothing.
  void add_check(health_check check);
  /// Consul's UpdateCheck: sets status and output; a no-op when neither changes.
  update_result update_check(std::string_view check_id, status s, std::string_view output);

  /// The slot of a check that one writer updates again and again (an alias task its own check), so a write
  /// finds it without a look-up. Held by that writer; the state forgets it when the check is removed. Neither
  /// copyable nor movable (the state points to it); `unpin` before the state goes.
  class check_pin {
   public:
    check_pin() = default;
    check_pin(const check_pin&) = delete;
    check_pin& operator=(const check_pin&) = delete;
    ~check_pin() { unpin(); }
    /// Forgets the slot. Any thread.
    void unpin() noexcept;

   private:
    friend class local_state;
    local_state* state_ = nullptr;
    check_slot* slot_ = nullptr;  // guarded by state_->mutex_
  };
  /// `update_check` through `pin`, which this call sets when the check is found and no other pin holds it.
  update_result update_check(check_pin& pin, std::string_view check_id, status s, std::string_view output);
  /// A local alias's whole evaluation under one lock: `aggregate(service_id, check_id)`, its output cut by
  /// `truncate_output`, written to check `check_id` through `pin` as `update_check` writes. Nothing can change
  /// between the read and the write. A round of one (see alias_round).
  update_result update_alias_check(check_pin& pin, std::string_view check_id, std::string_view service_id);

  /// `update_alias_check` for up to `capacity` local aliases of one service in one round: one lock for them
  /// all, and one aggregation for every alias whose own check no aggregation counts (an alias-type check, as
  /// coalias registers them); any other alias is aggregated alone. The round holds the state's lock from its
  /// construction to its destruction: call nothing else of the state's meanwhile, and let it go soon.
  class alias_round {
   public:
    static constexpr std::size_t capacity = 64;
    alias_round(local_state& state, std::string_view service_id);
    alias_round(const alias_round&) = delete;
    alias_round& operator=(const alias_round&) = delete;

    bool full() const noexcept { return count_ == capacity; }
    /// As `update_alias_check(pin, check_id, service_id)`. Not when `full()`.
    update_result update(check_pin& pin, std::string_view check_id);

   private:
    local_state& state_;
    const std::string_view service_id_;
    // Declared before the lock, so destroyed after it: the replaced versions are let go of after the lock.
    std::array<std::shared_ptr<const health_check>, capacity> replaced_;
    std::size_t count_ = 0;
    std::optional<check_result> shared_;  // the aggregation for alias-type own checks, made on first need
    std::lock_guard<std::mutex> lock_;
  };
  /// Removes a check (maintenance mode ends this way). Returns false if it was not registered.
  bool remove_check(std::string_view check_id);

  /// The current version of a check, or null.
  std::shared_ptr<const health_check> check(std::string_view check_id) const;
  /// Every check, in check ID order.
  std::vector<std::shared_ptr<const health_check>> checks() const;
  std::size_t check_count() const;

  /// What an alias of `service_id` (empty: the node) reads: the node-level checks and that service's checks,
  /// merged in check ID order (the order Consul's catalog returns), and whether the service is registered.
  /// Costs O(checks of the service + node checks), never O(all checks).
  struct service_snapshot {
    std::vector<std::shared_ptr<const health_check>> checks;
    bool service_exists = false;
  };
  service_snapshot snapshot(std::string_view service_id) const;

  /// The aggregation rule applied to what an alias of `target.service_id` reads (the same checks as
  /// `snapshot`, with a missing service reported as such), evaluated under the lock without copying the checks:
  /// the hot path of every local alias.
  check_result aggregate(const alias_target& target, const check_key& self) const;
  /// `aggregate` for an alias on this node: of `service_id` (empty: the node), its own check `self_check_id`.
  check_result aggregate(std::string_view service_id, std::string_view self_check_id) const;

  /// A registration that unregisters when destroyed. Move-only; destroy it before its channel.
  class watch {
   public:
    watch() = default;
    watch(watch&& other) noexcept;
    watch& operator=(watch&& other) noexcept;
    ~watch();

   private:
    friend class local_state;
    watch(local_state* state, watcher_list* list, watcher_list::iterator it, const std::string* key, bool of_check)
        : state_(state), list_(list), it_(it), key_(key), of_check_(of_check) {}
    void reset() noexcept;

    local_state* state_ = nullptr;
    watcher_list* list_ = nullptr;
    watcher_list::iterator it_{};
    const std::string* key_ = nullptr;  // the map's own key (stable while the list has watchers): to drop the
                                        // list once its last watcher leaves
    bool of_check_ = false;
  };

  /// Signals `ch` when a check of `service_id` (or any node-level check) is added, updated or removed, or the
  /// service appears or disappears. An empty `service_id` watches the node: node-level checks only.
  [[nodiscard]] watch watch_service(std::string_view service_id, wake_channel& ch);
  /// Signals `ch` when check `check_id` is added, updated or removed.
  [[nodiscard]] watch watch_check(std::string_view check_id, wake_channel& ch);
  /// As `watch_service`, calling `t.wake()` (for coalias's alias tasks).
  [[nodiscard]] watch watch_service(std::string_view service_id, detail::wake_target& t);
  /// As `watch_check`, calling `t.wake()` (for coalias's publish tasks).
  [[nodiscard]] watch watch_check(std::string_view check_id, detail::wake_target& t);

  /// Fault injection: while set, changes wake no service watcher, as if every edge were missed. Aliases must
  /// still converge through their refresh period. Tests only.
  void drop_wakeups_for_testing(bool drop);

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  template <class T>
  using string_map = std::unordered_map<std::string, T, string_hash, std::equal_to<>>;

  template <class Visit>
  bool visit_locked(std::string_view service_id, Visit&& visit) const;
  check_result fold(aggregator agg, std::string_view service_id) const;
  check_result fold_locked(aggregator agg, std::string_view service_id) const;
  check_slot* pinned_slot(check_pin& pin, std::string_view check_id);
  service_entry& entry_for(std::string_view service_id);
  watch add_service_watcher(std::string_view service_id, watcher w);
  watch add_check_watcher(std::string_view check_id, watcher w);
  void erase_if_unused(std::string_view service_id);
  void link(check_slot& slot);
  void unlink(check_slot& slot);
  // `Output`: a std::string_view, copied only when it changes the check, or a std::string, moved.
  template <class Output>
  update_result update_locked(check_slot& slot, status s, Output&& output,
                              std::shared_ptr<const health_check>& replaced);
  static void forget_pin(check_slot& slot) noexcept;
  void wake_for_check(const health_check& check);
  void wake_service_watchers(std::string_view service_id);
  void wake_check_watchers(std::string_view check_id);
  static void wake_all(const watcher_list& list) noexcept;

  const std::string node_name_;
  mutable std::mutex mutex_;  // every write, and the readers of several checks (checks, snapshot, aggregate)
  // The shape of checks_, for `check` and `check_count`. Writers take it after mutex_, only around inserting
  // or erasing a check, never while they wake anyone; a status update does not take it at all. (A mutex, not a
  // shared_mutex: glibc's prefers readers, and a writer waiting for it holds mutex_.)
  mutable std::mutex index_mutex_;
  string_map<check_slot> checks_;
  string_map<service_entry> services_;  // "" holds node-level checks
  string_map<watcher_list> check_watchers_;
  bool drop_wakeups_ = false;
};

}  // namespace coalias
