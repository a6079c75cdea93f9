#define BOOST_TEST_MODULE inspector_actor
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/inspector/inspector_actor.hpp"
#include "messages/error.hpp"
#include "messages/type_ids.hpp"

using namespace tidewatch;
using namespace std::chrono_literals;

namespace {

/// A role that reports one child and one stage, as a pipeline's supervisor does.
caf::behavior reporting_role(caf::event_based_actor*, std::string name) {
  return {
      [name](status_atom) {
        role_status s;
        s.role = name;
        s.children.push_back({"decoder", {}, 0, 2});
        return s;
      },
      [name](stats_atom) {
        stats_snapshot s;
        s.pipeline = name;
        s.stage = "decoder";
        s.counters = {{"netflow_records_total", 7}};
        return std::vector<stats_snapshot>{s};
      },
  };
}

/// A role that answers neither status nor stats.
caf::behavior mute_role(caf::event_based_actor*, int) {
  return {[](int) {}};
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{(register_message_types(cfg), cfg)};
  caf::scoped_actor self{sys};
  inspector_actor insp = sys.spawn(inspector, std::string("edge-1"), caf::timespan(500ms));

  ~fixture() { self->send_exit(insp, caf::exit_reason::user_shutdown); }

  /// The answer to `locate role`, or the error.
  caf::expected<caf::actor> locate(const std::string& role) {
    caf::expected<caf::actor> result{caf::actor{}};
    self->request(insp, 5s, locate_atom::value, role)
        .receive([&](caf::actor& a) { result = std::move(a); },
                 [&](caf::error& e) { result = std::move(e); });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_registered_role_is_located_and_an_unknown_one_is_an_error, fixture) {
  auto role = sys.spawn(reporting_role, std::string("netflow"));
  self->send(insp, register_atom::value, std::string("netflow"), role);
  auto found = locate("netflow");
  BOOST_REQUIRE(found);
  BOOST_TEST((*found == role));
  auto missing = locate("bgp");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().code() == static_cast<uint8_t>(ec::unknown_role));
  BOOST_TEST(missing.error().category() == error_category);
  self->send_exit(role, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(a_role_whose_actor_goes_down_leaves_the_directory, fixture) {
  auto role = sys.spawn(reporting_role, std::string("sflow"));
  self->send(insp, register_atom::value, std::string("sflow"), role);
  BOOST_REQUIRE(locate("sflow"));
  self->monitor(role);
  self->send_exit(role, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {});
  // The inspector's own down message may still be on its way: ask until it is handled.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !locate("sflow");
    if (!gone)
      std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(gone);
}

BOOST_FIXTURE_TEST_CASE(status_lists_every_role_with_the_children_it_reports, fixture) {
  auto netflow = sys.spawn(reporting_role, std::string("netflow"));
  auto mute = sys.spawn(mute_role, 0);
  self->send(insp, register_atom::value, std::string("netflow"), netflow);
  self->send(insp, register_atom::value, std::string("bgp"), mute);
  node_status status;
  self->request(insp, 5s, status_atom::value)
      .receive([&](node_status& s) { status = std::move(s); },
               [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
  BOOST_TEST(status.node == "edge-1");
  BOOST_TEST(status.version == TIDEWATCH_VERSION);
  BOOST_TEST(status.started_us > 0);
  BOOST_TEST(status.now_us >= status.started_us);
  BOOST_REQUIRE_EQUAL(status.roles.size(), 2u);
  // Sorted by role; the mute one is listed without children.
  BOOST_TEST(status.roles[0].role == "bgp");
  BOOST_TEST(status.roles[0].actor_id == mute.id());
  BOOST_TEST(status.roles[0].children.empty());
  BOOST_TEST(status.roles[1].role == "netflow");
  BOOST_REQUIRE_EQUAL(status.roles[1].children.size(), 1u);
  BOOST_TEST(status.roles[1].children[0].name == "decoder");
  BOOST_TEST(status.roles[1].children[0].restarts == 2u);
  self->send_exit(netflow, caf::exit_reason::user_shutdown);
  self->send_exit(mute, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(stats_gathers_every_roles_snapshots_stamped_with_the_node, fixture) {
  auto a = sys.spawn(reporting_role, std::string("netflow"));
  auto b = sys.spawn(reporting_role, std::string("sflow"));
  self->send(insp, register_atom::value, std::string("netflow"), a);
  self->send(insp, register_atom::value, std::string("sflow"), b);
  std::vector<stats_snapshot> xs;
  self->request(insp, 5s, stats_atom::value)
      .receive([&](std::vector<stats_snapshot>& s) { xs = std::move(s); },
               [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
  BOOST_REQUIRE_EQUAL(xs.size(), 2u);
  std::sort(xs.begin(), xs.end(),
            [](const auto& x, const auto& y) { return x.pipeline < y.pipeline; });
  BOOST_TEST(xs[0].pipeline == "netflow");
  BOOST_TEST(xs[1].pipeline == "sflow");
  for (auto& x : xs) {
    BOOST_TEST(x.node == "edge-1");
    BOOST_TEST(x.get("netflow_records_total") == 7u);
  }
  self->request(insp, 5s, ping_atom::value)
      .receive([](ping_atom) {}, [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->send_exit(b, caf::exit_reason::user_shutdown);
}
