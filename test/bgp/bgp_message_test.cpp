#define BOOST_TEST_MODULE bgp_message
#include <boost/test/unit_test.hpp>

#include "bgp/bgp_test_helpers.hpp"

#include <algorithm>
#include <initializer_list>

#include "actors/bgp/bgp_format.hpp"
#include "actors/bgp/bgp_message.hpp"
#include "actors/bgp/bgp_report.hpp"

using namespace tidewatch;
using tidewatch::test::addr;

namespace {

/// Builds an UPDATE body: withdrawn bytes, attribute bytes, NLRI bytes.
std::vector<uint8_t> update_body(const std::vector<uint8_t>& withdrawn,
                                 const std::vector<uint8_t>& attributes,
                                 const std::vector<uint8_t>& nlri) {
  std::vector<uint8_t> b;
  b.push_back(uint8_t(withdrawn.size() >> 8));
  b.push_back(uint8_t(withdrawn.size()));
  b.insert(b.end(), withdrawn.begin(), withdrawn.end());
  b.push_back(uint8_t(attributes.size() >> 8));
  b.push_back(uint8_t(attributes.size()));
  b.insert(b.end(), attributes.begin(), attributes.end());
  b.insert(b.end(), nlri.begin(), nlri.end());
  return b;
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

const std::vector<uint8_t> origin_igp = {0x40, 1, 1, 0};
const std::vector<uint8_t> next_hop_192_0_2_1 = {0x40, 3, 4, 192, 0, 2, 1};
// AS_PATH, 4-octet: sequence 64500 4200000001 15169
const std::vector<uint8_t> as_path4 = {0x40, 2,    14,   2,    3, 0, 0,    0xfb, 0xf4,
                                       0xfa, 0x56, 0xea, 0x01, 0, 0, 0x3b, 0x41};
const std::vector<uint8_t> nlri_203_0_113 = {24, 203, 0, 113};

bgp_update parse(const std::vector<uint8_t>& body, bool four_octet = true, bool add_path_v4 = false,
                 bool add_path_v6 = false) {
  bgp_update u;
  bgp_update_options o;
  o.four_octet_as = four_octet;
  o.add_path = {add_path_v4, add_path_v6};
  parse_update(body.data(), body.size(), o, u);
  return u;
}

} // namespace

BOOST_AUTO_TEST_CASE(an_open_with_every_capability_survives_encoding_and_decoding) {
  bgp_open open;
  open.as = 4200000001;
  open.hold_time = 90;
  open.router_id = 0x7f000002;
  open.four_octet_as = true;
  open.route_refresh = true;
  open.families = {true, true};
  open.any_family_capability = true;
  open.add_path = {1, 3};
  open.graceful_restart = true;
  open.restarting = true;
  open.restart_time = 120;
  open.restart_families = {true, false};
  std::vector<uint8_t> wire;
  encode_open(open, wire);
  bgp_header h;
  BOOST_REQUIRE(!parse_header(wire.data(), h));
  BOOST_TEST(int(h.type) == int(bgp_message_type::open));
  BOOST_TEST(h.length == wire.size());
  BOOST_TEST(wire[20] == 0x5b); // My AS is AS_TRANS (23456) for a 4-octet AS
  BOOST_TEST(wire[21] == 0xa0);
  bgp_open back;
  BOOST_REQUIRE(!parse_open(wire.data() + 19, wire.size() - 19, back));
  BOOST_TEST(back.as == 4200000001u);
  BOOST_TEST(back.hold_time == 90);
  BOOST_TEST(back.router_id == 0x7f000002u);
  BOOST_TEST(back.four_octet_as);
  BOOST_TEST(back.route_refresh);
  BOOST_TEST(back.families[0]);
  BOOST_TEST(back.families[1]);
  BOOST_TEST(back.add_path[0] == 1);
  BOOST_TEST(back.add_path[1] == 3);
  BOOST_TEST(back.graceful_restart);
  BOOST_TEST(back.restarting);
  BOOST_TEST(back.restart_time == 120);
  BOOST_TEST(back.restart_families[0]);
  BOOST_TEST(!back.restart_families[1]);
}

BOOST_AUTO_TEST_CASE(an_open_without_multiprotocol_capabilities_means_ipv4_only) {
  // version 4, AS 65001, hold 180, id 10.0.0.1, no parameters
  std::vector<uint8_t> body = {4, 0xfd, 0xe9, 0, 180, 10, 0, 0, 1, 0};
  bgp_open o;
  BOOST_REQUIRE(!parse_open(body.data(), body.size(), o));
  BOOST_TEST(o.as == 65001u);
  BOOST_TEST(o.families[0]);
  BOOST_TEST(!o.families[1]);
  BOOST_TEST(!o.four_octet_as);
}

BOOST_AUTO_TEST_CASE(bad_opens_and_headers_give_the_rfc_4271_notifications) {
  std::vector<uint8_t> body = {3, 0xfd, 0xe9, 0, 180, 10, 0, 0, 1, 0};
  bgp_open o;
  auto err = parse_open(body.data(), body.size(), o);
  BOOST_TEST(err.code == 2);
  BOOST_TEST(err.subcode == 1);
  body[0] = 4;
  body[4] = 2; // hold time 2 s is not allowed
  err = parse_open(body.data(), body.size(), o);
  BOOST_TEST(err.code == 2);
  BOOST_TEST(err.subcode == 6);
  std::vector<uint8_t> header(19, 0xff);
  header[16] = 0;
  header[17] = 20; // KEEPALIVE must be 19 bytes
  header[18] = 4;
  bgp_header h;
  err = parse_header(header.data(), h);
  BOOST_TEST(err.code == 1);
  BOOST_TEST(err.subcode == 2);
  header[0] = 0;
  err = parse_header(header.data(), h);
  BOOST_TEST(err.code == 1);
  BOOST_TEST(err.subcode == 1);
}

BOOST_AUTO_TEST_CASE(an_update_with_four_octet_path_communities_and_large_communities_is_exact) {
  std::vector<uint8_t> med = {0x80, 4, 4, 0, 0, 0, 10};
  std::vector<uint8_t> comms = {0xc0, 8, 8, 0xfd, 0xe9, 0, 100, 0xff, 0xff, 0xff, 0x01};
  std::vector<uint8_t> large = {0xc0, 32, 12, 0xfa, 0x56, 0xea, 0x01, 0, 0, 0, 1, 0, 0, 0, 2};
  std::vector<uint8_t> ext = {0xc0, 16, 8, 0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100};
  auto u = parse(update_body(
      {}, cat({origin_igp, as_path4, next_hop_192_0_2_1, med, comms, ext, large}), nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::apply));
  BOOST_REQUIRE(u.announced.size() == 1u);
  BOOST_TEST(u.announced[0].network.to_string() == "203.0.113.0");
  BOOST_TEST(u.announced[0].length == 24);
  const auto& a = u.attributes;
  BOOST_TEST(a.origin == 0);
  BOOST_TEST(format_as_path(a) == "64500_4200000001_15169");
  BOOST_TEST(origin_as(a) == 15169u);
  BOOST_TEST(peer_as(a) == 64500u);
  BOOST_TEST(a.next_hop.to_string() == "192.0.2.1");
  BOOST_TEST(a.med == 10u);
  BOOST_TEST(a.flags == bgp_path_attributes::has_med);
  BOOST_TEST(format_communities(a) == "65001:100_no-export");
  BOOST_TEST(format_extended_communities(a) == "RT:65000:100");
  BOOST_TEST(format_large_communities(a) == "4200000001:1:2");
  BOOST_TEST(u.withdrawn.empty());
}

BOOST_AUTO_TEST_CASE(a_two_octet_path_is_merged_with_as4_path) {
  // AS_PATH 65001 23456 23456, AS4_PATH 4200000001 4200000002
  std::vector<uint8_t> as_path2 = {0x40, 2, 8, 2, 3, 0xfd, 0xe9, 0x5b, 0xa0, 0x5b, 0xa0};
  std::vector<uint8_t> as4 = {0xc0, 17, 10, 2, 2, 0xfa, 0x56, 0xea, 0x01, 0xfa, 0x56, 0xea, 0x02};
  auto u = parse(
      update_body({}, cat({origin_igp, as_path2, next_hop_192_0_2_1, as4}), nlri_203_0_113), false);
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::apply));
  BOOST_TEST(format_as_path(u.attributes) == "65001_4200000001_4200000002");
  BOOST_TEST(origin_as(u.attributes) == 4200000002u);
  // An AS4_PATH longer than AS_PATH is ignored.
  std::vector<uint8_t> short_path = {0x40, 2, 4, 2, 1, 0xfd, 0xe9};
  u = parse(update_body({}, cat({origin_igp, short_path, next_hop_192_0_2_1, as4}), nlri_203_0_113),
            false);
  BOOST_TEST(format_as_path(u.attributes) == "65001");
}

BOOST_AUTO_TEST_CASE(mp_reach_carries_ipv6_routes_with_path_identifiers) {
  std::vector<uint8_t> mp = {0x80, 14, 0, 0, 2,  1,    16,   0x20, 0x01, 0x0d, 0xb8, 0,
                             0,    0,  0, 0, 0,  0,    0,    0,    0,    0,    1,    0,
                             0,    0,  0, 7, 48, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00};
  mp[2] = uint8_t(mp.size() - 3);
  auto u = parse(update_body({}, cat({origin_igp, as_path4, mp}), {}), true, false, true);
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::apply));
  BOOST_REQUIRE(u.announced.size() == 1u);
  BOOST_TEST(u.announced[0].network.to_string() == "2001:db8:100::");
  BOOST_TEST(u.announced[0].length == 48);
  BOOST_TEST(u.announced[0].path_id == 7u);
  BOOST_TEST(u.attributes.next_hop.to_string() == "2001:db8::1");
}

BOOST_AUTO_TEST_CASE(route_affecting_errors_turn_announcements_into_withdrawals) {
  std::vector<uint8_t> bad_origin = {0x40, 1, 1, 3};
  auto u = parse(update_body({}, cat({bad_origin, as_path4, next_hop_192_0_2_1}), nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::treat_as_withdraw));
  BOOST_TEST(u.announced.empty());
  BOOST_REQUIRE(u.withdrawn.size() == 1u);
  BOOST_TEST(u.withdrawn[0].length == 24);
  // Missing NEXT_HOP.
  u = parse(update_body({}, cat({origin_igp, as_path4}), nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::treat_as_withdraw));
  // Communities not a multiple of 4.
  std::vector<uint8_t> comms = {0xc0, 8, 3, 1, 2, 3};
  u = parse(
      update_body({}, cat({origin_igp, as_path4, next_hop_192_0_2_1, comms}), nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::treat_as_withdraw));
  // An attribute running past the attribute section.
  std::vector<uint8_t> overrun = {0xc0, 32, 40, 0, 0};
  u = parse(
      update_body({}, cat({origin_igp, as_path4, next_hop_192_0_2_1, overrun}), nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::treat_as_withdraw));
  BOOST_TEST(u.withdrawn.size() == 1u);
}

BOOST_AUTO_TEST_CASE(harmless_bad_attributes_are_discarded_and_the_routes_kept) {
  std::vector<uint8_t> bad_aggregator = {0xc0, 7, 3, 1, 2, 3};
  std::vector<uint8_t> bad_atomic = {0x40, 6, 1, 0};
  auto u = parse(update_body(
      {}, cat({origin_igp, as_path4, next_hop_192_0_2_1, bad_atomic, bad_aggregator, origin_igp}),
      nlri_203_0_113));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::apply));
  BOOST_TEST(u.discarded == 3u); // aggregator, atomic aggregate, the duplicate ORIGIN
  BOOST_TEST(u.announced.size() == 1u);
}

BOOST_AUTO_TEST_CASE(updates_whose_prefixes_cannot_be_read_reset_the_session) {
  auto u =
      parse(update_body({}, cat({origin_igp, as_path4, next_hop_192_0_2_1}), {33, 1, 2, 3, 4, 5}));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::session_reset));
  BOOST_TEST(u.error.code == 3);
  BOOST_TEST(u.error.subcode == 10);
  std::vector<uint8_t> unreach = {0x80, 15, 3, 0, 2, 1};
  u = parse(update_body({}, cat({unreach, unreach}), {}));
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::session_reset));
  BOOST_TEST(u.error.subcode == 1);
  std::vector<uint8_t> unknown_well_known = {0x40, 99, 1, 0};
  u = parse(update_body({}, cat({origin_igp, unknown_well_known}), {}));
  BOOST_TEST(u.error.subcode == 2);
  std::vector<uint8_t> truncated = {0, 10, 24};
  u = parse(truncated);
  BOOST_TEST(int(u.outcome) == int(bgp_update_outcome::session_reset));
}

BOOST_AUTO_TEST_CASE(end_of_rib_markers_are_recognised_for_both_families) {
  std::vector<uint8_t> wire;
  encode_end_of_rib(bgp_family::ipv4, wire);
  auto u = parse(std::vector<uint8_t>(wire.begin() + 19, wire.end()));
  BOOST_TEST(u.end_of_rib);
  BOOST_TEST(int(u.end_of_rib_family) == 0);
  wire.clear();
  encode_end_of_rib(bgp_family::ipv6, wire);
  u = parse(std::vector<uint8_t>(wire.begin() + 19, wire.end()));
  BOOST_TEST(u.end_of_rib);
  BOOST_TEST(int(u.end_of_rib_family) == 1);
}

BOOST_AUTO_TEST_CASE(encoded_blackhole_updates_decode_to_the_same_routes) {
  bgp_path_attributes a;
  a.origin = 0;
  a.segments = {uint16_t(2 << 8 | 1)};
  a.as_path = {65000};
  a.next_hop = addr("192.0.2.66");
  a.communities = {0xffff029a};
  std::vector<bgp_route> routes = {{addr("198.51.100.7"), 32, 0, 0}};
  std::vector<uint8_t> wire;
  encode_update(routes, &a, false, wire);
  auto u = parse(std::vector<uint8_t>(wire.begin() + 19, wire.end()));
  BOOST_REQUIRE(u.announced.size() == 1u);
  BOOST_TEST(u.announced[0].network.to_string() == "198.51.100.7");
  BOOST_TEST(u.announced[0].length == 32);
  BOOST_TEST(format_communities(u.attributes) == "65535:666");
  BOOST_TEST((u.attributes == a));
  a.next_hop = addr("2001:db8::66");
  routes = {{addr("2001:db8:1::7"), 128, 0, 0}};
  wire.clear();
  encode_update(routes, &a, false, wire);
  u = parse(std::vector<uint8_t>(wire.begin() + 19, wire.end()));
  BOOST_REQUIRE(u.announced.size() == 1u);
  BOOST_TEST(u.announced[0].network.to_string() == "2001:db8:1::7");
  BOOST_TEST((u.attributes == a));
  wire.clear();
  encode_update(routes, nullptr, false, wire);
  u = parse(std::vector<uint8_t>(wire.begin() + 19, wire.end()));
  BOOST_REQUIRE(u.withdrawn.size() == 1u);
  BOOST_TEST(u.withdrawn[0].length == 128);
}

BOOST_AUTO_TEST_CASE(as_sets_and_confederations_render_as_nfacctd_does) {
  bgp_path_attributes a;
  a.segments = {uint16_t(3 << 8 | 2), uint16_t(2 << 8 | 2), uint16_t(1 << 8 | 2),
                uint16_t(4 << 8 | 1)};
  a.as_path = {65010, 65011, 64500, 64501, 64502, 64503, 65012};
  BOOST_TEST(format_as_path(a) == "(65010_65011)_64500_64501_{64502,64503}_[65012]");
  BOOST_TEST(peer_as(a) == 64500u);
  BOOST_TEST(origin_as(a) == 64502u);
}

BOOST_AUTO_TEST_CASE(extended_communities_render_route_targets_and_origins) {
  bgp_path_attributes a;
  a.extended_communities = {0x0002fde800000064ull, 0x0103c00002010007ull, 0x0202fa56ea010001ull,
                            0x8000000000000001ull};
  BOOST_TEST(format_extended_communities(a) ==
             "RT:65000:100_SoO:192.0.2.1:7_RT:4200000001:1_0x8000000000000001");
}

BOOST_AUTO_TEST_CASE(neighbors_and_routes_render_as_tables_and_json) {
  bgp_neighbor_status n;
  n.address = addr("127.0.0.2");
  n.remote_as = 4200000001;
  n.router_id = 0x7f000002;
  n.state = "established";
  n.established_us = 1'000'000;
  n.prefixes = 3;
  n.updates_received = 4;
  n.withdrawals_received = 1;
  n.route_refreshes_received = 2;
  BOOST_TEST(render_neighbors_json({n}, 3'662'000'000) ==
             "[{\"neighbor\":\"127.0.0.2\",\"remote_as\":4200000001,\"router_id\":\"127.0.0.2\","
             "\"state\":\"established\",\"uptime\":3661,\"prefixes\":3,\"updates\":4,"
             "\"withdrawals\":1,\"refreshes\":2}]");
  auto table = render_neighbors_table({n}, 3'662'000'000);
  BOOST_TEST(table.find("1h01m01s") != std::string::npos);
  BOOST_TEST(std::count(table.begin(), table.end(), '\n') == 2);
  BOOST_TEST(format_uptime(93784) == "1d02h03m04s");
  bgp_route_report r;
  BOOST_TEST(render_route_report_json(r) == "{\"found\":false}");
  r.found = true;
  r.neighbor = addr("127.0.0.2");
  r.network = addr("203.0.113.0");
  r.length = 24;
  r.attributes.origin = 0;
  r.attributes.segments = {uint16_t(2 << 8 | 2)};
  r.attributes.as_path = {64500, 15169};
  r.attributes.next_hop = addr("192.0.2.1");
  r.attributes.flags = bgp_path_attributes::has_med;
  r.attributes.med = 10;
  r.attributes.communities = {0xfde90064};
  BOOST_TEST(render_route_report_json(r) ==
             "{\"found\":true,\"neighbor\":\"127.0.0.2\",\"prefix\":\"203.0.113.0/24\","
             "\"path_id\":0,\"as_path\":\"64500_15169\",\"as_origin\":15169,\"peer_as\":64500,"
             "\"origin\":\"igp\",\"next_hop\":\"192.0.2.1\",\"med\":10,\"comms\":\"65001:100\","
             "\"ecomms\":\"\",\"lcomms\":\"\"}");
  BOOST_TEST(render_route_report(r).find("as_path:    64500_15169\n") != std::string::npos);
}
