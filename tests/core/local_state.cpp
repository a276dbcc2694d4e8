#include <coalias/local_state.hpp>

#include <coalias/error.hpp>

#include <catch2/catch.hpp>

#include <asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

using namespace coalias;

namespace {

health_check make_check(std::string id, status s, std::string service = "", std::string output = "") {
  health_check c;
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.status = s;
  c.output = std::move(output);
  c.service_id = std::move(service);
  return c;
}

// Takes the pending wake-up, if any.
bool woken(wake_channel& ch) {
  bool got = false;
  while (ch.try_receive([&](std::error_code) { got = true; })) {
  }
  return got;
}

struct fixture {
  asio::io_context io;
  local_state state{"node-1"};
  fixture() {
    state.add_service({"web", "web"});
    state.add_service({"db", "db"});
  }
};

}  // namespace

TEST_CASE_METHOD(fixture, "a check of an unregistered service is refused") {
  try {
    state.add_check(make_check("c", status::passing, "nope"));
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::unknown_service);
  }
  CHECK(state.check_count() == 0);
}

TEST_CASE_METHOD(fixture, "checks get the agent's node name") {
  state.add_check(make_check("c", status::passing, "web"));
  CHECK(state.check("c")->node == "node-1");
}

TEST_CASE_METHOD(fixture, "an update publishes a new version and leaves held ones untouched") {
  state.add_check(make_check("c", status::passing, "web", "fine"));
  const auto before = state.check("c");
  const auto snap = state.snapshot("web");
  CHECK(state.update_check("c", status::critical, "broken") == update_result::updated);
  CHECK(before->status == status::passing);
  CHECK(before->output == "fine");
  CHECK(snap.checks.at(0)->status == status::passing);
  const auto after = state.check("c");
  CHECK(after != before);
  CHECK(after->status == status::critical);
  CHECK(after->output == "broken");
}

TEST_CASE_METHOD(fixture, "an update that changes nothing is a no-op and wakes nobody") {
  wake_channel ch(io.get_executor(), wake_capacity);
  state.add_check(make_check("c", status::passing, "web", "fine"));
  const auto reg = state.watch_service("web", ch);
  const auto before = state.check("c");
  CHECK(state.update_check("c", status::passing, "fine") == update_result::unchanged);
  CHECK(state.check("c") == before);
  CHECK_FALSE(woken(ch));
  CHECK(state.update_check("missing", status::passing, "") == update_result::unknown_check);
}

TEST_CASE_METHOD(fixture, "changes to a service's checks wake its watchers only") {
  wake_channel web_ch(io.get_executor(), wake_capacity), db_ch(io.get_executor(), wake_capacity);
  const auto w = state.watch_service("web", web_ch);
  const auto d = state.watch_service("db", db_ch);

  state.add_check(make_check("c", status::passing, "web"));
  CHECK(woken(web_ch));
  CHECK_FALSE(woken(db_ch));

  state.update_check("c", status::warning, "");
  CHECK(woken(web_ch));
  CHECK_FALSE(woken(db_ch));

  state.remove_check("c");
  CHECK(woken(web_ch));
  CHECK_FALSE(woken(db_ch));
}

TEST_CASE_METHOD(fixture, "node-level checks wake every service watcher") {
  wake_channel web_ch(io.get_executor(), wake_capacity), db_ch(io.get_executor(), wake_capacity),
      node_ch(io.get_executor(), wake_capacity);
  const auto w = state.watch_service("web", web_ch);
  const auto d = state.watch_service("db", db_ch);
  const auto n = state.watch_service("", node_ch);
  state.add_check(make_check("serf", status::passing));
  CHECK(woken(web_ch));
  CHECK(woken(db_ch));
  CHECK(woken(node_ch));
  state.update_check("serf", status::critical, "gone");
  CHECK(woken(web_ch));
  CHECK(woken(db_ch));
  CHECK(woken(node_ch));
}

TEST_CASE_METHOD(fixture, "a service appearing or disappearing wakes its watchers") {
  wake_channel ch(io.get_executor(), wake_capacity);
  const auto reg = state.watch_service("api", ch);
  state.add_service({"api", "api"});
  CHECK(woken(ch));
  state.add_service({"api", "api"});  // already there: not an appearance
  CHECK_FALSE(woken(ch));
  state.remove_service("api");
  CHECK(woken(ch));
  CHECK_FALSE(state.has_service("api"));
}

TEST_CASE_METHOD(fixture, "maintenance mode adds and removes a check, and both wake") {
  wake_channel ch(io.get_executor(), wake_capacity);
  const auto reg = state.watch_service("web", ch);
  state.add_check(make_check("_service_maintenance:web", status::critical, "web", "maintenance"));
  CHECK(woken(ch));
  CHECK(state.remove_check("_service_maintenance:web"));
  CHECK(woken(ch));
  CHECK_FALSE(state.remove_check("_service_maintenance:web"));
}

TEST_CASE_METHOD(fixture, "wake-ups coalesce: many changes leave one pending wake-up, never block") {
  wake_channel ch(io.get_executor(), wake_capacity);
  const auto reg = state.watch_service("web", ch);
  state.add_check(make_check("c", status::passing, "web"));
  for (int i = 0; i < 1000; ++i) state.update_check("c", i % 2 ? status::passing : status::critical, "");
  CHECK(ch.ready());
  CHECK(woken(ch));
  CHECK_FALSE(ch.ready());
}

TEST_CASE_METHOD(fixture, "a destroyed watch no longer wakes") {
  wake_channel ch(io.get_executor(), wake_capacity);
  { const auto reg = state.watch_service("web", ch); }
  state.add_check(make_check("c", status::passing, "web"));
  CHECK_FALSE(woken(ch));
}

TEST_CASE_METHOD(fixture, "check watchers see adds, updates and removals of their check only") {
  wake_channel ch(io.get_executor(), wake_capacity);
  const auto reg = state.watch_check("c", ch);
  state.add_check(make_check("other", status::passing, "web"));
  CHECK_FALSE(woken(ch));
  state.add_check(make_check("c", status::passing, "web"));
  CHECK(woken(ch));
  state.update_check("c", status::critical, "x");
  CHECK(woken(ch));
  state.remove_service("web");  // takes its checks along
  CHECK(woken(ch));
  CHECK(state.check("c") == nullptr);
}

TEST_CASE_METHOD(fixture, "a snapshot holds node checks and the service's checks in check ID order") {
  state.add_check(make_check("b-node", status::passing));
  state.add_check(make_check("d-web", status::passing, "web"));
  state.add_check(make_check("a-web", status::passing, "web"));
  state.add_check(make_check("c-db", status::passing, "db"));
  state.add_check(make_check("e-node", status::passing));
  const auto snap = state.snapshot("web");
  std::vector<std::string> ids;
  for (const auto& c : snap.checks) ids.push_back(c->check_id);
  CHECK(ids == std::vector<std::string>{"a-web", "b-node", "d-web", "e-node"});
  CHECK(snap.service_exists);
  CHECK_FALSE(state.snapshot("nope").service_exists);
  CHECK(state.snapshot("nope").checks.size() == 2);
}

TEST_CASE_METHOD(fixture, "moving a check to another service re-indexes it and wakes both sides") {
  wake_channel web_ch(io.get_executor(), wake_capacity), db_ch(io.get_executor(), wake_capacity);
  state.add_check(make_check("c", status::passing, "web"));
  const auto w = state.watch_service("web", web_ch);
  const auto d = state.watch_service("db", db_ch);
  state.add_check(make_check("c", status::passing, "db"));
  CHECK(woken(web_ch));
  CHECK(woken(db_ch));
  CHECK(state.snapshot("web").checks.empty());
  CHECK(state.snapshot("db").checks.size() == 1);
}

TEST_CASE_METHOD(fixture, "removing a service removes its checks") {
  state.add_check(make_check("c1", status::passing, "web"));
  state.add_check(make_check("c2", status::passing, "web"));
  state.add_check(make_check("serf", status::passing));
  CHECK(state.remove_service("web"));
  CHECK(state.check_count() == 1);
  CHECK_FALSE(state.remove_service("web"));
}

TEST_CASE_METHOD(fixture, "concurrent writers and readers from many threads") {
  for (int i = 0; i < 4; ++i) state.add_check(make_check("c" + std::to_string(i), status::passing, "web"));
  std::atomic<int> torn{0};  // Catch's assertions are not thread-safe: count in the threads, check after
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      wake_channel ch(io.get_executor(), wake_capacity);
      const auto reg = state.watch_service("web", ch);
      for (int i = 0; i < 2000; ++i) {
        state.update_check("c" + std::to_string(t), i % 3 == 0 ? status::critical : status::passing, std::to_string(i));
        const auto snap = state.snapshot("web");
        for (const auto& c : snap.checks) {
          const bool digits = std::all_of(c->output.begin(), c->output.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
          if (c->check_id.empty() || !digits) ++torn;  // a version seen half-written
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(torn.load() == 0);
  CHECK(state.snapshot("web").checks.size() == 4);
  CHECK(state.check("c0")->output == "1999");
}

// A watcher that is woken under the state's lock and stays there until a reader on another thread has read.
struct blocking_watcher final : detail::wake_target {
  std::promise<void> entered;
  std::shared_future<void> release;
  void wake() noexcept override {
    entered.set_value();
    release.wait();
  }
};

TEST_CASE_METHOD(fixture, "readers of checks never wait for a writer, and see a version before its watchers wake") {
  state.add_check(make_check("web-check", status::passing, "web"));
  state.add_check(make_check("other", status::passing, "db"));
  std::promise<void> released;
  blocking_watcher watcher;
  watcher.release = released.get_future().share();
  const auto reg = state.watch_service("web", watcher);
  auto woke = watcher.entered.get_future();

  std::thread writer([&] { state.update_check("web-check", status::critical, "down"); });
  woke.wait();  // the writer now holds the state's lock, inside the wake-up round
  auto read = std::async(std::launch::async, [&] {
    return std::make_tuple(state.check("web-check")->status, state.check("other")->status, state.check_count());
  });
  const bool answered = read.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  released.set_value();
  writer.join();
  REQUIRE(answered);
  CHECK(read.get() == std::make_tuple(status::critical, status::passing, std::size_t{2}));
}

// Reads check `id` on another thread while `write` is inside its wake-up round, which holds the state's lock.
template <class Write>
std::optional<std::shared_ptr<const health_check>> read_during_wake(local_state& state, const std::string& id,
                                                                    Write write) {
  std::promise<void> released;
  blocking_watcher watcher;
  watcher.release = released.get_future().share();
  const auto reg = state.watch_check(id, watcher);
  auto woke = watcher.entered.get_future();
  std::thread writer(write);
  woke.wait();
  auto read = std::async(std::launch::async, [&] { return state.check(id); });
  const bool answered = read.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  released.set_value();
  writer.join();
  if (!answered) return std::nullopt;
  return read.get();
}

TEST_CASE_METHOD(fixture, "readers see an added or removed check before its watchers wake, without waiting") {
  const auto added = read_during_wake(state, "new", [&] { state.add_check(make_check("new", status::warning, "web")); });
  REQUIRE(added.has_value());
  REQUIRE(*added != nullptr);
  CHECK((*added)->status == status::warning);

  const auto removed = read_during_wake(state, "new", [&] { state.remove_check("new"); });
  REQUIRE(removed.has_value());
  CHECK(*removed == nullptr);

  state.add_check(make_check("db-check", status::passing, "db"));
  const auto with_service = read_during_wake(state, "db-check", [&] { state.remove_service("db"); });
  REQUIRE(with_service.has_value());
  CHECK(*with_service == nullptr);
}

TEST_CASE_METHOD(fixture, "update_alias_check writes the aggregate of the aliased service, cut to the output limit") {
  wake_channel ch(io.get_executor(), wake_capacity);
  auto own = make_check("alias", status::critical, "db", "");
  own.type = std::string(alias_check_type);
  own.service_name = "db";
  own.notes = "mirrors web";
  state.add_check(own);
  const auto reg = state.watch_check("alias", ch);
  local_state::check_pin pin;
  CHECK(state.update_alias_check(pin, "missing", "web") == update_result::unknown_check);
  CHECK(state.update_alias_check(pin, "alias", "web") == update_result::updated);
  auto shown = state.check("alias");
  CHECK(shown->status == status::passing);  // web is registered, with no check yet
  CHECK(shown->output == "No checks found.");
  CHECK(woken(ch));

  state.add_check(make_check("web-check", status::warning, "web", std::string(5000, 'x')));
  CHECK(state.update_alias_check(pin, "alias", "web") == update_result::updated);
  shown = state.check("alias");
  CHECK(shown->status == status::warning);
  const std::string head = "Aliased check \"web-check\" failing: ";
  CHECK(shown->output == head + std::string(check_output_max_size - head.size(), 'x'));
  // Every other field is the registered check's.
  CHECK(shown->type == "alias");
  CHECK(shown->service_id == "db");
  CHECK(shown->service_name == "db");
  CHECK(shown->notes == "mirrors web");
  CHECK(shown->name == "alias");
  CHECK(shown->node == "node-1");
  CHECK(woken(ch));

  CHECK(state.update_alias_check(pin, "alias", "web") == update_result::unchanged);
  CHECK(state.check("alias") == shown);
  CHECK_FALSE(woken(ch));
  pin.unpin();
}

TEST_CASE_METHOD(fixture, "a round aggregates once for alias-type own checks, and alone for any other") {
  state.add_check(make_check("plain", status::critical, "web", "own"));  // a plain check that mirrors web
  state.add_check(make_check("web-check", status::warning, "web", "lagging"));
  for (const char* id : {"a1", "a2"}) {
    auto own = make_check(id, status::passing, "db");
    own.type = std::string(alias_check_type);
    state.add_check(own);
  }
  local_state::check_pin p1, p2, p3, p4;
  {
    local_state::alias_round round(state, "web");
    CHECK(round.update(p1, "a1") == update_result::updated);
    CHECK(round.update(p2, "plain") == update_result::updated);  // skips itself: web-check's warning
    CHECK(round.update(p3, "a2") == update_result::updated);     // counts what plain wrote just before
    CHECK(round.update(p4, "missing") == update_result::unknown_check);
    CHECK_FALSE(round.full());
  }
  CHECK(state.check("a1")->status == status::critical);
  CHECK(state.check("a1")->output == "Aliased check \"plain\" failing: own");
  CHECK(state.check("plain")->status == status::warning);
  CHECK(state.check("plain")->output == "Aliased check \"web-check\" failing: lagging");
  CHECK(state.check("a2")->status == status::warning);
  CHECK(state.check("a2")->output ==
        "Aliased check \"plain\" failing: Aliased check \"web-check\" failing: lagging");
}
