#define BOOST_TEST_MODULE sflow_decoder
#include <boost/test/unit_test.hpp>

#include "actors/decoder/sflow_decoder.hpp"
#include "decoder/netflow_packets.hpp"

using namespace tidewatch;
using tidewatch::test::addr;
using tidewatch::test::from;
using tidewatch::test::packet;

namespace {

// -- datagram builders (sFlow v5 XDR: every value a big-endian 32-bit word) --

/// A record or sample: format word, length word, body.
packet wrap(uint32_t format, const packet& body) {
  packet p;
  p.u32(format).u32(body.b.size()).append(body);
  return p;
}

packet datagram(const char* agent, uint32_t sub_agent, uint32_t sequence,
                std::initializer_list<packet> samples) {
  packet p;
  ip_address a = addr(agent);
  p.u32(5);
  if (a.is_v4())
    p.u32(1).v4(agent);
  else
    p.u32(2).v6(agent);
  p.u32(sub_agent).u32(sequence).u32(123'456).u32(samples.size());
  for (auto& s : samples)
    p.append(s);
  return p;
}

struct flow_sample_fields {
  uint32_t sequence = 1;
  uint32_t source_type = 0;
  uint32_t source_index = 7;
  uint32_t rate = 1000;
  uint32_t pool = 64'000;
  uint32_t drops = 0;
  uint32_t input = 3;
  uint32_t output = 4;
};

packet compact_flow_sample(const flow_sample_fields& f, std::initializer_list<packet> records) {
  packet body;
  body.u32(f.sequence)
      .u32(f.source_type << 24 | f.source_index)
      .u32(f.rate)
      .u32(f.pool)
      .u32(f.drops)
      .u32(f.input)
      .u32(f.output)
      .u32(records.size());
  for (auto& r : records)
    body.append(r);
  return wrap(1, body);
}

packet raw_header(uint32_t protocol, uint32_t frame_length, const packet& header) {
  packet body;
  body.u32(protocol).u32(frame_length).u32(4).u32(header.b.size()).append(header);
  body.zeros((4 - header.b.size() % 4) % 4);
  return wrap(1, body);
}

packet ethernet(uint16_t type) {
  packet p;
  p.mac(0x00000c9f0001).mac(0x0050568a0102).u16(type);
  return p;
}

/// IPv4 header without options; fragment is the flags + offset word.
packet ipv4(uint8_t protocol, const char* src, const char* dst, uint16_t fragment = 0,
            uint8_t tos = 0) {
  packet p;
  p.u8(0x45).u8(tos).u16(60).u16(0x1234).u16(fragment).u8(64).u8(protocol).u16(0).v4(src).v4(dst);
  return p;
}

packet ipv6(uint8_t next, const char* src, const char* dst, uint8_t traffic_class = 0) {
  packet p;
  p.u32(uint32_t(6) << 28 | uint32_t(traffic_class) << 20).u16(40).u8(next).u8(64).v6(src).v6(dst);
  return p;
}

packet tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
  packet p;
  p.u16(sport).u16(dport).u32(1).u32(0).u8(0x50).u8(flags).u16(1024).u32(0);
  return p;
}

packet udp(uint16_t sport, uint16_t dport) {
  packet p;
  p.u16(sport).u16(dport).u16(8).u16(0);
  return p;
}

struct decoded {
  sflow_decoder decoder;
  std::vector<flow_record> records;
  size_t appended = 0;

  explicit decoded(const packet& p, sflow_decoder_options opts = {}) : decoder(opts) { add(p); }
  void add(const packet& p) {
    appended = decoder.decode(p.b.data(), p.b.size(), from("192.0.2.200"), records);
  }
};

uint64_t counter(const sflow_decoder& d, const std::string& name) {
  std::vector<counter_value> all;
  d.collect(all);
  for (const auto& c : all)
    if (c.name == name)
      return c.value;
  BOOST_FAIL("no counter " + name);
  return 0;
}

/// One flow sample holding `header` as an Ethernet raw header record.
flow_record one_record(const packet& header, uint32_t protocol = 1) {
  decoded d(
      datagram("10.1.1.1", 0, 1, {compact_flow_sample({}, {raw_header(protocol, 1514, header)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  return d.records[0];
}

} // namespace

// -- datagram header and flow samples --------------------------------------------------

BOOST_AUTO_TEST_CASE(a_compact_flow_sample_with_an_ethernet_ipv4_tcp_header_becomes_one_record) {
  flow_sample_fields f;
  f.rate = 2048;
  f.pool = 4'096'000;
  auto header = ethernet(0x0800)
                    .append(ipv4(6, "10.0.0.1", "10.0.0.2", 0, 0x28))
                    .append(tcp(40000, 443, 0x12));
  decoded d(datagram("192.0.2.1", 3, 1, {compact_flow_sample(f, {raw_header(1, 1514, header)})}));
  BOOST_TEST(d.appended == 1u);
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  const auto& r = d.records[0];
  BOOST_TEST(r.exporter == addr("192.0.2.1"));
  BOOST_TEST(r.observation_domain == 3u);
  BOOST_TEST(r.received_us == 1'700'000'000'500'000);
  BOOST_TEST(r.protocol_version == export_protocol::sflow_v5);
  BOOST_TEST(r.bytes == 1514u);
  BOOST_TEST(r.packets == 1u);
  BOOST_TEST(r.sampling_rate == 2048u);
  BOOST_TEST(r.sample_pool == 4'096'000u);
  BOOST_TEST(r.input_interface == 3u);
  BOOST_TEST(r.output_interface == 4u);
  BOOST_TEST(r.input_interface_format == 0);
  BOOST_TEST(r.dst_mac == 0x00000c9f0001u);
  BOOST_TEST(r.src_mac == 0x0050568a0102u);
  BOOST_TEST(r.ip_version == 4);
  BOOST_TEST(r.src_addr == addr("10.0.0.1"));
  BOOST_TEST(r.dst_addr == addr("10.0.0.2"));
  BOOST_TEST(r.ip_protocol == 6);
  BOOST_TEST(r.src_port == 40000);
  BOOST_TEST(r.dst_port == 443);
  BOOST_TEST(r.tcp_flags == 0x12);
  BOOST_TEST(r.tos == 0x28);
  BOOST_TEST(r.is_fragment == false);
  BOOST_TEST(r.src_vlan == 0);
  BOOST_TEST(d.decoder.flow_samples() == 1u);
  BOOST_TEST(d.decoder.trailing_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(an_ipv6_agent_address_is_read_and_the_samples_after_it_decoded) {
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(53, 1053));
  decoded d(datagram("2001:db8::1", 9, 1, {compact_flow_sample({}, {raw_header(1, 90, header)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].exporter == addr("2001:db8::1"));
  BOOST_TEST(d.records[0].observation_domain == 9u);
  BOOST_TEST(d.records[0].src_port == 53);
  BOOST_TEST(d.records[0].dst_port == 1053);
  BOOST_TEST(d.records[0].bytes == 90u);
}

BOOST_AUTO_TEST_CASE(an_expanded_flow_sample_splits_source_and_interfaces_into_words) {
  packet body;
  body.u32(1)          // sequence
      .u32(0)          // source ID type
      .u32(0x01234567) // source ID index, wider than 24 bits
      .u32(512)        // rate
      .u32(99)         // pool
      .u32(0)          // drops
      .u32(0)          // input format: ifIndex
      .u32(0x40000001) // input value, wider than 30 bits
      .u32(2)          // output format: multiple
      .u32(5)          // output value: 5 interfaces
      .u32(1)
      .append(raw_header(1, 64, ethernet(0x0800).append(ipv4(1, "10.0.0.1", "10.0.0.2"))));
  decoded d(datagram("192.0.2.1", 0, 1, {wrap(3, body)}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  const auto& r = d.records[0];
  BOOST_TEST(r.sampling_rate == 512u);
  BOOST_TEST(r.sample_pool == 99u);
  BOOST_TEST(r.input_interface == 0x40000001u);
  BOOST_TEST(r.input_interface_format == 0);
  BOOST_TEST(r.output_interface == 5u);
  BOOST_TEST(r.output_interface_format == 2);
  BOOST_TEST(counter(d.decoder, "sflow_sources") == 1u);
}

BOOST_AUTO_TEST_CASE(compact_interface_words_carry_their_format_in_the_top_two_bits) {
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  flow_sample_fields dropped;
  dropped.input = 0x3fffffff;        // the device itself
  dropped.output = 0x40000000 | 259; // discarded: reason 259 (ACL)
  flow_sample_fields multiple;
  multiple.sequence = 2;
  multiple.input = 12;
  multiple.output = 0x80000000; // multiple interfaces, count unknown
  decoded d(datagram("192.0.2.1", 0, 1,
                     {compact_flow_sample(dropped, {raw_header(1, 60, header)}),
                      compact_flow_sample(multiple, {raw_header(1, 60, header)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 2u);
  BOOST_TEST(d.records[0].input_interface == 0x3fffffffu);
  BOOST_TEST(d.records[0].input_interface_format == 0);
  BOOST_TEST(d.records[0].output_interface == 259u);
  BOOST_TEST(d.records[0].output_interface_format == 1);
  BOOST_TEST(d.records[1].input_interface == 12u);
  BOOST_TEST(d.records[1].output_interface == 0u);
  BOOST_TEST(d.records[1].output_interface_format == 2);
}

// -- raw packet headers -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_8021q_tag_gives_the_vlan_and_priority) {
  auto header = ethernet(0x8100);
  header.u16(uint16_t(5) << 13 | 100)
      .u16(0x0800)
      .append(ipv4(6, "10.0.0.1", "10.0.0.2"))
      .append(tcp(1, 2, 0x02));
  auto r = one_record(header);
  BOOST_TEST(r.src_vlan == 100);
  BOOST_TEST(r.src_priority == 5);
  BOOST_TEST(r.inner_vlan == 0);
  BOOST_TEST(r.src_addr == addr("10.0.0.1"));
  BOOST_TEST(r.tcp_flags == 0x02);
}

BOOST_AUTO_TEST_CASE(qinq_tags_give_the_outer_vlan_and_the_inner_one) {
  auto header = ethernet(0x88a8);
  header.u16(200)
      .u16(0x8100)
      .u16(uint16_t(3) << 13 | 30)
      .u16(0x86dd)
      .append(ipv6(17, "2001:db8::1", "2001:db8::2"))
      .append(udp(5000, 6000));
  auto r = one_record(header);
  BOOST_TEST(r.src_vlan == 200);
  BOOST_TEST(r.src_priority == 0);
  BOOST_TEST(r.inner_vlan == 30);
  BOOST_TEST(r.ip_version == 6);
  BOOST_TEST(r.src_port == 5000);
}

BOOST_AUTO_TEST_CASE(an_mpls_label_stack_is_walked_to_the_ip_header_under_it) {
  auto header = ethernet(0x8847);
  header.u32(uint32_t(1000) << 12 | 64)
      .u32(uint32_t(2000) << 12 | 0x100 | 64)
      .append(ipv4(17, "10.9.9.9", "10.8.8.8"))
      .append(udp(123, 456));
  auto r = one_record(header);
  BOOST_TEST(r.mpls_top_label == 1000u);
  BOOST_TEST(r.src_addr == addr("10.9.9.9"));
  BOOST_TEST(r.dst_port == 456);
}

BOOST_AUTO_TEST_CASE(an_mpls_stack_without_bottom_of_stack_within_the_header_finds_no_ip) {
  auto header = ethernet(0x8847);
  header.u32(uint32_t(1000) << 12).u32(uint32_t(2000) << 12);
  decoded d(datagram("10.1.1.1", 0, 1, {compact_flow_sample({}, {raw_header(1, 100, header)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].ip_version == 0);
  BOOST_TEST(d.records[0].bytes == 100u);
  BOOST_TEST(counter(d.decoder, "sflow_unparsed_headers_total") == 1u);
}

BOOST_AUTO_TEST_CASE(an_ipv4_first_fragment_is_flagged_and_keeps_its_ports) {
  auto r = one_record(
      ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2", 0x2000)).append(udp(7, 8)));
  BOOST_TEST(r.is_fragment == true);
  BOOST_TEST(r.src_port == 7);
  BOOST_TEST(r.dst_port == 8);
}

BOOST_AUTO_TEST_CASE(a_later_ipv4_fragment_is_flagged_and_has_no_ports) {
  auto r =
      one_record(ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2", 185)).append(udp(7, 8)));
  BOOST_TEST(r.is_fragment == true);
  BOOST_TEST(r.ip_protocol == 17);
  BOOST_TEST(r.src_port == 0);
  BOOST_TEST(r.dst_port == 0);
}

BOOST_AUTO_TEST_CASE(icmp_leaves_the_ports_zero_as_sfacctd_does) {
  packet icmp;
  icmp.u8(8).u8(0).u16(0).u32(0);
  auto r = one_record(ethernet(0x0800).append(ipv4(1, "10.0.0.1", "10.0.0.2")).append(icmp));
  BOOST_TEST(r.ip_protocol == 1);
  BOOST_TEST(r.src_port == 0);
  BOOST_TEST(r.dst_port == 0);
}

BOOST_AUTO_TEST_CASE(ipv6_extension_headers_are_walked_to_the_transport_header) {
  packet header = ethernet(0x86dd).append(ipv6(0, "2001:db8::1", "2001:db8::2", 0xb8));
  header.u8(60).u8(0).zeros(6);           // hop-by-hop, 8 bytes, next: destination options
  header.u8(44).u8(1).zeros(14);          // destination options, 16 bytes, next: fragment
  header.u8(58).u8(0).u16(0x0001).u32(7); // fragment: offset 0, M set, next: ICMPv6
  header.u8(128).u8(0).u16(0).u32(0);     // echo request
  auto r = one_record(header);
  BOOST_TEST(r.ip_version == 6);
  BOOST_TEST(r.tos == 0xb8);
  BOOST_TEST(r.ip_protocol == 58);
  BOOST_TEST(r.is_fragment == true);
  BOOST_TEST(r.dst_port == 0);
  BOOST_TEST(r.src_addr == addr("2001:db8::1"));
}

BOOST_AUTO_TEST_CASE(a_later_ipv6_fragment_names_its_protocol_but_has_no_ports) {
  packet header = ethernet(0x86dd).append(ipv6(44, "2001:db8::1", "2001:db8::2"));
  header.u8(6).u8(0).u16(0x00a8).u32(7); // fragment offset 21 (x8 bytes), next: TCP
  header.append(tcp(1, 2, 0x10));
  auto r = one_record(header);
  BOOST_TEST(r.ip_protocol == 6);
  BOOST_TEST(r.is_fragment == true);
  BOOST_TEST(r.src_port == 0);
}

BOOST_AUTO_TEST_CASE(an_authentication_header_is_skipped_by_its_own_length_unit) {
  packet header = ethernet(0x86dd).append(ipv6(51, "2001:db8::1", "2001:db8::2"));
  header.u8(17).u8(4).u16(0).zeros(20); // AH: (4 + 2) * 4 = 24 bytes
  header.append(udp(500, 4500));
  auto r = one_record(header);
  BOOST_TEST(r.ip_protocol == 17);
  BOOST_TEST(r.src_port == 500);
  BOOST_TEST(r.dst_port == 4500);
}

BOOST_AUTO_TEST_CASE(header_protocols_11_and_12_start_at_the_ip_header) {
  auto v4 = one_record(ipv4(6, "10.0.0.1", "10.0.0.2").append(tcp(80, 8080, 0x11)), 11);
  BOOST_TEST(v4.src_addr == addr("10.0.0.1"));
  BOOST_TEST(v4.src_port == 80);
  BOOST_TEST(v4.src_mac == 0u);
  auto v6 = one_record(ipv6(17, "2001:db8::5", "2001:db8::6").append(udp(1, 2)), 12);
  BOOST_TEST(v6.dst_addr == addr("2001:db8::6"));
  BOOST_TEST(v6.dst_port == 2);
}

BOOST_AUTO_TEST_CASE(a_header_cut_inside_tcp_keeps_the_ports_it_has) {
  packet header = ethernet(0x0800).append(ipv4(6, "10.0.0.1", "10.0.0.2"));
  header.u16(1234).u16(80).u16(0); // 6 bytes of TCP
  auto r = one_record(header);
  BOOST_TEST(r.src_port == 1234);
  BOOST_TEST(r.dst_port == 80);
  BOOST_TEST(r.tcp_flags == 0);
}

BOOST_AUTO_TEST_CASE(a_header_of_another_protocol_still_gives_a_record_with_its_frame_length) {
  auto r = one_record(ipv4(6, "10.0.0.1", "10.0.0.2"), 7); // 7: FDDI
  BOOST_TEST(r.ip_version == 0);
  BOOST_TEST(r.bytes == 1514u);
  BOOST_TEST(r.packets == 1u);
}

// -- other flow records -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sampled_ipv4_and_ipv6_records_fill_the_flow_key) {
  packet v4;
  v4.u32(1400).u32(6).v4("10.1.0.1").v4("10.2.0.2").u32(1111).u32(2222).u32(0x18).u32(0x20);
  packet v6;
  v6.u32(1300).u32(17).v6("2001:db8::a").v6("2001:db8::b").u32(3333).u32(4444).u32(0).u32(0x40);
  flow_sample_fields second;
  second.sequence = 2;
  decoded d(datagram(
      "192.0.2.1", 0, 1,
      {compact_flow_sample({}, {wrap(3, v4)}), compact_flow_sample(second, {wrap(4, v6)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 2u);
  BOOST_TEST(d.records[0].bytes == 1400u);
  BOOST_TEST(d.records[0].ip_version == 4);
  BOOST_TEST(d.records[0].ip_protocol == 6);
  BOOST_TEST(d.records[0].src_addr == addr("10.1.0.1"));
  BOOST_TEST(d.records[0].dst_addr == addr("10.2.0.2"));
  BOOST_TEST(d.records[0].src_port == 1111);
  BOOST_TEST(d.records[0].dst_port == 2222);
  BOOST_TEST(d.records[0].tcp_flags == 0x18);
  BOOST_TEST(d.records[0].tos == 0x20);
  BOOST_TEST(d.records[1].bytes == 1300u);
  BOOST_TEST(d.records[1].ip_version == 6);
  BOOST_TEST(d.records[1].src_addr == addr("2001:db8::a"));
  BOOST_TEST(d.records[1].dst_port == 4444);
  BOOST_TEST(d.records[1].tos == 0x40);
}

BOOST_AUTO_TEST_CASE(a_raw_header_takes_precedence_over_a_sampled_ipv4_record) {
  packet v4;
  v4.u32(1400).u32(6).v4("10.1.0.1").v4("10.2.0.2").u32(1111).u32(2222).u32(0).u32(0);
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  decoded d(datagram("192.0.2.1", 0, 1,
                     {compact_flow_sample({}, {raw_header(1, 60, header), wrap(3, v4)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(d.records[0].bytes == 60u);
}

BOOST_AUTO_TEST_CASE(an_ethernet_frame_record_gives_length_and_macs) {
  packet eth;
  eth.u32(1518).mac(0x020000000001).u16(0).mac(0x020000000002).u16(0).u32(0x0800);
  decoded d(datagram("192.0.2.1", 0, 1, {compact_flow_sample({}, {wrap(2, eth)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].bytes == 1518u);
  BOOST_TEST(d.records[0].src_mac == 0x020000000001u);
  BOOST_TEST(d.records[0].dst_mac == 0x020000000002u);
}

BOOST_AUTO_TEST_CASE(extended_switch_router_and_gateway_records_fill_vlans_masks_and_as_numbers) {
  packet sw;
  sw.u32(10).u32(2).u32(20).u32(6);
  packet router;
  router.u32(1).v4("192.0.2.254").u32(24).u32(16);
  packet gateway;
  gateway.u32(2).v6("2001:db8::fe").u32(65000).u32(64500).u32(64501);
  gateway.u32(2);                                 // two AS path segments
  gateway.u32(2).u32(2).u32(64510).u32(64511);    // AS_SEQUENCE of 2
  gateway.u32(1).u32(1).u32(15169);               // AS_SET of 1
  gateway.u32(2).u32(0xfde80001).u32(0xfde80002); // two communities
  gateway.u32(100);                               // local preference
  auto header = ethernet(0x0800).append(ipv4(6, "10.0.0.1", "10.0.0.2")).append(tcp(1, 2, 0x10));
  decoded d(datagram("192.0.2.1", 0, 1,
                     {compact_flow_sample({}, {raw_header(1, 60, header), wrap(1001, sw),
                                               wrap(1002, router), wrap(1003, gateway)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  const auto& r = d.records[0];
  BOOST_TEST(r.src_vlan == 10);
  BOOST_TEST(r.src_priority == 2);
  BOOST_TEST(r.dst_vlan == 20);
  BOOST_TEST(r.dst_priority == 6);
  BOOST_TEST(r.next_hop == addr("192.0.2.254"));
  BOOST_TEST(r.src_mask == 24);
  BOOST_TEST(r.dst_mask == 16);
  BOOST_TEST(r.bgp_next_hop == addr("2001:db8::fe"));
  BOOST_TEST(r.src_as == 64500u);
  BOOST_TEST(r.src_peer_as == 64501u);
  BOOST_TEST(r.dst_peer_as == 64510u);
  BOOST_TEST(r.dst_as == 15169u);
}

BOOST_AUTO_TEST_CASE(a_gateway_record_with_an_empty_path_gives_the_routers_own_as) {
  packet gateway;
  gateway.u32(1).v4("192.0.2.1").u32(65000).u32(0).u32(0).u32(0).u32(0).u32(0);
  decoded d(datagram("192.0.2.1", 0, 1, {compact_flow_sample({}, {wrap(1003, gateway)})}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].dst_as == 65000u);
  BOOST_TEST(d.records[0].dst_peer_as == 0u);
}

// -- counter samples ----------------------------------------------------------------------

namespace {

packet generic_counters(uint32_t if_index, uint64_t in_octets, uint64_t out_octets) {
  packet p;
  p.u32(if_index).u32(6).u64(10'000'000'000).u32(1).u32(3).u64(in_octets);
  p.u32(11).u32(12).u32(13).u32(14).u32(15).u32(16);
  p.u64(out_octets).u32(21).u32(22).u32(23).u32(24).u32(25).u32(0);
  return wrap(1, p);
}

packet ethernet_counters() {
  packet p;
  for (uint32_t i = 1; i <= 13; ++i)
    p.u32(100 + i);
  return wrap(2, p);
}

packet compact_counter_sample(uint32_t sequence, uint32_t if_index,
                              std::initializer_list<packet> records) {
  packet body;
  body.u32(sequence).u32(if_index).u32(records.size());
  for (auto& r : records)
    body.append(r);
  return wrap(2, body);
}

} // namespace

BOOST_AUTO_TEST_CASE(counter_samples_become_the_latest_counters_of_their_interface) {
  sflow_decoder d;
  std::vector<flow_record> out;
  std::vector<sflow_interface_counters> emitted;
  auto p = datagram(
      "192.0.2.1", 2, 1,
      {compact_counter_sample(5, 17, {generic_counters(17, 1000, 2000), ethernet_counters()})});
  BOOST_TEST(d.decode(p.b.data(), p.b.size(), from("192.0.2.1"), out, &emitted) == 0u);
  BOOST_TEST(out.empty());
  BOOST_REQUIRE_EQUAL(emitted.size(), 1u);
  const auto* c = d.interface_counters(addr("192.0.2.1"), 2, 17);
  BOOST_REQUIRE(c != nullptr);
  BOOST_TEST((*c == emitted[0]));
  BOOST_TEST(c->sequence == 5u);
  BOOST_TEST(c->datagram_sequence == 1u);
  BOOST_TEST(c->has_generic);
  BOOST_TEST(c->if_index == 17u);
  BOOST_TEST(c->if_type == 6u);
  BOOST_TEST(c->if_speed == 10'000'000'000u);
  BOOST_TEST(c->if_direction == 1u);
  BOOST_TEST(c->if_status == 3u);
  BOOST_TEST(c->in_octets == 1000u);
  BOOST_TEST(c->in_unicast_packets == 11u);
  BOOST_TEST(c->in_unknown_protocols == 16u);
  BOOST_TEST(c->out_octets == 2000u);
  BOOST_TEST(c->out_errors == 25u);
  BOOST_TEST(c->has_ethernet);
  BOOST_TEST(c->alignment_errors == 101u);
  BOOST_TEST(c->fcs_errors == 102u);
  BOOST_TEST(c->symbol_errors == 113u);
  BOOST_TEST(d.counter_samples() == 1u);
  BOOST_TEST(
      counter(d, "sflow_interface_in_octets{agent=\"192.0.2.1\",sub_agent=\"2\",ifindex=\"17\"}") ==
      1000u);
  BOOST_TEST(
      counter(d,
              "sflow_interface_fcs_errors{agent=\"192.0.2.1\",sub_agent=\"2\",ifindex=\"17\"}") ==
      102u);
  auto next = datagram("192.0.2.1", 2, 2,
                       {compact_counter_sample(6, 17, {generic_counters(17, 5000, 6000)})});
  emitted.clear();
  d.decode(next.b.data(), next.b.size(), from("192.0.2.1"), out, &emitted);
  BOOST_TEST(d.interface_counters(addr("192.0.2.1"), 2, 17)->in_octets == 5000u);
  // The interface keeps its Ethernet counters; the emitted sample says it
  // carried only the generic record.
  BOOST_TEST(d.interface_counters(addr("192.0.2.1"), 2, 17)->has_ethernet);
  BOOST_REQUIRE_EQUAL(emitted.size(), 1u);
  BOOST_TEST(emitted[0].has_generic);
  BOOST_TEST(!emitted[0].has_ethernet);
  BOOST_TEST(emitted[0].datagram_sequence == 2u);
  BOOST_TEST(emitted[0].sequence == 6u);
  BOOST_TEST(d.interfaces().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_expanded_counter_sample_is_keyed_by_its_full_source_index) {
  packet body;
  body.u32(1).u32(0).u32(0x02000000).u32(1).append(generic_counters(0x02000000, 1, 2));
  decoded d(datagram("192.0.2.1", 0, 1, {wrap(4, body)}));
  const auto* c = d.decoder.interface_counters(addr("192.0.2.1"), 0, 0x02000000);
  BOOST_REQUIRE(c != nullptr);
  BOOST_TEST(c->out_octets == 2u);
}

BOOST_AUTO_TEST_CASE(a_short_generic_counter_record_keeps_the_previous_values) {
  sflow_decoder d;
  std::vector<flow_record> out;
  auto good =
      datagram("192.0.2.1", 0, 1, {compact_counter_sample(1, 4, {generic_counters(4, 77, 88)})});
  d.decode(good.b.data(), good.b.size(), from("192.0.2.1"), out);
  packet short_record;
  short_record.u32(4).zeros(80);
  auto bad = datagram("192.0.2.1", 0, 2, {compact_counter_sample(2, 4, {wrap(1, short_record)})});
  d.decode(bad.b.data(), bad.b.size(), from("192.0.2.1"), out);
  BOOST_TEST(d.error_count(sflow_error::bad_record) == 1u);
  BOOST_TEST(d.interface_counters(addr("192.0.2.1"), 0, 4)->in_octets == 77u);
  BOOST_TEST(d.interface_counters(addr("192.0.2.1"), 0, 4)->sequence == 1u);
}

// -- sequence numbers -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(datagram_gaps_are_counted_per_agent_and_sub_agent) {
  sflow_decoder d;
  std::vector<flow_record> out;
  for (auto [sub, seq] : {std::pair{0u, 1u}, {1u, 50u}, {0u, 2u}, {0u, 5u}, {1u, 51u}, {1u, 60u}}) {
    auto p = datagram("192.0.2.1", sub, seq, {});
    d.decode(p.b.data(), p.b.size(), from("192.0.2.1"), out);
  }
  BOOST_TEST(d.datagrams_lost() == 2u + 8u);
  auto agents = d.agents();
  BOOST_REQUIRE_EQUAL(agents.size(), 2u);
  BOOST_TEST(agents[0].sub_agent == 0u);
  BOOST_TEST(agents[0].datagrams == 3u);
  BOOST_TEST(agents[0].datagrams_lost == 2u);
  BOOST_TEST(agents[1].datagrams_lost == 8u);
  BOOST_TEST(counter(d, "sflow_agent_datagrams_lost_total{agent=\"192.0.2.1\",sub_agent=\"1\"}") ==
             8u);
}

BOOST_AUTO_TEST_CASE(a_late_datagram_is_reordered_and_a_restart_is_a_reset_not_a_loss) {
  sflow_decoder d;
  std::vector<flow_record> out;
  for (uint32_t seq : {100u, 102u, 101u, 1u, 2u}) {
    auto p = datagram("192.0.2.1", 0, seq, {});
    d.decode(p.b.data(), p.b.size(), from("192.0.2.1"), out);
  }
  BOOST_TEST(d.datagrams_lost() == 1u);
  BOOST_TEST(d.sequence_reordered() == 1u);
  BOOST_TEST(d.sequence_resets() == 1u);
  BOOST_TEST(d.agents()[0].sequence_resets == 1u);
}

BOOST_AUTO_TEST_CASE(sample_gaps_are_counted_per_data_source) {
  sflow_decoder d;
  std::vector<flow_record> out;
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  flow_sample_fields a, b;
  b.source_index = 8;
  uint32_t datagram_sequence = 1;
  for (auto [a_seq, b_seq] : {std::pair{1u, 10u}, {2u, 14u}, {6u, 15u}}) {
    a.sequence = a_seq;
    b.sequence = b_seq;
    auto p = datagram("192.0.2.1", 0, datagram_sequence++,
                      {compact_flow_sample(a, {raw_header(1, 60, header)}),
                       compact_flow_sample(b, {raw_header(1, 60, header)})});
    d.decode(p.b.data(), p.b.size(), from("192.0.2.1"), out);
  }
  BOOST_TEST(out.size() == 6u);
  BOOST_TEST(d.samples_lost() == 3u + 3u);
  BOOST_TEST(d.datagrams_lost() == 0u);
  BOOST_TEST(d.agents()[0].samples_lost == 6u);
  BOOST_TEST(counter(d, "sflow_sources") == 2u);
}

// -- skipping and bounds ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_sample_and_record_types_are_skipped_by_their_length) {
  packet vendor;
  vendor.u32(1).u32(2).u32(3);
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  flow_sample_fields second;
  second.sequence = 2;
  decoded d(datagram("192.0.2.1", 0, 1,
                     {wrap(uint32_t(9) << 12 | 1, vendor), // enterprise 9, format 1
                      compact_flow_sample({}, {wrap(1005, vendor), raw_header(1, 60, header)}),
                      wrap(5, vendor)}));
  BOOST_REQUIRE_EQUAL(d.records.size(), 1u);
  BOOST_TEST(d.records[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(d.decoder.unknown_samples() == 2u);
  BOOST_TEST(d.decoder.unknown_records() == 1u);
  BOOST_TEST(d.decoder.trailing_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(trailing_bytes_after_the_last_sample_are_tolerated_and_counted) {
  auto p = datagram("192.0.2.1", 0, 1, {compact_counter_sample(1, 1, {})});
  p.zeros(6);
  decoded d(p);
  BOOST_TEST(d.decoder.counter_samples() == 1u);
  BOOST_TEST(d.decoder.trailing_bytes() == 6u);
  BOOST_TEST(d.decoder.datagrams_with_trailing_bytes() == 1u);
  for (size_t i = 0; i < sflow_error_count; ++i)
    BOOST_TEST(d.decoder.error_count(sflow_error(i)) == 0u);
}

BOOST_AUTO_TEST_CASE(every_cut_of_a_valid_datagram_is_counted_and_never_read_past) {
  auto header = ethernet(0x0800).append(ipv4(6, "10.0.0.1", "10.0.0.2")).append(tcp(1, 2, 0x10));
  auto full = datagram("2001:db8::1", 0, 1,
                       {compact_flow_sample({}, {raw_header(1, 60, header)}),
                        compact_counter_sample(1, 1, {generic_counters(1, 1, 1)})});
  for (size_t cut = 0; cut < full.b.size(); ++cut) {
    sflow_decoder d;
    std::vector<flow_record> out;
    // An exact-size copy, so that AddressSanitizer catches a read past the end.
    std::vector<uint8_t> bytes(full.b.begin(), full.b.begin() + cut);
    d.decode(bytes.data(), bytes.size(), from("192.0.2.1"), out);
    uint64_t errors = 0;
    for (size_t i = 0; i < sflow_error_count; ++i)
      errors += d.error_count(sflow_error(i));
    BOOST_TEST(errors == 1u, "cut at " << cut);
  }
}

BOOST_AUTO_TEST_CASE(a_datagram_shorter_than_its_header_is_truncated) {
  packet p;
  p.u32(5).u32(1).v4("192.0.2.1").u32(0).u32(1).u32(0); // no sample count
  decoded d(p);
  BOOST_TEST(d.decoder.error_count(sflow_error::truncated) == 1u);
  BOOST_TEST(d.decoder.agents().empty());
}

BOOST_AUTO_TEST_CASE(another_version_or_agent_address_type_is_rejected) {
  auto p = datagram("192.0.2.1", 0, 1, {});
  p.b[3] = 4;
  decoded d(p);
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_version) == 1u);
  auto q = datagram("192.0.2.1", 0, 1, {});
  q.b[7] = 3;
  d.add(q);
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_agent_address) == 1u);
}

BOOST_AUTO_TEST_CASE(a_sample_count_beyond_what_the_datagram_holds_drops_it) {
  auto p = datagram("192.0.2.1", 0, 1, {compact_counter_sample(1, 1, {})});
  p.b[27] = 3; // 3 samples announced: 24 bytes at least, 20 present
  decoded d(p);
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_sample_count) == 1u);
  BOOST_TEST(d.decoder.counter_samples() == 0u);
}

BOOST_AUTO_TEST_CASE(a_sample_length_beyond_the_datagram_stops_decoding_and_keeps_earlier_samples) {
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  auto sample = compact_flow_sample({}, {raw_header(1, 60, header)});
  auto p = datagram("192.0.2.1", 0, 1, {sample, sample});
  size_t second_length = 28 + sample.b.size() + 4;
  p.b[second_length + 3] += 4;
  decoded d(p);
  BOOST_TEST(d.records.size() == 1u);
  BOOST_TEST(d.appended == 1u);
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_sample_length) == 1u);
}

BOOST_AUTO_TEST_CASE(a_flow_sample_shorter_than_its_fixed_fields_is_dropped) {
  packet body;
  body.u32(1).u32(7).u32(100).u32(100).u32(0).u32(1).u32(2); // no record count
  decoded d(datagram("192.0.2.1", 0, 1, {wrap(1, body)}));
  BOOST_TEST(d.records.empty());
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_sample_length) == 1u);
}

BOOST_AUTO_TEST_CASE(a_record_count_or_length_beyond_the_sample_drops_the_sample) {
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  auto sample = compact_flow_sample({}, {raw_header(1, 60, header)});
  auto count = sample;
  count.b[8 + 31] = 9; // nine records announced: 72 bytes at least, 68 present
  decoded d(datagram("192.0.2.1", 0, 1, {count}));
  BOOST_TEST(d.records.empty());
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_record_count) == 1u);
  auto length = sample;
  length.b[8 + 32 + 7] += 4; // the raw header record 4 bytes longer than the sample
  d.add(datagram("192.0.2.1", 0, 2, {length}));
  BOOST_TEST(d.records.empty());
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_record_length) == 1u);
}

BOOST_AUTO_TEST_CASE(a_header_length_beyond_its_record_drops_the_sample) {
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  auto sample = compact_flow_sample({}, {raw_header(1, 60, header)});
  sample.b[8 + 32 + 8 + 15] += 4; // header length
  decoded d(datagram("192.0.2.1", 0, 1, {sample}));
  BOOST_TEST(d.records.empty());
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_record) == 1u);
}

BOOST_AUTO_TEST_CASE(short_known_flow_records_are_bad_records) {
  packet short_v4;
  short_v4.u32(1400).u32(6).v4("10.1.0.1").v4("10.2.0.2").u32(1).u32(2).u32(0); // 28 of 32
  packet short_switch;
  short_switch.u32(1).u32(2).u32(3);
  packet gateway_path;
  gateway_path.u32(1).v4("192.0.2.1").u32(1).u32(2).u32(3).u32(1).u32(2).u32(1000).u32(1);
  packet gateway_communities;
  gateway_communities.u32(1).v4("192.0.2.1").u32(1).u32(2).u32(3).u32(0).u32(100).u32(0);
  decoded d(datagram("192.0.2.1", 0, 1, {}));
  uint32_t seq = 2;
  for (auto& [format, body] : {std::pair{3u, short_v4},
                               {1001u, short_switch},
                               {1003u, gateway_path},
                               {1003u, gateway_communities}})
    d.add(datagram("192.0.2.1", 0, seq++, {compact_flow_sample({}, {wrap(format, body)})}));
  BOOST_TEST(d.records.empty());
  BOOST_TEST(d.decoder.error_count(sflow_error::bad_record) == 4u);
}

BOOST_AUTO_TEST_CASE(table_limits_are_counted_and_decoding_goes_on) {
  sflow_decoder_options opts;
  opts.max_agents = 1;
  opts.max_sources = 1;
  opts.max_interfaces = 1;
  auto header = ethernet(0x0800).append(ipv4(17, "10.0.0.1", "10.0.0.2")).append(udp(1, 2));
  flow_sample_fields other;
  other.source_index = 99;
  decoded d(datagram("192.0.2.1", 0, 1,
                     {compact_flow_sample({}, {raw_header(1, 60, header)}),
                      compact_flow_sample(other, {raw_header(1, 60, header)}),
                      compact_counter_sample(1, 1, {})}),
            opts);
  d.add(datagram(
      "192.0.2.2", 0, 1,
      {compact_flow_sample({}, {raw_header(1, 60, header)}), compact_counter_sample(1, 2, {})}));
  BOOST_TEST(d.records.size() == 3u);
  BOOST_TEST(d.decoder.error_count(sflow_error::agent_limit) == 1u);
  BOOST_TEST(d.decoder.error_count(sflow_error::source_limit) == 4u);
  BOOST_TEST(d.decoder.error_count(sflow_error::interface_limit) == 1u);
  BOOST_TEST(d.decoder.agents().size() == 1u);
}
