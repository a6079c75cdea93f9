#define BOOST_TEST_MODULE bgp_session
#include <boost/test/unit_test.hpp>

#include "bgp/bgp_test_helpers.hpp"

#include "actors/bgp/bgp_session.hpp"

using namespace tidewatch;
using tidewatch::test::addr;

namespace {

bgp_session_settings settings() {
  bgp_session_settings s;
  s.local_as = 65000;
  s.router_id = 0x7f000001;
  s.remote_as = 4200000001;
  s.hold_time = 90;
  return s;
}

std::vector<uint8_t> peer_open(uint32_t as, uint16_t hold_time, bool add_path_send) {
  bgp_open o;
  o.as = as;
  o.hold_time = hold_time;
  o.router_id = 0x7f000002;
  o.four_octet_as = true;
  o.families = {true, true};
  o.any_family_capability = true;
  o.add_path = {uint8_t(add_path_send ? 2 : 0), 0};
  std::vector<uint8_t> wire;
  encode_open(o, wire);
  return wire;
}

std::vector<uint8_t> keepalive() {
  std::vector<uint8_t> wire;
  encode_keepalive(wire);
  return wire;
}

/// The type byte of each message in a byte stream.
std::vector<int> types(const std::vector<uint8_t>& wire) {
  std::vector<int> out;
  for (size_t pos = 0; pos + 19 <= wire.size(); pos += size_t(wire[pos + 16]) << 8 | wire[pos + 17])
    out.push_back(wire[pos + 18]);
  return out;
}

struct fixture {
  bgp_session session{settings(), addr("127.0.0.2")};
  std::vector<uint8_t> out;
  std::vector<bgp_route_batch> changes;

  bool feed(const std::vector<uint8_t>& wire, int64_t now_ms = 1000) {
    return session.receive(wire.data(), wire.size(), now_ms, out, changes);
  }

  void establish(bool add_path_send = false) {
    session.connected(0, out);
    BOOST_REQUIRE(feed(peer_open(4200000001, 30, add_path_send)));
    BOOST_REQUIRE(feed(keepalive()));
    BOOST_REQUIRE(to_string(session.state()) == std::string("established"));
    out.clear();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_passive_session_opens_confirms_and_is_established, fixture) {
  session.connected(0, out);
  BOOST_TEST(types(out) == std::vector<int>{1});
  BOOST_TEST(to_string(session.state()) == std::string(to_string(bgp_state::open_sent)));
  out.clear();
  // The peer's OPEN arrives one byte at a time.
  auto open = peer_open(4200000001, 30, false);
  for (size_t i = 0; i < open.size(); ++i)
    BOOST_REQUIRE(session.receive(&open[i], 1, 1000, out, changes));
  BOOST_TEST(types(out) == std::vector<int>{4});
  BOOST_TEST(to_string(session.state()) == std::string(to_string(bgp_state::open_confirm)));
  BOOST_TEST(session.hold_time() == 30);
  BOOST_TEST(feed(keepalive()));
  BOOST_TEST(to_string(session.state()) == std::string("established"));
  out.clear();
  BOOST_TEST(session.tick(10'999, out));
  BOOST_TEST(out.empty());
  BOOST_TEST(session.tick(11'000, out)); // a third of the hold time after our KEEPALIVE
  BOOST_TEST(types(out) == std::vector<int>{4});
}

BOOST_FIXTURE_TEST_CASE(a_neighbor_opening_with_the_wrong_as_gets_bad_peer_as, fixture) {
  session.connected(0, out);
  out.clear();
  BOOST_TEST(!feed(peer_open(65001, 30, false)));
  BOOST_TEST(types(out) == std::vector<int>{3});
  BOOST_TEST(out[19] == 2);
  BOOST_TEST(out[20] == 2);
  BOOST_TEST(session.last_error().code == 2);
  BOOST_TEST(!session.error_was_received());
  BOOST_TEST(to_string(session.state()) == std::string(to_string(bgp_state::idle)));
}

BOOST_FIXTURE_TEST_CASE(the_hold_timer_expiring_sends_its_notification, fixture) {
  establish();
  BOOST_TEST(session.tick(30'999, out));
  out.clear();
  BOOST_TEST(!session.tick(31'000, out));
  BOOST_TEST(types(out) == std::vector<int>{3});
  BOOST_TEST(out[19] == 4);
}

BOOST_FIXTURE_TEST_CASE(an_update_before_established_is_an_fsm_error, fixture) {
  session.connected(0, out);
  out.clear();
  std::vector<uint8_t> eor;
  encode_end_of_rib(bgp_family::ipv4, eor);
  BOOST_TEST(!feed(eor));
  BOOST_TEST(out[19] == 5);
}

BOOST_FIXTURE_TEST_CASE(updates_become_ordered_route_batches_with_path_identifiers, fixture) {
  establish(true);
  bgp_path_attributes a;
  a.origin = 0;
  a.segments = {uint16_t(2 << 8 | 1)};
  a.as_path = {64500};
  a.next_hop = addr("192.0.2.1");
  std::vector<bgp_route> routes = {{addr("203.0.113.0"), 24, 1, 0},
                                   {addr("203.0.113.0"), 24, 2, 0}};
  std::vector<uint8_t> wire;
  encode_update(routes, &a, true, wire);
  encode_update({routes[1]}, nullptr, true, wire);
  encode_end_of_rib(bgp_family::ipv4, wire);
  BOOST_TEST(feed(wire));
  BOOST_REQUIRE(changes.size() == 2u); // the withdrawal follows announcements: a new batch
  BOOST_TEST(changes[0].announced.size() == 2u);
  BOOST_TEST(changes[0].announced[1].path_id == 2u);
  BOOST_TEST((changes[0].attributes.at(0) == a));
  BOOST_TEST(changes[1].withdrawn.size() == 1u);
  BOOST_TEST(changes[1].withdrawn[0].path_id == 2u);
  BOOST_TEST((changes[1].neighbor == addr("127.0.0.2")));
  BOOST_TEST(session.updates_received() == 3u);
  BOOST_TEST(session.announcements_received() == 2u);
  BOOST_TEST(session.withdrawals_received() == 1u);
  BOOST_TEST(!session.end_of_rib_complete()); // IPv6 still to come
  wire.clear();
  encode_end_of_rib(bgp_family::ipv6, wire);
  BOOST_TEST(feed(wire));
  BOOST_TEST(session.end_of_rib_complete());
}

BOOST_FIXTURE_TEST_CASE(a_malformed_update_resets_only_with_a_notification, fixture) {
  establish();
  // UPDATE whose NLRI announces a /40 IPv4 prefix.
  std::vector<uint8_t> wire = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,    29,   2,    0,
                               0,    0,    0,    40,   1,    2,    3,    4,    5};
  BOOST_TEST(!feed(wire));
  BOOST_TEST(types(out) == std::vector<int>{3});
  BOOST_TEST(out[19] == 3);
  BOOST_TEST(out[20] == 10);
  BOOST_TEST(!session.tick(2000, out));
}

BOOST_FIXTURE_TEST_CASE(a_received_notification_ends_the_session, fixture) {
  establish();
  std::vector<uint8_t> wire;
  encode_notification(bgp_error{6, 2, {}}, wire);
  BOOST_TEST(!feed(wire));
  BOOST_TEST(out.empty());
  BOOST_TEST(session.error_was_received());
  BOOST_TEST(session.last_error().code == 6);
  BOOST_TEST(session.last_error().subcode == 2);
}

namespace {

/// A ROUTE-REFRESH (RFC 2918) for an AFI/SAFI; `subtype` is RFC 7313's.
std::vector<uint8_t> route_refresh(uint16_t afi, uint8_t safi, uint8_t subtype = 0) {
  std::vector<uint8_t> wire = {
      0xff,         0xff,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff,         0xff,    0xff, 0xff, 0xff, 0xff, 0,    23,   5,    uint8_t(afi >> 8),
      uint8_t(afi), subtype, safi};
  return wire;
}

/// Our blackhole route's attributes: AS path 65000, a community.
bgp_path_attributes blackhole_attributes(const char* next_hop) {
  bgp_path_attributes a;
  a.origin = 0;
  a.segments = {uint16_t(2 << 8 | 1)};
  a.as_path = {65000};
  a.next_hop = addr(next_hop);
  a.communities = {0xffff029a};
  return a;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_route_refresh_resends_the_routes_of_its_family_still_advertised,
                        fixture) {
  auto v4 = blackhole_attributes("192.0.2.1");
  auto v6 = blackhole_attributes("2001:db8::1");
  bgp_route kept{addr("198.51.100.7"), 32, 0, 0};
  bgp_route gone{addr("198.51.100.8"), 32, 0, 0};
  bgp_route kept6{addr("2001:db8:7::7"), 128, 0, 0};
  session.advertise(kept, &v4, out); // before Established: nothing
  BOOST_TEST(out.empty());
  establish();
  session.advertise(kept, &v4, out);
  session.advertise(gone, &v4, out);
  session.advertise(kept6, &v6, out);
  session.advertise(gone, nullptr, out);
  BOOST_TEST(types(out) == (std::vector<int>{2, 2, 2, 2}));
  std::vector<uint8_t> expected4;
  encode_update({kept}, &v4, false, expected4);
  std::vector<uint8_t> expected6;
  encode_update({kept6}, &v6, false, expected6);
  out.clear();
  BOOST_TEST(feed(route_refresh(1, 1)));
  BOOST_TEST(out == expected4);
  out.clear();
  BOOST_TEST(feed(route_refresh(2, 1)));
  BOOST_TEST(out == expected6);
  BOOST_TEST(session.route_refreshes_received() == 2u);
  BOOST_TEST(changes.empty());
}

BOOST_FIXTURE_TEST_CASE(route_refreshes_of_other_families_or_subtypes_are_counted_and_ignored,
                        fixture) {
  establish();
  auto v4 = blackhole_attributes("192.0.2.1");
  session.advertise({addr("198.51.100.7"), 32, 0, 0}, &v4, out);
  out.clear();
  BOOST_TEST(feed(route_refresh(1, 128)));  // IPv4 VPN
  BOOST_TEST(feed(route_refresh(25, 70)));  // EVPN
  BOOST_TEST(feed(route_refresh(1, 1, 1))); // RFC 7313 Beginning of Route Refresh
  BOOST_TEST(out.empty());
  BOOST_TEST(session.route_refreshes_received() == 3u);
  BOOST_TEST(to_string(session.state()) == std::string("established"));
}

BOOST_FIXTURE_TEST_CASE(a_route_refresh_before_established_is_an_fsm_error, fixture) {
  session.connected(0, out);
  out.clear();
  BOOST_TEST(!feed(route_refresh(1, 1)));
  BOOST_TEST(types(out) == std::vector<int>{3});
  BOOST_TEST(out[19] == 5);
  BOOST_TEST(session.route_refreshes_received() == 0u);
}
