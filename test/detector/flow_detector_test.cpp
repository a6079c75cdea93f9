#define BOOST_TEST_MODULE flow_detector
#include <boost/test/unit_test.hpp>

#include <set>

#include "actors/detector/flow_detector.hpp"
#include "addresses.hpp"

using namespace tidewatch;
using tidewatch::test::addr;
using tidewatch::test::prefix;

namespace {

constexpr int64_t second = 1'000'000;
constexpr int64_t ms = 1'000;

/// An enriched record as the detector receives it.
flow_record flow(const ip_address& src, const ip_address& dst, uint8_t protocol, int64_t at_us,
                 uint64_t packets, uint64_t bytes, traffic_scope scope = traffic_scope::inbound) {
  flow_record r;
  r.src_addr = src;
  r.dst_addr = dst;
  r.ip_version = 4;
  r.ip_protocol = protocol;
  r.received_us = at_us;
  r.packets = packets;
  r.bytes = bytes;
  r.scope = scope;
  return r;
}

flow_batch batch_of(std::vector<flow_record> records) {
  flow_batch b;
  b.pipeline = "netflow";
  b.records = std::move(records);
  return b;
}

detector_settings settings_with(std::vector<rate_limit> limits) {
  detector_settings s;
  s.limits = std::move(limits);
  s.max_hosts = 1024;
  return s;
}

/// Feeds records one per batch and returns the events with the time each appeared.
std::vector<std::pair<int64_t, attack_event>> feed(flow_detector& d,
                                                   const std::vector<flow_record>& records) {
  std::vector<std::pair<int64_t, attack_event>> out;
  std::vector<attack_event> events;
  for (auto& r : records) {
    d.add(batch_of({r}), r.received_us, events);
    for (auto& e : events)
      out.emplace_back(r.received_us, std::move(e));
    events.clear();
  }
  return out;
}

/// The detector's counters.
stats_snapshot snapshot_of(const flow_detector& d) {
  stats_snapshot snap;
  d.collect(snap.counters);
  return snap;
}

/// `count` SYN flows of `packets` packets each, one per `step_us` from `start_us`,
/// from distinct sources in 10.0.0.0/8.
std::vector<flow_record> syn_flood(const ip_address& target, int64_t start_us, int64_t step_us,
                                   size_t count, uint64_t packets) {
  std::vector<flow_record> xs;
  for (size_t i = 0; i < count; ++i) {
    auto r = flow(ip_address::from_v4(0x0a000000u + uint32_t(i)), target, 6,
                  start_us + int64_t(i) * step_us, packets, packets * 60);
    r.tcp_flags = 0x02;
    r.src_port = uint16_t(1024 + i);
    r.dst_port = 80;
    xs.push_back(r);
  }
  return xs;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_syn_flood_from_many_sources_is_banned_once_its_rate_crosses_the_threshold) {
  flow_detector d{settings_with({{traffic_kind::tcp_syn, rate_metric::packets, 1000}})};
  auto victim = addr("192.0.2.1");
  // 10 packets per ms: 10 000 pps, ten times the threshold.
  auto events = feed(d, syn_flood(victim, 100 * second, ms, 300, 10));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  auto& [at, ev] = events.front();
  BOOST_TEST(at == 100 * second + 99 * ms); // the 100th flow brings 1000 packets
  BOOST_TEST((ev.kind == attack_event_kind::ban));
  auto& r = ev.report;
  BOOST_TEST(r.id == 1u);
  BOOST_TEST(r.address.to_string() == victim.to_string());
  BOOST_TEST(r.target == "192.0.2.1/32");
  BOOST_TEST(r.incoming);
  BOOST_TEST(!r.group_attack);
  BOOST_TEST(r.type == "syn_flood");
  BOOST_TEST(r.share_permille == 1000u);
  BOOST_TEST(r.threshold == "syn_pps 1000");
  BOOST_TEST(r.start_us == 100 * second + 99 * ms);
  BOOST_TEST(r.current_pps == 1000u);
  BOOST_TEST(r.records == 100u);
  BOOST_TEST(r.packets == 1000u);
  BOOST_TEST(r.bytes == 60000u);
  BOOST_REQUIRE_EQUAL(r.protocols.size(), 1u);
  BOOST_TEST(r.protocols[0].key == "tcp");
  BOOST_REQUIRE_EQUAL(r.tcp_flags.size(), 1u);
  BOOST_TEST(r.tcp_flags[0].key == "SYN");
  BOOST_TEST(r.tcp_flags[0].packets == 1000u);
  BOOST_REQUIRE_EQUAL(r.dst_ports.size(), 1u);
  BOOST_TEST(r.dst_ports[0].key == "80");
  BOOST_TEST(r.src_addresses.size() == 10u);
  BOOST_TEST(r.src_addresses[0].packets == 10u);
  BOOST_REQUIRE_EQUAL(r.packet_sizes.size(), 1u);
  BOOST_TEST(r.packet_sizes[0].key == "<64");
  BOOST_TEST(r.flow_sample.size() == 10u);
  BOOST_TEST(r.flow_sample[0] == "10.0.0.0:1024 > 192.0.2.1:80 tcp SYN 10 pkts 600 bytes");
  BOOST_TEST(r.bpf == "dst host 192.0.2.1 and tcp and dst port 80 and tcp[tcpflags] & "
                      "(tcp-syn|tcp-ack) == tcp-syn");
  BOOST_TEST(r.flowspec ==
             "destination 192.0.2.1/32; protocol =6; destination-port =80; tcp-flags =syn");
  BOOST_TEST(d.active_attacks() == 1u);
}

BOOST_AUTO_TEST_CASE(an_attack_at_twice_the_threshold_is_found_half_a_bucket_after_it_starts) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  // Starts in the middle of a bucket: 2 packets per ms, 2000 pps.
  auto events = feed(d, syn_flood(addr("192.0.2.1"), 100 * second + 500 * ms, ms, 1000, 2));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 100 * second + 999 * ms);
}

BOOST_AUTO_TEST_CASE(an_attack_at_twenty_times_the_threshold_is_found_within_a_twentieth_bucket) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  auto events = feed(d, syn_flood(addr("192.0.2.1"), 100 * second + 700 * ms, ms, 1000, 20));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 100 * second + 749 * ms);
}

BOOST_AUTO_TEST_CASE(steady_traffic_below_the_threshold_across_buckets_is_never_banned) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  // 9 packets every 10 ms: 900 pps for five seconds, crossing four bucket boundaries.
  auto events = feed(d, syn_flood(addr("192.0.2.1"), 100 * second + 300 * ms, 10 * ms, 500, 9));
  BOOST_TEST(events.empty());
  // 900 * 0.71 of the previous bucket plus 270 of this one.
  auto top = d.top(rate_metric::packets, true, 10, 105 * second + 290 * ms);
  BOOST_REQUIRE_EQUAL(top.hosts.size(), 1u);
  BOOST_TEST(top.hosts[0].pps_in == 909u);
}

BOOST_AUTO_TEST_CASE(a_long_flow_counts_with_its_average_rate_not_its_volume) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1001}})};
  // One download reported once after 60 s: 60 000 packets, 1000 pps on average.
  auto r = flow(addr("203.0.113.5"), addr("192.0.2.1"), 6, 100 * second, 60'000, 90'000'000);
  r.flow_start_us = 40 * second;
  r.flow_end_us = 100 * second;
  r.tcp_flags = 0x1a;
  BOOST_TEST(feed(d, {r}).empty());
  auto top = d.top(rate_metric::bits, true, 10, 100 * second);
  BOOST_REQUIRE_EQUAL(top.hosts.size(), 1u);
  BOOST_TEST(top.hosts[0].pps_in == 1000u);
  BOOST_TEST(top.hosts[0].bps_in == 12'000'000u);
  BOOST_TEST(top.hosts[0].flows_in == 1u);
  // A two-packet SYN flow of 5 s still shows as one SYN packet.
  flow_detector syn{settings_with({{traffic_kind::tcp_syn, rate_metric::packets, 1}})};
  auto small = flow(addr("203.0.113.5"), addr("192.0.2.1"), 6, 100 * second, 2, 120);
  small.flow_start_us = 95 * second;
  small.flow_end_us = 100 * second;
  small.tcp_flags = 0x02;
  auto events = feed(syn, {small});
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].second.report.type == "syn_flood");
  BOOST_TEST(events[0].second.report.packets == 1u);
  BOOST_TEST(events[0].second.report.bytes == 24u);
}

BOOST_AUTO_TEST_CASE(a_fast_download_over_the_bandwidth_threshold_is_not_an_attack) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::bits, 100'000'000}})};
  // Two flows of half a second each: 720 Mbit within the window.
  std::vector<flow_record> xs;
  for (int i = 0; i < 2; ++i)
    xs.push_back(
        flow(addr("203.0.113.5"), addr("192.0.2.1"), 6, 100 * second + i * ms, 30'000, 45'000'000));
  BOOST_TEST(feed(d, xs).empty());
  auto top = d.top(rate_metric::bits, true, 10, 100 * second + 1 * ms);
  BOOST_REQUIRE_EQUAL(top.hosts.size(), 1u);
  BOOST_TEST(top.hosts[0].bps_in == 720'000'000u);
  BOOST_TEST(top.hosts[0].flows_in == 2u);
  // Ten flows per second make the same bandwidth an attack.
  std::vector<flow_record> many;
  for (int i = 0; i < 10; ++i)
    many.push_back(flow(ip_address::from_v4(0xcb007100u + uint32_t(i)), addr("192.0.2.2"), 17,
                        100 * second + i * ms, 1'000, 1'500'000));
  auto events = feed(d, many);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 100 * second + 9 * ms);
  BOOST_TEST(events[0].second.report.threshold == "mbps 100");
}

BOOST_AUTO_TEST_CASE(ntp_replies_from_many_reflectors_are_classified_as_amplification) {
  flow_detector d{settings_with({{traffic_kind::udp, rate_metric::bits, 10'000'000}})};
  std::vector<flow_record> xs;
  for (int i = 0; i < 400; ++i) {
    auto r = flow(ip_address::from_v4(0xcb007100u + uint32_t(i % 50)), addr("192.0.2.7"), 17,
                  100 * second + i * ms, 10, 4680);
    r.src_port = 123;
    r.dst_port = uint16_t(40000 + i);
    r.src_as = 64500 + uint32_t(i % 2);
    r.src_country = country_code('D', 'E');
    xs.push_back(r);
  }
  auto events = feed(d, xs);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  // 10 Mbit = 1 250 000 bytes = 267.1 flows of 4680 bytes: the 268th.
  BOOST_TEST(events[0].first == 100 * second + 267 * ms);
  auto& r = events[0].second.report;
  BOOST_TEST(r.type == "amplification");
  BOOST_TEST(r.service == "ntp");
  BOOST_TEST(r.share_permille == 1000u);
  BOOST_TEST(r.threshold == "udp_mbps 10");
  BOOST_REQUIRE_EQUAL(r.src_ports.size(), 1u);
  BOOST_TEST(r.src_ports[0].key == "123");
  BOOST_TEST(r.src_ports[0].packets == 2680u);
  BOOST_REQUIRE_EQUAL(r.src_asns.size(), 2u);
  BOOST_TEST(r.src_asns[0].key == "64500");
  BOOST_TEST(r.src_asns[0].packets == 1340u);
  BOOST_REQUIRE_EQUAL(r.src_countries.size(), 1u);
  BOOST_TEST(r.src_countries[0].key == "DE");
  BOOST_TEST(r.src_addresses.size() == 10u);
  BOOST_REQUIRE_EQUAL(r.packet_sizes.size(), 1u);
  BOOST_TEST(r.packet_sizes[0].key == "256-511");
  BOOST_TEST(r.bpf == "dst host 192.0.2.7 and udp and src port 123");
  BOOST_TEST(r.flowspec == "destination 192.0.2.7/32; protocol =17; source-port =123");
}

BOOST_AUTO_TEST_CASE(icmp_and_fragment_floods_get_their_types) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 500}})};
  std::vector<flow_record> xs;
  for (int i = 0; i < 100; ++i) {
    xs.push_back(flow(ip_address::from_v4(0x0a000000u + uint32_t(i)), addr("192.0.2.1"), 1,
                      100 * second + i * ms, 10, 840));
    auto frag = flow(ip_address::from_v4(0x0a000000u + uint32_t(i)), addr("192.0.2.2"), 17,
                     100 * second + i * ms, 10, 14800);
    frag.is_fragment = true;
    frag.dst_port = uint16_t(i);
    frag.src_port = uint16_t(5000 + i);
    xs.push_back(frag);
  }
  auto events = feed(d, xs);
  BOOST_REQUIRE_EQUAL(events.size(), 2u);
  BOOST_TEST(events[0].second.report.type == "icmp_flood");
  BOOST_TEST(events[0].second.report.bpf == "dst host 192.0.2.1 and icmp");
  BOOST_TEST(events[1].second.report.type == "fragment_flood");
  BOOST_TEST(events[1].second.report.share_permille == 1000u);
  BOOST_TEST(events[1].second.report.bpf ==
             "dst host 192.0.2.2 and udp and (ip[6:2] & 0x3fff != 0)");
  BOOST_TEST(events[1].second.report.flowspec ==
             "destination 192.0.2.2/32; protocol =17; fragment is-fragment");
}

BOOST_AUTO_TEST_CASE(carpet_bombing_over_a_24_is_found_by_the_hostgroup_total) {
  auto s = settings_with({{traffic_kind::all, rate_metric::packets, 1000}});
  s.hostgroups.push_back({"customers",
                          {prefix("198.51.100.0/24")},
                          {},
                          {{traffic_kind::udp, rate_metric::packets, 20'000}}});
  flow_detector d{s};
  std::vector<flow_record> xs;
  // 100 packets per ms spread over all 256 hosts: 100 000 pps in total,
  // about 390 pps per host.
  for (int i = 0; i < 1000; ++i) {
    auto r = flow(ip_address::from_v4(0xcb007100u + uint32_t(i % 7)),
                  ip_address::from_v4(0xc6336400u + uint32_t(i % 256)), 17, 100 * second + i * ms,
                  100, 100 * 1400);
    r.src_port = 53;
    r.dst_port = uint16_t(1024 + i);
    xs.push_back(r);
  }
  auto events = feed(d, xs);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 100 * second + 199 * ms);
  auto& r = events[0].second.report;
  BOOST_TEST(r.group_attack);
  BOOST_TEST(r.hostgroup == "customers");
  BOOST_TEST(r.target == "198.51.100.0/24");
  BOOST_TEST(r.type == "amplification");
  BOOST_TEST(r.service == "dns");
  BOOST_TEST(r.bpf == "dst net 198.51.100.0/24 and udp and src port 53");
  BOOST_TEST(r.flowspec == "destination 198.51.100.0/24; protocol =17; source-port =53");
  BOOST_TEST(d.hosts_tracked() == 256u);
}

BOOST_AUTO_TEST_CASE(a_whitelisted_host_is_never_banned) {
  auto s = settings_with({{traffic_kind::all, rate_metric::packets, 1000}});
  s.whitelist = {prefix("192.0.2.0/28")};
  flow_detector d{s};
  BOOST_TEST(feed(d, syn_flood(addr("192.0.2.1"), 100 * second, ms, 300, 10)).empty());
  BOOST_TEST(feed(d, syn_flood(addr("192.0.2.17"), 100 * second, ms, 300, 10)).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_minimum_of_two_windows_waits_for_the_second_bucket) {
  auto s = settings_with({{traffic_kind::all, rate_metric::packets, 1000}});
  s.min_windows = 2;
  flow_detector d{s};
  auto events = feed(d, syn_flood(addr("192.0.2.1"), 100 * second, ms, 3000, 10));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 101 * second);
}

BOOST_AUTO_TEST_CASE(an_attack_ends_after_the_quiet_time_and_not_before_the_ban_time) {
  auto s = settings_with({{traffic_kind::all, rate_metric::packets, 1000}});
  s.quiet_us = 2 * second;
  s.ban_us = 5 * second;
  flow_detector d{s};
  auto banned = feed(d, syn_flood(addr("192.0.2.1"), 100 * second, ms, 1000, 10));
  BOOST_REQUIRE_EQUAL(banned.size(), 1u);
  std::vector<attack_event> events;
  d.tick(100 * second + 999 * ms, events);
  BOOST_TEST(events.empty());
  auto list = d.attacks();
  BOOST_REQUIRE_EQUAL(list.attacks.size(), 1u);
  BOOST_TEST(list.attacks[0].peak_pps == 10'000u);
  BOOST_TEST(list.attacks[0].last_over_us == 100 * second + 999 * ms);
  BOOST_TEST(list.attacks[0].end_us == 0);
  d.tick(103 * second + 500 * ms, events); // quiet long enough, banned too short
  BOOST_TEST(events.empty());
  d.tick(105 * second + 99 * ms, events);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST((events[0].kind == attack_event_kind::unban));
  BOOST_TEST(events[0].report.end_us == 105 * second + 99 * ms);
  BOOST_TEST(events[0].report.records == 1000u);
  BOOST_TEST(d.active_attacks() == 0u);
  list = d.attacks();
  BOOST_REQUIRE_EQUAL(list.attacks.size(), 1u);
  BOOST_TEST(list.attacks[0].end_us == 105 * second + 99 * ms);
  // A new flood is a new attack.
  BOOST_TEST(feed(d, syn_flood(addr("192.0.2.1"), 110 * second, ms, 200, 10)).size() == 1u);
  BOOST_TEST(d.attacks().attacks[0].id == 2u);
}

BOOST_AUTO_TEST_CASE(a_host_near_its_threshold_in_the_bucket_before_is_banned_at_the_crossing) {
  // Records below a host's thresholds skip the check while they fit its
  // headroom; the record that crosses must still be the one that bans.
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  auto victim = addr("192.0.2.1");
  BOOST_TEST(feed(d, syn_flood(victim, 100 * second, 100 * ms, 9, 100)).empty());
  // 20 packets per 10 ms from 101 s: 900 * (1 - e) + 20 * (j + 1) first
  // reaches 1000 at the ninth record (j = 8: 828 + 180).
  auto events = feed(d, syn_flood(victim, 101 * second, 10 * ms, 20, 20));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 101 * second + 80 * ms);
  BOOST_TEST(events[0].second.report.threshold == "pps 1000");
}

BOOST_AUTO_TEST_CASE(the_counts_of_one_direction_and_kind_age_with_records_of_others) {
  flow_detector d{settings_with({{traffic_kind::icmp, rate_metric::packets, 100}})};
  auto host = addr("192.0.2.1");
  auto other = addr("203.0.113.1");
  auto out = [&](int64_t at, uint64_t packets) {
    return flow(host, other, 6, at, packets, packets * 100, traffic_scope::outbound);
  };
  auto events = feed(d, {flow(other, host, 6, 100 * second, 300, 30000),
                         flow(other, host, 1, 100 * second, 90, 9000), out(101 * second, 40)});
  BOOST_TEST(events.empty());
  // Half a bucket on, half of the incoming 390 packets still count.
  auto top_in = d.top(rate_metric::packets, true, 1, 101 * second + 500 * ms);
  BOOST_REQUIRE_EQUAL(top_in.hosts.size(), 1u);
  BOOST_TEST(top_in.hosts[0].pps_in == 195u);
  BOOST_TEST(top_in.hosts[0].pps_out == 40u);
  // Records of other kinds move the window on: at 103 s the 90 ICMP packets
  // of bucket 100 (the parity of the previous bucket) are gone, so 95 more
  // are under the ICMP threshold and only 10 more cross it.
  events = feed(d, {out(103 * second, 10), flow(other, host, 6, 103 * second, 1, 100),
                    flow(other, host, 1, 103 * second + 10 * ms, 95, 9500),
                    flow(other, host, 1, 103 * second + 20 * ms, 10, 1000)});
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 103 * second + 20 * ms);
  BOOST_TEST(events[0].second.report.threshold == "icmp_pps 100");
  auto later = d.top(rate_metric::packets, false, 1, 103 * second + 500 * ms);
  BOOST_REQUIRE_EQUAL(later.hosts.size(), 1u);
  BOOST_TEST(later.hosts[0].pps_out == 10u); // bucket 102 had none
  BOOST_TEST(later.hosts[0].pps_in == 106u);
}

BOOST_AUTO_TEST_CASE(an_attack_sent_by_our_host_is_found_as_outgoing) {
  flow_detector d{settings_with({{traffic_kind::udp, rate_metric::packets, 1000}})};
  std::vector<flow_record> xs;
  for (int i = 0; i < 200; ++i)
    xs.push_back(flow(addr("192.0.2.9"), ip_address::from_v4(0x0a000000u + uint32_t(i)), 17,
                      100 * second + i * ms, 10, 1000, traffic_scope::outbound));
  auto events = feed(d, xs);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(!events[0].second.report.incoming);
  BOOST_TEST(events[0].second.report.type == "udp_flood");
  BOOST_TEST(events[0].second.report.bpf.starts_with("src host 192.0.2.9 and udp"));
}

BOOST_AUTO_TEST_CASE(idle_hosts_expire_and_records_not_ours_are_counted) {
  auto s = settings_with({});
  s.host_idle_us = 10 * second;
  flow_detector d{s};
  std::vector<attack_event> events;
  d.add(batch_of({flow(addr("203.0.113.1"), addr("192.0.2.1"), 6, 100 * second, 1, 60),
                  flow(addr("203.0.113.1"), addr("203.0.113.2"), 6, 100 * second, 1, 60,
                       traffic_scope::external)}),
        0, events);
  BOOST_TEST(d.hosts_tracked() == 1u);
  d.tick(105 * second, events);
  BOOST_TEST(d.hosts_tracked() == 1u);
  d.tick(111 * second, events);
  BOOST_TEST(d.hosts_tracked() == 0u);
  auto snap = snapshot_of(d);
  BOOST_TEST(snap.get("detector_records_total") == 2u);
  BOOST_TEST(snap.get("detector_records_not_ours_total") == 1u);
  BOOST_TEST(snap.get("detector_hosts_expired_total") == 1u);
  BOOST_TEST(snap.get("detector_bytes_per_host") == d.bytes_per_host());
}

BOOST_AUTO_TEST_CASE(top_lists_the_busiest_hosts_first) {
  flow_detector d{settings_with({})};
  std::vector<attack_event> events;
  d.add(batch_of({flow(addr("203.0.113.1"), addr("192.0.2.1"), 6, 100 * second, 100, 6000),
                  flow(addr("203.0.113.1"), addr("192.0.2.2"), 6, 100 * second, 300, 6000),
                  flow(addr("203.0.113.1"), addr("192.0.2.3"), 6, 100 * second, 200, 6000),
                  flow(addr("192.0.2.3"), addr("203.0.113.1"), 6, 100 * second, 50, 6000,
                       traffic_scope::outbound)}),
        0, events);
  auto top = d.top(rate_metric::packets, true, 2, 100 * second + 500 * ms);
  BOOST_TEST(top.hosts_tracked == 3u);
  BOOST_REQUIRE_EQUAL(top.hosts.size(), 2u);
  BOOST_TEST(top.hosts[0].address.to_string() == addr("192.0.2.2").to_string());
  BOOST_TEST(top.hosts[0].pps_in == 300u);
  BOOST_TEST(top.hosts[1].address.to_string() == addr("192.0.2.3").to_string());
  BOOST_TEST(top.hosts[1].pps_in == 200u);
  BOOST_TEST(top.hosts[1].pps_out == 50u);
  auto out = d.top(rate_metric::packets, false, 5, 100 * second + 500 * ms);
  BOOST_REQUIRE_EQUAL(out.hosts.size(), 1u);
  BOOST_TEST(out.direction == "out");
  // Half a bucket later, half of the previous bucket still counts.
  auto later = d.top(rate_metric::packets, true, 1, 101 * second + 500 * ms);
  BOOST_TEST(later.hosts[0].pps_in == 150u);
}

BOOST_AUTO_TEST_CASE(a_large_batch_counts_every_scope_as_records_one_at_a_time_do) {
  // add() looks hosts up a window of records ahead: a batch over many
  // windows, with records that count for one host, two (internal) or none,
  // and more hosts than the table holds, must count exactly as single records.
  auto s = settings_with({});
  s.max_hosts = 100;
  flow_detector whole{s};
  flow_detector single{s};
  const traffic_scope scopes[] = {traffic_scope::inbound, traffic_scope::outbound,
                                  traffic_scope::internal, traffic_scope::external};
  std::vector<flow_record> xs;
  // The hosts the table takes: the first 100 looked up (destination, then
  // source), and the packets counted for them incoming and not tracked.
  std::set<std::string> tracked;
  uint64_t packets_in = 0;
  uint64_t lookups_refused = 0;
  auto look_up = [&](const ip_address& a) {
    if (tracked.size() < 100)
      tracked.insert(a.to_string());
    bool found = tracked.count(a.to_string()) != 0;
    lookups_refused += !found;
    return found;
  };
  for (uint32_t i = 0; i < 1000; ++i) {
    auto scope = scopes[i % 4];
    auto ours = ip_address::from_v4(0xc0000200u + i % 150);
    auto other = ip_address::from_v4(0xcb007100u + i % 7);
    bool out = scope == traffic_scope::outbound;
    auto r =
        flow(out ? ours : other, out ? other : ours, 17, 100 * second + i, 1 + i % 5, 100, scope);
    xs.push_back(r);
    if (scope == traffic_scope::inbound || scope == traffic_scope::internal)
      if (look_up(r.dst_addr))
        packets_in += r.packets;
    if (scope == traffic_scope::outbound || scope == traffic_scope::internal)
      look_up(r.src_addr);
  }
  std::vector<attack_event> events;
  whole.add(batch_of(xs), 0, events);
  feed(single, xs);
  auto now = 100 * second + 500 * ms;
  auto top_in = whole.top(rate_metric::packets, true, 200, now);
  BOOST_TEST(top_in.hosts_tracked == 100u);
  BOOST_TEST((top_in == single.top(rate_metric::packets, true, 200, now)));
  BOOST_TEST((whole.top(rate_metric::flows, false, 200, now) ==
              single.top(rate_metric::flows, false, 200, now)));
  uint64_t counted_in = 0;
  for (auto& h : top_in.hosts)
    counted_in += h.pps_in;
  BOOST_TEST(counted_in == packets_in);
  auto snap = snapshot_of(whole);
  BOOST_TEST(snap.get("detector_records_total") == 1000u);
  BOOST_TEST(snap.get("detector_records_not_ours_total") == 250u);
  BOOST_TEST(snap.get("detector_hosts_not_tracked_total") == lookups_refused);
}

BOOST_AUTO_TEST_CASE(the_host_table_finds_erases_and_refuses_hosts_beyond_its_capacity) {
  host_table t{1000};
  bool fresh = false;
  for (uint32_t i = 0; i < 1000; ++i) {
    BOOST_REQUIRE(t.find_or_insert(ip_address::from_v4(i * 7919), fresh) == i);
    BOOST_REQUIRE(fresh);
  }
  BOOST_TEST(t.find_or_insert(ip_address::from_v4(1), fresh) == host_table::npos);
  BOOST_TEST(t.find_or_insert(ip_address::from_v4(7919), fresh) == 1u);
  BOOST_TEST(!fresh);
  // Each host's windows move with its lines when erasing fills a hole.
  for (size_t i = 0; i < t.size(); ++i)
    t.windows(i)[1].bucket = int64_t(t.address(i).v4_host_order());
  auto removed = t.remove_if([](const host_lines& lines, const host_windows&) {
    return lines[0].address.v4_host_order() % 3 == 0;
  });
  BOOST_TEST(removed == 334u);
  BOOST_TEST(t.size() == 666u);
  for (uint32_t i = 0; i < 1000; ++i) {
    auto at = t.find(ip_address::from_v4(i * 7919));
    BOOST_TEST((at != host_table::npos) == ((i * 7919) % 3 != 0));
    if (at != host_table::npos) {
      BOOST_TEST(t.address(at).to_string() == ip_address::from_v4(i * 7919).to_string());
      BOOST_TEST(t.lines(at)[1].address.to_string() == t.address(at).to_string());
      BOOST_TEST(t.windows(at)[1].bucket == int64_t(i * 7919));
    }
  }
  BOOST_TEST(t.bytes_per_host() == sizeof(host_lines) + sizeof(host_windows) + 2048 * 4 / 1000);
}

BOOST_AUTO_TEST_CASE(a_host_table_of_a_power_of_two_capacity_finds_the_host_in_its_last_place) {
  // Position + 1 of the last host is 1024: one bit more than 1023 needs,
  // which the index slots must keep apart from the fingerprint.
  host_table t{1024};
  bool fresh = false;
  for (uint32_t i = 0; i < 1024; ++i)
    BOOST_REQUIRE(t.find_or_insert(ip_address::from_v4(0x0a000000u + i), fresh) == i);
  BOOST_TEST(t.address(1023).to_string() == "10.0.3.255");
  BOOST_TEST(t.find(ip_address::from_v4(0x0a0003ffu)) == 1023u);
  BOOST_TEST(t.remove_if([](const host_lines& lines, const host_windows&) {
    return lines[0].address.v4_host_order() < 0x0a000200u;
  }) == 512u);
  size_t found = 0;
  for (uint32_t i = 0; i < 1024; ++i) {
    auto at = t.find(ip_address::from_v4(0x0a000000u + i));
    found += at != host_table::npos && t.address(at).v4_host_order() == 0x0a000000u + i;
  }
  BOOST_TEST(found == 512u);
  BOOST_TEST(t.bytes_per_host() == sizeof(host_lines) + sizeof(host_windows) + 2048 * 4 / 1024);
}

BOOST_AUTO_TEST_CASE(a_rate_under_the_old_threshold_bans_at_its_next_record_after_a_lower_one) {
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  auto victim = addr("192.0.2.1");
  // 6 packets per 10 ms: 600 pps, for 1.5 s.
  auto flood = syn_flood(victim, 100 * second, 10 * ms, 200, 6);
  std::vector<flow_record> before(flood.begin(), flood.begin() + 150);
  std::vector<flow_record> after(flood.begin() + 150, flood.end());
  BOOST_TEST(feed(d, before).empty());
  d.reconfigure(settings_with({{traffic_kind::all, rate_metric::packets, 500}}));
  BOOST_TEST(d.hosts_tracked() == 1u);
  auto events = feed(d, after);
  // The host's counters stayed: its first record after the swap bans it (a
  // fresh window would need 500 packets, 0.83 s, first).
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  auto& [at, ev] = events.front();
  BOOST_TEST(at == 101 * second + 500 * ms);
  BOOST_TEST((ev.kind == attack_event_kind::ban));
  BOOST_TEST(ev.report.threshold == "pps 500");
  BOOST_TEST(ev.report.current_pps == 606u); // 600 pps and the record that crossed
}

BOOST_AUTO_TEST_CASE(an_attack_under_a_raised_threshold_goes_on_and_ends_by_the_end_after_rule) {
  auto settings = settings_with({{traffic_kind::all, rate_metric::packets, 1000}});
  settings.quiet_us = 2 * second;
  settings.ban_us = 0;
  flow_detector d{settings};
  auto victim = addr("192.0.2.1");
  // 20 packets per 10 ms: 2000 pps for 3 s.
  auto flood = syn_flood(victim, 100 * second, 10 * ms, 300, 20);
  std::vector<flow_record> before(flood.begin(), flood.begin() + 100);
  std::vector<flow_record> after(flood.begin() + 100, flood.end());
  auto bans = feed(d, before);
  BOOST_REQUIRE_EQUAL(bans.size(), 1u);
  settings.limits = {{traffic_kind::all, rate_metric::packets, 5000}};
  d.reconfigure(settings);
  BOOST_TEST(feed(d, after).empty());
  BOOST_TEST(d.active_attacks() == 1u);
  // The last record over the old threshold came at 100.99 s.
  std::vector<attack_event> events;
  d.tick(102 * second + 990 * ms - 1, events);
  BOOST_TEST(events.empty());
  d.tick(102 * second + 990 * ms, events);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST((events[0].kind == attack_event_kind::unban));
  BOOST_TEST(events[0].report.id == bans[0].second.report.id);
  BOOST_TEST(events[0].report.end_us == 102 * second + 990 * ms);
  BOOST_TEST(d.active_attacks() == 0u);
}

BOOST_AUTO_TEST_CASE(records_below_the_headroom_count_exactly_past_its_16_and_8_bit_caps) {
  // Records the headroom takes are pending on the host's line until a record
  // it does not take settles them; the headroom is capped at 65535 packets
  // and 255 flows, so 1000 records of 100 packets settle several times.
  flow_detector d{settings_with({})};
  std::vector<flow_record> xs;
  for (int i = 0; i < 1000; ++i) {
    auto r = flow(addr("203.0.113.1"), addr("192.0.2.1"), i % 3 == 0 ? 1 : 6,
                  100 * second + i * 100, 100, 6000);
    r.tcp_flags = i % 3 == 1 ? 0x02 : 0x10;
    xs.push_back(r);
  }
  std::vector<attack_event> events;
  d.add(batch_of(xs), 0, events);
  auto top = d.top(rate_metric::packets, true, 1, 100 * second + 500 * ms);
  BOOST_REQUIRE_EQUAL(top.hosts.size(), 1u);
  BOOST_TEST(top.hosts[0].pps_in == 100'000u);
  BOOST_TEST(top.hosts[0].flows_in == 1000u);
  BOOST_TEST(top.hosts[0].bps_in == 48'000'000u);
  // The next bucket settles them into the previous one: half of it counts.
  feed(d, {flow(addr("203.0.113.1"), addr("192.0.2.1"), 6, 101 * second, 10, 600)});
  top = d.top(rate_metric::packets, true, 1, 101 * second + 500 * ms);
  BOOST_TEST(top.hosts[0].pps_in == 50'010u);
  BOOST_TEST(top.hosts[0].flows_in == 501u);
}

BOOST_AUTO_TEST_CASE(a_syn_flood_after_mixed_traffic_the_headroom_took_is_banned_and_classified) {
  // UDP, ICMP and TCP records below every threshold are taken by the
  // headroom (pending per kind); the SYN records that follow cross syn_pps
  // at the exact record, and the classification sees every kind's packets.
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 100'000},
                                 {traffic_kind::tcp_syn, rate_metric::packets, 2000}})};
  auto victim = addr("192.0.2.7");
  std::vector<flow_record> xs;
  int64_t at = 100 * second;
  auto add = [&](int n, uint8_t protocol, uint8_t flags, uint64_t packets) {
    for (int i = 0; i < n; ++i) {
      auto r = flow(ip_address::from_v4(0xcb007100u + uint32_t(xs.size())), victim, protocol,
                    at += ms, packets, packets * 60);
      r.tcp_flags = flags;
      xs.push_back(r);
    }
  };
  add(40, 17, 0, 10);   // 400 UDP packets
  add(30, 1, 0, 10);    // 300 ICMP
  add(20, 6, 0x10, 10); // 200 TCP, ACK
  add(25, 6, 0x02, 100);
  auto events = feed(d, xs);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  // The 20th SYN record brings SYN packets to 2000.
  BOOST_TEST(events[0].first == 100 * second + 110 * ms);
  auto& r = events[0].second.report;
  BOOST_TEST(r.threshold == "syn_pps 2000");
  BOOST_TEST(r.type == "syn_flood");
  BOOST_TEST(r.share_permille == 689u); // 2000 of 2900 packets
  BOOST_TEST(r.current_pps == 2900u);
  BOOST_TEST(r.current_flows == 110u);
}

BOOST_AUTO_TEST_CASE(an_attack_beginning_mid_bucket_is_found_a_bucket_over_k_after_it_begins) {
  // 1.1 times the threshold from 100.2 s on. The previous bucket counts as
  // uniform from its first record (100.2 s), so its 880 packets are all in
  // the window until 101.2 s, and the crossing comes at 101.1 s, 1 / 1.1 s
  // after the attack began; taken as uniform over its whole second, the
  // same bucket would have delayed it to 101.55 s.
  flow_detector d{settings_with({{traffic_kind::all, rate_metric::packets, 1000}})};
  auto events = feed(d, syn_flood(addr("192.0.2.1"), 100 * second + 200 * ms, 10 * ms, 200, 11));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].first == 101 * second + 100 * ms);
}

BOOST_AUTO_TEST_CASE(a_bucket_counts_as_uniform_from_its_first_record_when_read_back) {
  // 100 packets between 100.6 and 100.7 s: all of them were in the last
  // second at 101.3 s, and half of the 0.4 s they count over at 101.8 s.
  flow_detector d{settings_with({})};
  std::vector<flow_record> xs;
  for (int i = 0; i < 10; ++i)
    xs.push_back(flow(addr("203.0.113.1"), addr("192.0.2.1"), 17, 100 * second + 600 * ms + i * ms,
                      10, 1000));
  feed(d, xs);
  BOOST_TEST(d.top(rate_metric::packets, true, 1, 101 * second + 300 * ms).hosts[0].pps_in == 100u);
  BOOST_TEST(d.top(rate_metric::packets, true, 1, 101 * second + 800 * ms).hosts[0].pps_in == 50u);
  BOOST_TEST(d.top(rate_metric::bits, true, 1, 101 * second + 800 * ms).hosts[0].bps_in == 40'000u);
}
