#define BOOST_TEST_MODULE supervisor
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "messages/atoms.hpp"
#include "messages/error.hpp"
#include "messages/type_ids.hpp"
#include "runtime/supervisor.hpp"

using namespace tidewatch;
using namespace std::chrono_literals;

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// A child that answers ping with its id, fails on crash, and drains by
/// telling the coordinator it is done.
caf::behavior worker(caf::event_based_actor* self, std::string name) {
  return {
      [self](ping_atom) { return self->id(); },
      [](crash_atom) -> caf::result<void> { throw std::runtime_error("injected bug"); },
      [self, name](drain_atom, caf::actor coordinator) {
        self->send(coordinator, drained_atom::value, name);
      },
      [name](stats_atom) {
        stats_snapshot s;
        s.stage = name;
        return s;
      },
  };
}

child_spec worker_spec(std::string name, bool entry = true, bool exit = true) {
  return {name,
          [name](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
            return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(worker, name));
          },
          entry, exit};
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  restart_policy policy(uint32_t max_restarts, std::chrono::milliseconds backoff = 10ms) {
    restart_policy p;
    p.max_restarts = max_restarts;
    p.window = 60s;
    p.backoff_initial = backoff;
    p.backoff_max = 4 * backoff;
    p.drain_timeout = 2s;
    return p;
  }

  /// The stats of every live child of `sup`, by stage name.
  std::vector<stats_snapshot> stats(const caf::actor& sup) {
    std::vector<stats_snapshot> out;
    self->request(sup, 5s, stats_atom::value)
        .receive([&](std::vector<stats_snapshot>& xs) { out = std::move(xs); },
                 [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
    return out;
  }

  uint64_t restarts_of(const caf::actor& sup, const std::string& child) {
    for (auto& s : stats(sup))
      if (s.stage == "supervisor")
        return s.get("restarts_total{child=\"" + child + "\"}");
    return ~0ull;
  }

  size_t live_children(const caf::actor& sup) { return stats(sup).size() - 1; }

  /// Waits until `pred` holds or 5 s pass.
  template <class Pred> bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(backoff_doubles_from_the_initial_delay_up_to_the_cap) {
  restart_policy p;
  p.backoff_initial = 100ms;
  p.backoff_max = 1s;
  BOOST_TEST(restart_backoff(p, 1).count() == 100);
  BOOST_TEST(restart_backoff(p, 2).count() == 200);
  BOOST_TEST(restart_backoff(p, 3).count() == 400);
  BOOST_TEST(restart_backoff(p, 4).count() == 800);
  BOOST_TEST(restart_backoff(p, 5).count() == 1000);
  BOOST_TEST(restart_backoff(p, 40).count() == 1000);
}

BOOST_FIXTURE_TEST_CASE(rest_for_one_restarts_the_failed_child_and_those_started_after_it,
                        fixture) {
  // The children report their handles to us when started, so the test can
  // crash one and see which ones were replaced.
  auto started = std::make_shared<std::vector<std::pair<std::string, caf::actor>>>();
  auto spec = [&, started](std::string name) {
    return child_spec{name,
                      [name, started](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                        auto a = caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(worker, name));
                        started->emplace_back(name, a);
                        return a;
                      },
                      false, false};
  };
  auto sup = sys.spawn(supervisor, std::string("test"), policy(3),
                       std::vector<child_spec>{spec("sink"), spec("decoder"), spec("listener")});
  BOOST_REQUIRE(eventually([&] { return live_children(sup) == 3; }));
  BOOST_REQUIRE_EQUAL(started->size(), 3u);
  auto decoder = (*started)[1].second;
  self->send(decoder, crash_atom::value);
  BOOST_REQUIRE(eventually([&] { return started->size() == 5u; }));
  BOOST_REQUIRE(eventually([&] { return live_children(sup) == 3; }));
  BOOST_TEST((*started)[3].first == "decoder");
  BOOST_TEST((*started)[4].first == "listener");
  BOOST_TEST(restarts_of(sup, "decoder") == 1u);
  BOOST_TEST(restarts_of(sup, "sink") == 0u);
  BOOST_TEST(restarts_of(sup, "listener") == 0u);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(a_restart_waits_for_the_backoff_delay, fixture) {
  auto started = std::make_shared<std::vector<std::chrono::steady_clock::time_point>>();
  auto handles = std::make_shared<std::vector<caf::actor>>();
  child_spec s{"slow",
               [started, handles](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                 started->push_back(std::chrono::steady_clock::now());
                 auto a = caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(worker, "slow"));
                 handles->push_back(a);
                 return a;
               },
               false, false};
  auto sup =
      sys.spawn(supervisor, std::string("test"), policy(5, 300ms), std::vector<child_spec>{s});
  BOOST_REQUIRE(eventually([&] { return handles->size() == 1u; }));
  self->send(handles->back(), crash_atom::value);
  BOOST_REQUIRE(eventually([&] { return handles->size() == 2u; }));
  auto gap_ms = [&](size_t i) {
    return std::chrono::duration_cast<std::chrono::milliseconds>((*started)[i] - (*started)[i - 1])
        .count();
  };
  BOOST_TEST(gap_ms(1) >= 300);
  self->send(handles->back(), crash_atom::value);
  BOOST_REQUIRE(eventually([&] { return handles->size() == 3u; }));
  // The second consecutive failure waits twice as long.
  BOOST_TEST(gap_ms(2) >= 600);
  BOOST_TEST(restarts_of(sup, "slow") == 2u);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(too_many_failures_in_the_window_make_the_supervisor_give_up, fixture) {
  auto handles = std::make_shared<std::vector<caf::actor>>();
  child_spec s{"flaky",
               [handles](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                 auto a = caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(worker, "flaky"));
                 handles->push_back(a);
                 return a;
               },
               false, false};
  auto sup = sys.spawn(supervisor, std::string("test"), policy(2, 1ms), std::vector<child_spec>{s});
  self->monitor(sup);
  for (size_t i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(eventually([&] { return handles->size() == i; }));
    self->send(handles->back(), crash_atom::value);
  }
  self->receive(
      [&](caf::down_msg& dm) {
        BOOST_TEST((dm.reason.category() == error_category));
        BOOST_TEST(dm.reason.code() == static_cast<uint8_t>(ec::restart_limit));
      },
      caf::after(5s) >> [] { BOOST_FAIL("the supervisor did not give up"); });
  BOOST_TEST(handles->size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(draining_reaches_every_exit_and_then_the_supervisor_stops, fixture) {
  auto sup = sys.spawn(supervisor, std::string("test"), policy(3),
                       std::vector<child_spec>{worker_spec("a"), worker_spec("b")});
  self->monitor(sup);
  self->send(sup, drain_atom::value);
  self->receive([](drained_atom, const std::string& pipeline) { BOOST_TEST(pipeline == "test"); },
                caf::after(5s) >> [] { BOOST_FAIL("no drained reply"); });
  self->receive([](caf::down_msg& dm) { BOOST_TEST(!dm.reason); },
                caf::after(5s) >> [] { BOOST_FAIL("supervisor did not stop"); });
}
