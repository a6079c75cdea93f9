#define BOOST_TEST_MODULE detector_actor
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/all.hpp>

#include "actors/common/clock.hpp"
#include "actors/detector/detector_actor.hpp"
#include "messages/blackhole.hpp"
#include "messages/type_ids.hpp"
#include "temp_dir.hpp"

using namespace tidewatch;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct node_config : caf::actor_system_config {
  node_config() { register_message_types(*this); }
};

struct fixture {
  node_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  test::temp_dir dir{"tw-detector-actor"};
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// 200 SYN flows of 10 packets each to 192.0.2.1, all arriving now.
flow_batch syn_flood_batch() {
  flow_batch b;
  b.pipeline = "netflow";
  auto now = unix_now_us();
  for (uint32_t i = 0; i < 200; ++i) {
    flow_record r;
    r.src_addr = ip_address::from_v4(0x0a000000u + i);
    r.dst_addr = ip_address::from_v4(0xc0000201u);
    r.ip_version = 4;
    r.ip_protocol = 6;
    r.tcp_flags = 0x02;
    r.dst_port = 443;
    r.packets = 10;
    r.bytes = 600;
    r.received_us = now;
    r.scope = traffic_scope::inbound;
    b.records.push_back(r);
  }
  return b;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_flood_is_banned_acted_on_queried_and_unbanned, fixture) {
  auto script = dir.path / "notify.sh";
  auto calls = dir.path / "calls";
  std::ofstream(script) << "#!/bin/sh\necho \"$@\" >> " << calls.string() << "\ncat > /dev/null\n";
  ::chmod(script.c_str(), 0755);
  detector_actor_options o;
  o.pipeline = "netflow";
  o.settings.max_hosts = 1024;
  o.settings.limits = {{traffic_kind::all, rate_metric::packets, 1000}};
  o.settings.quiet_us = 300'000;
  o.settings.ban_us = 0;
  o.actions.details_directory = (dir.path / "attacks").string();
  o.actions.notify_script = script.string();
  o.actions.details_delay = 0ms;
  o.actions.blackhole_communities = {0xffff029au};
  o.tick_interval = 20ms;
  o.bgp_speaker = caf::actor_cast<caf::actor>(self);
  auto d = sys.spawn(detector, o);

  self->send(d, syn_flood_batch());
  self->receive([](ack_atom) {}, caf::after(5s) >> [] { BOOST_FAIL("no ack"); });
  self->receive(
      [](const blackhole_route& r) {
        BOOST_TEST(r.address.to_string() == "192.0.2.1");
        BOOST_TEST(r.announce);
        BOOST_TEST(r.communities == std::vector<uint32_t>{0xffff029au});
      },
      caf::after(5s) >> [] { BOOST_FAIL("no announcement"); });
  self->request(d, 5s, attacks_atom::value)
      .receive(
          [](const attack_list& list) {
            BOOST_REQUIRE_EQUAL(list.attacks.size(), 1u);
            BOOST_TEST(list.attacks[0].type == "syn_flood");
            BOOST_TEST(list.attacks[0].target == "192.0.2.1/32");
            BOOST_TEST(list.attacks[0].peak_pps == 2000u);
          },
          [](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  self->request(d, 5s, top_atom::value, std::string{"pps"}, std::string{"in"}, uint32_t{5})
      .receive(
          [](const top_hosts& top) {
            BOOST_TEST(top.hosts_tracked == 1u);
            BOOST_REQUIRE_EQUAL(top.hosts.size(), 1u);
            BOOST_TEST(top.hosts[0].address.to_string() == "192.0.2.1");
          },
          [](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });

  // Without more traffic the attack is over after the quiet time.
  self->receive(
      [](const blackhole_route& r) {
        BOOST_TEST(r.address.to_string() == "192.0.2.1");
        BOOST_TEST(!r.announce);
      },
      caf::after(5s) >> [] { BOOST_FAIL("no withdrawal"); });
  auto lines = [&] {
    auto text = read_file(calls);
    return std::count(text.begin(), text.end(), '\n');
  };
  for (int i = 0; i < 500 && lines() < 3; ++i)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(read_file(calls) == "192.0.2.1 incoming 2000 ban\n"
                                 "192.0.2.1 incoming 2000 attack_details\n"
                                 "192.0.2.1 incoming 2000 unban\n");
  auto details = read_file(dir.path / "attacks" / "attack-1-192.0.2.1_32.txt");
  BOOST_TEST(details.find("Type: syn_flood\n") != std::string::npos);
  BOOST_TEST(details.find("End: active\n") == std::string::npos);
  self->request(d, 5s, stats_atom::value)
      .receive(
          [](const stats_snapshot& s) {
            BOOST_TEST(s.stage == "detector");
            BOOST_TEST(s.get("detector_bans_total") == 1u);
            BOOST_TEST(s.get("detector_unbans_total") == 1u);
            BOOST_TEST(s.get("detector_blackhole_routes_sent_total") == 2u);
            BOOST_TEST(s.get("detector_attacks_total{type=\"syn_flood\"}") == 1u);
            BOOST_TEST(s.get("detector_attacks_active") == 0u);
            BOOST_TEST(s.get("detector_records_total") == 200u);
          },
          [](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  self->send_exit(d, caf::exit_reason::user_shutdown);
}
