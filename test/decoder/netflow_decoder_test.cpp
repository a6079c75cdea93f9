#define BOOST_TEST_MODULE netflow_decoder
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "actors/decoder/netflow_decoder.hpp"
#include "decoder/netflow_packets.hpp"

using namespace tidewatch;
using tidewatch::test::addr;
using tidewatch::test::from;
using tidewatch::test::packet;

namespace {

constexpr int64_t export_us = 1'700'000'000'000'000; // header unix time 1,700,000,000 s

size_t decode(netflow_decoder& d, const packet& p, const datagram_info& meta,
              std::vector<flow_record>& out) {
  return d.decode(p.b.data(), p.b.size(), meta, out);
}

/// The 24-field template most v9 tests use (record length 66).
packet& typical_v9_template(packet& p, uint16_t id) {
  return p.template_set(0, id,
                        {{8, 4},  {12, 4}, {15, 4}, {10, 2}, {14, 2}, {2, 4},  {1, 4},  {22, 4},
                         {21, 4}, {7, 2},  {11, 2}, {6, 1},  {4, 1},  {5, 1},  {16, 4}, {17, 4},
                         {9, 1},  {13, 1}, {61, 1}, {58, 2}, {56, 6}, {80, 6}, {89, 1}, {18, 4}});
}

packet& typical_v9_record(packet& p, const char* src, uint32_t bytes) {
  return p.v4(src)
      .v4("192.0.2.7")
      .v4("10.0.0.254")
      .u16(3)
      .u16(4)
      .u32(10)
      .u32(bytes)
      .u32(9'990'000)
      .u32(9'999'500)
      .u16(12345)
      .u16(443)
      .u8(0x1b)
      .u8(6)
      .u8(0x10)
      .u32(64500)
      .u32(15169)
      .u8(24)
      .u8(16)
      .u8(1)
      .u16(100)
      .mac(0x001122334455)
      .mac(0x66778899aabb)
      .u8(64)
      .v4("198.51.100.1");
}

uint64_t counter(const netflow_decoder& d, const std::string& name) {
  std::vector<counter_value> all;
  d.collect(all);
  for (const auto& c : all)
    if (c.name == name)
      return c.value;
  BOOST_FAIL("no counter " + name);
  return 0;
}

const netflow_exporter_stats& stats_of(const std::vector<netflow_exporter_stats>& all,
                                       const char* exporter, uint32_t domain) {
  for (const auto& e : all)
    if (e.exporter == addr(exporter) && e.observation_domain == domain)
      return e;
  BOOST_FAIL("no exporter stats");
  return all.front();
}

} // namespace

// -- NetFlow v5 --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_v5_datagram_decodes_every_field_and_the_header_sampling_rate) {
  packet p;
  p.u16(5)
      .u16(2)
      .u32(10'000'000)
      .u32(1'700'000'000)
      .u32(250'000'000)
      .u32(1000)
      .u8(1)
      .u8(2)
      .u16(0x4000 | 100);
  p.v4("10.0.0.1").v4("192.0.2.7").v4("10.0.0.254").u16(3).u16(4).u32(10).u32(1500);
  p.u32(9'990'000).u32(9'999'000).u16(12345).u16(443).u8(0).u8(0x1b).u8(6).u8(0x10);
  p.u16(64500).u16(15169).u8(24).u8(16).u16(0);
  p.v4("10.0.0.2").v4("192.0.2.8").v4("0.0.0.0").u16(1).u16(2).u32(1).u32(40);
  p.u32(10'000'000).u32(10'000'000).u16(53).u16(5353).u8(0).u8(0).u8(17).u8(0);
  p.u16(0).u16(0).u8(0).u8(0).u16(0);
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  const auto& r = out[0];
  BOOST_TEST(r.exporter == addr("127.0.0.1"));
  BOOST_TEST(r.observation_domain == 0x0102u);
  BOOST_TEST(r.received_us == 1'700'000'000'500'000);
  BOOST_TEST(r.protocol_version == export_protocol::netflow_v5);
  BOOST_TEST(r.src_addr == addr("10.0.0.1"));
  BOOST_TEST(r.dst_addr == addr("192.0.2.7"));
  BOOST_TEST(r.next_hop == addr("10.0.0.254"));
  BOOST_TEST(r.ip_version == 4);
  BOOST_TEST(r.input_interface == 3u);
  BOOST_TEST(r.output_interface == 4u);
  BOOST_TEST(r.packets == 10u);
  BOOST_TEST(r.bytes == 1500u);
  BOOST_TEST(r.flow_start_us == 1'699'999'990'250'000);
  BOOST_TEST(r.flow_end_us == 1'699'999'999'250'000);
  BOOST_TEST(r.src_port == 12345);
  BOOST_TEST(r.dst_port == 443);
  BOOST_TEST(r.tcp_flags == 0x1b);
  BOOST_TEST(r.ip_protocol == 6);
  BOOST_TEST(r.tos == 0x10);
  BOOST_TEST(r.src_as == 64500u);
  BOOST_TEST(r.dst_as == 15169u);
  BOOST_TEST(r.src_mask == 24);
  BOOST_TEST(r.dst_mask == 16);
  BOOST_TEST(r.sampling_rate == 100u);
  BOOST_TEST(out[1].src_addr == addr("10.0.0.2"));
  BOOST_TEST(out[1].ip_protocol == 17);
  BOOST_TEST(out[1].flow_end_us == 1'700'000'000'250'000);
  auto ex = d.exporters();
  BOOST_TEST_REQUIRE(ex.size() == 1u);
  BOOST_TEST(ex[0].protocol == export_protocol::netflow_v5);
  BOOST_TEST(ex[0].last_sampling_rate == 100u);
  BOOST_TEST(ex[0].records == 2u);
}

// -- NetFlow v9 --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_v9_template_and_its_data_in_one_datagram_decode_every_field) {
  auto p = packet::v9(1, 7);
  typical_v9_template(p, 256);
  p.begin_set(256);
  typical_v9_record(p, "10.0.0.1", 1500);
  typical_v9_record(p, "10.0.0.2", 3000);
  p.end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  const auto& r = out[0];
  BOOST_TEST(r.exporter == addr("127.0.0.1"));
  BOOST_TEST(r.observation_domain == 7u);
  BOOST_TEST(r.protocol_version == export_protocol::netflow_v9);
  BOOST_TEST(r.src_addr == addr("10.0.0.1"));
  BOOST_TEST(r.dst_addr == addr("192.0.2.7"));
  BOOST_TEST(r.next_hop == addr("10.0.0.254"));
  BOOST_TEST(r.bgp_next_hop == addr("198.51.100.1"));
  BOOST_TEST(r.ip_version == 4);
  BOOST_TEST(r.input_interface == 3u);
  BOOST_TEST(r.output_interface == 4u);
  BOOST_TEST(r.packets == 10u);
  BOOST_TEST(r.bytes == 1500u);
  BOOST_TEST(r.flow_start_us == export_us - 10'000'000);
  BOOST_TEST(r.flow_end_us == export_us - 500'000);
  BOOST_TEST(r.src_port == 12345);
  BOOST_TEST(r.dst_port == 443);
  BOOST_TEST(r.tcp_flags == 0x1b);
  BOOST_TEST(r.ip_protocol == 6);
  BOOST_TEST(r.tos == 0x10);
  BOOST_TEST(r.src_as == 64500u);
  BOOST_TEST(r.dst_as == 15169u);
  BOOST_TEST(r.src_mask == 24);
  BOOST_TEST(r.dst_mask == 16);
  BOOST_TEST((r.direction == flow_direction::egress));
  BOOST_TEST(r.src_vlan == 100);
  BOOST_TEST(r.src_mac == 0x001122334455u);
  BOOST_TEST(r.dst_mac == 0x66778899aabbu);
  BOOST_TEST(r.forwarding_status == 64);
  BOOST_TEST(r.sampling_rate == 0u);
  BOOST_TEST(out[1].src_addr == addr("10.0.0.2"));
  BOOST_TEST(out[1].bytes == 3000u);
  BOOST_TEST(d.template_count(addr("127.0.0.1"), 7) == 1u);
}

BOOST_AUTO_TEST_CASE(v9_uptime_times_survive_a_sysuptime_wraparound) {
  // Uptime wrapped 1 s ago; the flow started 3 s ago, before the wrap.
  auto p = packet::v9(1, 0, 1000);
  p.template_set(0, 256, {{22, 4}, {21, 4}});
  p.begin_set(256).u32(0xFFFFFFFFu - 1999).u32(500).end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].flow_start_us == export_us - 3'000'000);
  BOOST_TEST(out[0].flow_end_us == export_us - 500'000);
}

BOOST_AUTO_TEST_CASE(several_templates_and_data_sets_in_one_datagram_all_decode) {
  auto p = packet::v9(1, 0);
  p.begin_set(0)
      .template_record(256, {{8, 4}, {12, 4}, {1, 4}})
      .template_record(257, {{27, 16}, {28, 16}, {2, 4}, {29, 1}, {30, 1}, {62, 16}, {63, 16}})
      .end_set();
  p.begin_set(256).v4("10.0.0.1").v4("10.0.0.2").u32(100).end_set();
  p.begin_set(257)
      .v6("2001:db8::1")
      .v6("2001:db8::2")
      .u32(7)
      .u8(48)
      .u8(64)
      .v6("2001:db8::fe")
      .v6("2001:db8::fd")
      .end_set();
  p.begin_set(256).v4("10.0.0.3").v4("10.0.0.4").u32(300).end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 3u);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].bytes == 100u);
  BOOST_TEST(out[1].ip_version == 6);
  BOOST_TEST(out[1].src_addr == addr("2001:db8::1"));
  BOOST_TEST(out[1].dst_addr == addr("2001:db8::2"));
  BOOST_TEST(out[1].packets == 7u);
  BOOST_TEST(out[1].src_mask == 48);
  BOOST_TEST(out[1].dst_mask == 64);
  BOOST_TEST(out[1].next_hop == addr("2001:db8::fe"));
  BOOST_TEST(out[1].bgp_next_hop == addr("2001:db8::fd"));
  BOOST_TEST(out[2].src_addr == addr("10.0.0.3"));
  BOOST_TEST(out[2].bytes == 300u);
  BOOST_TEST(d.template_count() == 2u);
}

BOOST_AUTO_TEST_CASE(a_template_redefinition_replaces_the_old_one) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto a = packet::v9(1, 0);
  a.template_set(0, 256, {{8, 4}, {1, 4}});
  a.begin_set(256).v4("10.0.0.1").u32(100).end_set();
  BOOST_TEST(decode(d, a, from("127.0.0.1"), out) == 1u);
  auto b = packet::v9(2, 0);
  b.template_set(0, 256, {{1, 4}, {8, 4}, {7, 2}});
  b.begin_set(256).u32(200).v4("10.0.0.9").u16(80).end_set();
  BOOST_TEST(decode(d, b, from("127.0.0.1"), out) == 1u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[1].bytes == 200u);
  BOOST_TEST(out[1].src_addr == addr("10.0.0.9"));
  BOOST_TEST(out[1].src_port == 80);
  BOOST_TEST(d.template_count() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_field_types_are_skipped_by_their_length) {
  auto p = packet::v9(1, 0);
  p.template_set(0, 256, {{5000, 3}, {8, 4}, {9999, 7}, {1, 4}, {40000, 1}});
  p.begin_set(256).u8(0xff).u16(0xffff).v4("10.1.2.3").zeros(7).u32(4242).u8(9).end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].src_addr == addr("10.1.2.3"));
  BOOST_TEST(out[0].bytes == 4242u);
}

BOOST_AUTO_TEST_CASE(set_padding_is_not_decoded_as_records) {
  auto p = packet::v9(1, 0);
  // Template set padded with 2 zero bytes, data set of two 9-byte records + 2 padding bytes.
  p.begin_set(0).template_record(256, {{8, 4}, {4, 1}, {12, 4}}).zeros(2).end_set();
  p.begin_set(256).v4("10.0.0.1").u8(6).v4("10.0.0.2").v4("10.0.0.3").u8(17).v4("10.0.0.4");
  p.zeros(2).end_set();
  auto q = packet::ipfix(0, 1);
  q.template_set(2, 300, {{8, 4}, {4, 1}, {12, 4}});
  q.begin_set(300).v4("10.0.0.5").u8(1).v4("10.0.0.6").zeros(3).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST(decode(d, q, from("127.0.0.1"), out) == 1u);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[1].ip_protocol == 17);
  BOOST_TEST(out[1].dst_addr == addr("10.0.0.4"));
  BOOST_TEST(out[2].ip_protocol == 1);
  BOOST_TEST(d.error_count(netflow_error::bad_template) == 0u);
  BOOST_TEST(d.error_count(netflow_error::bad_set_length) == 0u);
}

BOOST_AUTO_TEST_CASE(fallback_elements_apply_only_without_their_primary) {
  auto p = packet::ipfix(0, 0);
  p.template_set(2, 256,
                 {{85, 8}, {86, 8}, {252, 4}, {253, 4}, {243, 2}, {81, 6}, {57, 6}, {302, 4}});
  p.begin_set(256).u64(9000).u64(90).u32(11).u32(12).u16(0x1064).mac(1).mac(2).u32(0).end_set();
  p.template_set(2, 257, {{1, 4}, {85, 8}, {2, 4}, {86, 8}, {56, 6}, {81, 6}});
  p.begin_set(257).u32(5).u64(9000).u32(1).u64(90).mac(3).mac(4).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].bytes == 9000u);
  BOOST_TEST(out[0].packets == 90u);
  BOOST_TEST(out[0].input_interface == 11u);
  BOOST_TEST(out[0].output_interface == 12u);
  BOOST_TEST(out[0].src_vlan == 0x064);
  BOOST_TEST(out[0].src_mac == 1u);
  BOOST_TEST(out[0].dst_mac == 2u);
  BOOST_TEST(out[1].bytes == 5u);
  BOOST_TEST(out[1].packets == 1u);
  BOOST_TEST(out[1].src_mac == 3u);
}

// -- options and sampling ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(v9_options_scope_fields_are_skipped_and_sampler_rates_apply_by_sampler_id) {
  auto p = packet::v9(1, 0);
  // Options template 300: scope System (type 1, 4 bytes: not octetDeltaCount!),
  // options FLOW_SAMPLER_ID, FLOW_SAMPLER_MODE, FLOW_SAMPLER_RANDOM_INTERVAL.
  p.begin_set(1).u16(300).u16(4).u16(12).u16(1).u16(4).u16(48).u16(1).u16(49).u16(1);
  p.u16(50).u16(4).zeros(2).end_set();
  p.begin_set(300).u32(0x0a000001).u8(5).u8(2).u32(512);
  p.u32(0x0a000001).u8(6).u8(2).u32(64).zeros(0).end_set();
  p.template_set(0, 256, {{48, 1}, {8, 4}, {1, 4}});
  p.begin_set(256).u8(5).v4("10.0.0.1").u32(1).u8(6).v4("10.0.0.2").u32(2);
  p.u8(9).v4("10.0.0.3").u32(3).end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 3u);
  BOOST_TEST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].sampler_id == 5u);
  BOOST_TEST(out[0].sampling_rate == 512u);
  BOOST_TEST(out[1].sampling_rate == 64u);
  BOOST_TEST(out[2].sampler_id == 9u);
  BOOST_TEST(out[2].sampling_rate == 0u);
  BOOST_TEST(counter(d, "netflow_options_records_total") == 2u);
  BOOST_TEST(d.exporters()[0].last_sampling_rate == 64u);
}

BOOST_AUTO_TEST_CASE(v9_options_without_sampler_id_set_the_rate_of_every_record) {
  auto p = packet::v9(1, 0);
  // Options template: scope Interface, SAMPLING_INTERVAL, SAMPLING_ALGORITHM.
  p.begin_set(1).u16(300).u16(4).u16(8).u16(2).u16(4).u16(34).u16(4).u16(35).u16(1).end_set();
  p.begin_set(300).u32(1).u32(1000).u8(1).zeros(3).end_set();
  p.template_set(0, 256, {{8, 4}});
  p.begin_set(256).v4("10.0.0.1").end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].sampling_rate == 1000u);
}

BOOST_AUTO_TEST_CASE(ipfix_selector_options_give_interval_plus_space_over_interval) {
  auto p = packet::ipfix(0, 3);
  // Options template 400: scope selectorId, then samplingPacketInterval/Space.
  p.begin_set(3).u16(400).u16(3).u16(1).u16(302).u16(4).u16(305).u16(2).u16(306).u16(2).end_set();
  p.begin_set(400).u32(9).u16(1).u16(99).u32(10).u16(2).u16(6).end_set();
  p.template_set(2, 256, {{302, 4}, {8, 4}});
  p.begin_set(256).u32(9).v4("10.0.0.1").u32(10).v4("10.0.0.2").end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST(out[0].sampler_id == 9u);
  BOOST_TEST(out[0].sampling_rate == 100u);
  BOOST_TEST(out[1].sampling_rate == 4u);
}

BOOST_AUTO_TEST_CASE(random_n_out_of_n_selection_gives_population_over_size) {
  auto p = packet::ipfix(0, 3);
  // Options template 401: scope selectorId, selectorAlgorithm 3, samplingSize, samplingPopulation.
  p.begin_set(3).u16(401).u16(4).u16(1).u16(302).u16(4).u16(304).u16(1).u16(309).u16(4);
  p.u16(310).u16(4).zeros(2).end_set();
  p.begin_set(401).u32(4).u8(3).u32(5).u32(5000).zeros(3).end_set();
  p.template_set(2, 256, {{302, 4}, {8, 4}});
  p.begin_set(256).u32(4).v4("10.0.0.1").end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].sampler_id == 4u);
  BOOST_TEST(out[0].sampling_rate == 1000u);
}

BOOST_AUTO_TEST_CASE(options_arriving_after_data_apply_from_then_on_only) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto data = [](uint32_t sequence) {
    auto p = packet::ipfix(sequence, 3);
    p.template_set(2, 256, {{302, 4}, {8, 4}});
    p.begin_set(256).u32(9).v4("10.0.0.1").end_set().done();
    return p;
  };
  BOOST_TEST(decode(d, data(0), from("127.0.0.1"), out) == 1u);
  auto options = packet::ipfix(1, 3);
  options.begin_set(3).u16(400).u16(3).u16(1).u16(302).u16(4).u16(305).u16(2).u16(306).u16(2);
  options.end_set().begin_set(400).u32(9).u16(1).u16(499).end_set().done();
  decode(d, options, from("127.0.0.1"), out);
  BOOST_TEST(decode(d, data(2), from("127.0.0.1"), out) == 1u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  // The first record came before the exporter said how it samples.
  BOOST_TEST(out[0].sampling_rate == 0u);
  BOOST_TEST(out[1].sampling_rate == 500u);
}

BOOST_AUTO_TEST_CASE(sampling_in_the_data_record_itself_is_used) {
  auto p = packet::ipfix(0, 0);
  p.template_set(2, 256, {{8, 4}, {34, 4}});
  p.begin_set(256).v4("10.0.0.1").u32(250).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].sampling_rate == 250u);
}

// -- IPFIX ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ipfix_absolute_time_forms_all_convert_to_unix_microseconds) {
  auto p = packet::ipfix(0, 1);
  p.begin_set(2)
      .template_record(256, {{8, 4}, {150, 4}, {153, 8}})
      .template_record(257, {{8, 4}, {154, 8}, {157, 8}})
      .template_record(258, {{8, 4}, {158, 4}, {159, 4}})
      .template_record(259, {{27, 16}, {152, 8}, {151, 4}})
      .end_set();
  constexpr uint64_t ntp_secs = 1'699'999'990ull + 2'208'988'800ull;
  p.begin_set(256).v4("10.0.0.1").u32(1'699'999'990).u64(1'699'999'999'250).end_set();
  p.begin_set(257).v4("10.0.0.2").u64(ntp_secs << 32 | 0x80000000u);
  p.u64((ntp_secs + 9) << 32 | 0x40000000u).end_set();
  p.begin_set(258).v4("10.0.0.3").u32(2'000'000).u32(1500).end_set();
  p.begin_set(259).v6("2001:db8::1").u64(1'699'999'991'001).u32(1'699'999'999).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 4u);
  BOOST_TEST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[0].protocol_version == export_protocol::ipfix);
  BOOST_TEST(out[0].observation_domain == 1u);
  BOOST_TEST(out[0].flow_start_us == 1'699'999'990'000'000);
  BOOST_TEST(out[0].flow_end_us == 1'699'999'999'250'000);
  BOOST_TEST(out[1].flow_start_us == 1'699'999'990'500'000);
  BOOST_TEST(out[1].flow_end_us == 1'699'999'999'250'000);
  BOOST_TEST(out[2].flow_start_us == export_us - 2'000'000);
  BOOST_TEST(out[2].flow_end_us == export_us - 1500);
  BOOST_TEST(out[3].ip_version == 6);
  BOOST_TEST(out[3].flow_start_us == 1'699'999'991'001'000);
  BOOST_TEST(out[3].flow_end_us == 1'699'999'999'000'000);
}

BOOST_AUTO_TEST_CASE(ipfix_uptime_times_use_the_system_init_time_from_options_data) {
  auto p = packet::ipfix(0, 1);
  p.begin_set(3).u16(401).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8).end_set();
  p.begin_set(401).u32(1).u64(1'699'990'000'000).end_set();
  p.template_set(2, 256, {{8, 4}, {22, 4}, {21, 4}});
  p.begin_set(256).v4("10.0.0.1").u32(9'990'000).u32(9'999'000).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].flow_start_us == 1'699'999'990'000'000);
  BOOST_TEST(out[0].flow_end_us == 1'699'999'999'000'000);
}

BOOST_AUTO_TEST_CASE(ipfix_variable_length_fields_in_both_length_forms_keep_alignment) {
  auto p = packet::ipfix(0, 0);
  p.template_set(2, 256, {{8, 4}, {82, 0xffff}, {7, 2}, {83, 0xffff}, {11, 2}, {1, 8}});
  p.begin_set(256).v4("10.0.0.1").u8(3).u8('e').u8('t').u8('h').u16(1000);
  p.u8(255).u16(256).zeros(256).u16(2000).u64(77);
  p.v4("10.0.0.2").u8(0).u16(1001).u8(255).u16(0).u16(2001).u64(78).end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(out[0].src_port == 1000);
  BOOST_TEST(out[0].dst_port == 2000);
  BOOST_TEST(out[0].bytes == 77u);
  BOOST_TEST(out[1].src_addr == addr("10.0.0.2"));
  BOOST_TEST(out[1].src_port == 1001);
  BOOST_TEST(out[1].dst_port == 2001);
  BOOST_TEST(out[1].bytes == 78u);
}

BOOST_AUTO_TEST_CASE(reduced_size_fields_decode_alike_in_fixed_and_variable_length_templates) {
  // 70 records: more than one block of the column-wise walk. Template 256 is
  // fixed-length, 257 the same fields behind a variable-length one.
  constexpr size_t count = 70;
  std::initializer_list<std::pair<uint16_t, uint16_t>> fields = {
      {1, 3},  {2, 5}, {10, 2}, {14, 1},  {16, 2},  {17, 3}, {7, 1},
      {11, 4}, {4, 2}, {6, 2},  {27, 16}, {28, 16}, {48, 2}};
  auto record = [](packet& p, uint64_t i) {
    p.u8(0x01).u16(0x0203 + i).u8(0x01).u32(0x02030405 + i).u16(1000 + i).u8(i).u16(64500);
    p.u8(0x01).u16(0x00ff).u8(53).u32(0x10000 + 443 + i).u16(17).u16(0x0112);
    p.v6("2001:db8::1").v6("2001:db8::2").u16(7);
  };
  auto p = packet::ipfix(0, 0);
  p.template_set(2, 256, fields);
  p.begin_set(2).u16(257).u16(uint16_t(fields.size() + 1)).u16(82).u16(0xffff);
  for (auto [type, length] : fields)
    p.u16(type).u16(length);
  p.end_set();
  p.begin_set(256);
  for (size_t i = 0; i < count; ++i)
    record(p, i);
  p.end_set().begin_set(257);
  for (size_t i = 0; i < count; ++i)
    record(p.u8(2).u8('e').u8('0'), i);
  p.end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 2 * count);
  BOOST_TEST_REQUIRE(out.size() == 2 * count);
  for (size_t i = 0; i < count; ++i)
    BOOST_TEST((out[i] == out[count + i]), "record " << i);
  BOOST_TEST(out[0].bytes == 0x010203u);
  BOOST_TEST(out[0].packets == 0x0102030405u);
  BOOST_TEST(out[0].input_interface == 1000u);
  BOOST_TEST(out[0].output_interface == 0u);
  BOOST_TEST(out[0].src_as == 64500u);
  BOOST_TEST(out[0].dst_as == 0x0100ffu);
  BOOST_TEST(out[0].src_port == 53);
  BOOST_TEST(out[0].dst_port == 443);
  BOOST_TEST(out[0].ip_protocol == 17);
  BOOST_TEST(out[0].tcp_flags == 0x12);
  BOOST_TEST(out[0].ip_version == 6);
  BOOST_TEST(out[0].src_addr == addr("2001:db8::1"));
  BOOST_TEST(out[0].dst_addr == addr("2001:db8::2"));
  BOOST_TEST(out[0].sampler_id == 7u);
  BOOST_TEST(out[0].protocol_version == export_protocol::ipfix);
  BOOST_TEST(out[69].bytes == 0x010203u + 69);
  BOOST_TEST(out[69].packets == 0x0102030405u + 69);
  BOOST_TEST(out[69].input_interface == 1069u);
  BOOST_TEST(out[69].output_interface == 69u);
  BOOST_TEST(out[69].dst_port == 512);
  BOOST_TEST(out[69].exporter == addr("127.0.0.1"));
}

BOOST_AUTO_TEST_CASE(enterprise_specific_fields_are_skipped_without_misalignment) {
  auto p = packet::ipfix(0, 0);
  p.begin_set(2).u16(256).u16(5).u16(8).u16(4).u16(0x8000 | 100).u16(6).u32(9);
  p.u16(12).u16(4).u16(0x8000 | 200).u16(0xffff).u32(9).u16(1).u16(4).end_set();
  p.begin_set(256).v4("10.0.0.1").zeros(6).v4("10.0.0.2").u8(2).u16(0xabcd).u32(555).end_set();
  p.done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(out[0].dst_addr == addr("10.0.0.2"));
  BOOST_TEST(out[0].bytes == 555u);
}

BOOST_AUTO_TEST_CASE(ipfix_template_withdrawal_removes_one_template_or_all_of_a_kind) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto p = packet::ipfix(0, 0);
  p.begin_set(2)
      .template_record(256, {{8, 4}})
      .template_record(257, {{12, 4}})
      .template_record(258, {{1, 4}})
      .end_set();
  p.begin_set(3).u16(400).u16(2).u16(1).u16(302).u16(4).u16(305).u16(4).end_set().done();
  decode(d, p, from("127.0.0.1"), out);
  BOOST_TEST(d.template_count() == 4u);
  auto one = packet::ipfix(0, 0);
  one.begin_set(2).u16(257).u16(0).end_set().done();
  decode(d, one, from("127.0.0.1"), out);
  BOOST_TEST(d.template_count() == 3u);
  auto data = packet::ipfix(0, 0);
  data.begin_set(257).v4("10.0.0.1").end_set().done();
  BOOST_TEST(decode(d, data, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(d.pending_count() == 1u);
  auto all_data = packet::ipfix(0, 0);
  all_data.begin_set(2).u16(2).u16(0).end_set().done();
  decode(d, all_data, from("127.0.0.1"), out);
  BOOST_TEST(d.template_count() == 1u); // the options template stays
  auto all_options = packet::ipfix(0, 0);
  all_options.begin_set(3).u16(3).u16(0).end_set().done();
  decode(d, all_options, from("127.0.0.1"), out);
  BOOST_TEST(d.template_count() == 0u);
  BOOST_TEST(counter(d, "netflow_template_withdrawals_total") == 3u);
}

BOOST_AUTO_TEST_CASE(ipfix_biflow_reverse_counters_become_a_second_record) {
  auto p = packet::ipfix(0, 0);
  p.begin_set(2).u16(256).u16(11);
  p.u16(8).u16(4).u16(12).u16(4).u16(7).u16(2).u16(11).u16(2).u16(4).u16(1);
  p.u16(1).u16(8).u16(2).u16(8).u16(6).u16(1);
  p.u16(0x8001).u16(8).u32(29305).u16(0x8002).u16(8).u32(29305).u16(0x8006).u16(1).u32(29305);
  p.end_set();
  p.begin_set(256);
  p.v4("10.0.0.1").v4("10.0.0.2").u16(40000).u16(80).u8(6).u64(1000).u64(10).u8(0x02);
  p.u64(5000).u64(8).u8(0x12);
  p.v4("10.0.0.3").v4("10.0.0.4").u16(53).u16(53).u8(17).u64(60).u64(1).u8(0);
  p.u64(0).u64(0).u8(0);
  // Only the reverse direction saw packets: one record, the reverse one.
  p.v4("10.0.0.5").v4("10.0.0.6").u16(123).u16(5000).u8(17).u64(0).u64(0).u8(0);
  p.u64(76).u64(1).u8(0);
  p.end_set().done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 4u);
  BOOST_TEST(out[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(out[0].bytes == 1000u);
  BOOST_TEST(out[0].tcp_flags == 0x02);
  BOOST_TEST(out[1].src_addr == addr("10.0.0.2"));
  BOOST_TEST(out[1].dst_addr == addr("10.0.0.1"));
  BOOST_TEST(out[1].src_port == 80);
  BOOST_TEST(out[1].dst_port == 40000);
  BOOST_TEST(out[1].ip_protocol == 6);
  BOOST_TEST(out[1].bytes == 5000u);
  BOOST_TEST(out[1].packets == 8u);
  BOOST_TEST(out[1].tcp_flags == 0x12);
  BOOST_TEST(out[2].src_addr == addr("10.0.0.3"));
  BOOST_TEST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[3].src_addr == addr("10.0.0.6"));
  BOOST_TEST(out[3].src_port == 5000);
  BOOST_TEST(out[3].dst_addr == addr("10.0.0.5"));
  BOOST_TEST(out[3].dst_port == 123);
  BOOST_TEST(out[3].bytes == 76u);
  BOOST_TEST(out[3].packets == 1u);
  BOOST_TEST(counter(d, "netflow_reverse_records_total") == 2u);
}

// -- template scope ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(templates_are_scoped_by_exporter_and_domain_never_by_source_port) {
  auto a = packet::v9(1, 0);
  a.template_set(0, 256, {{8, 4}, {1, 4}});
  a.begin_set(256).v4("10.0.0.1").u32(111).end_set();
  auto b = packet::v9(1, 0);
  b.template_set(0, 256, {{1, 8}, {8, 4}});
  b.begin_set(256).u64(222).v4("10.0.0.2").end_set();
  auto c = packet::v9(1, 1);
  c.template_set(0, 256, {{1, 2}, {8, 4}});
  c.begin_set(256).u16(333).v4("10.0.0.3").end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  decode(d, a, from("127.0.0.1"), out);
  decode(d, b, from("127.0.0.2"), out);
  decode(d, c, from("127.0.0.1"), out);
  // Data only, each from another UDP source port than its template came from.
  auto da = packet::v9(2, 0);
  da.begin_set(256).v4("10.0.1.1").u32(1).end_set();
  auto db = packet::v9(2, 0);
  db.begin_set(256).u64(2).v4("10.0.1.2").end_set();
  auto dc = packet::v9(2, 1);
  dc.begin_set(256).u16(3).v4("10.0.1.3").end_set();
  decode(d, db, from("127.0.0.2", 1'700'000'001'000'000, 50001), out);
  decode(d, da, from("127.0.0.1", 1'700'000'001'000'000, 50002), out);
  decode(d, dc, from("127.0.0.1", 1'700'000'001'000'000, 50003), out);
  BOOST_TEST_REQUIRE(out.size() == 6u);
  BOOST_TEST(out[0].bytes == 111u);
  BOOST_TEST(out[1].bytes == 222u);
  BOOST_TEST(out[2].bytes == 333u);
  BOOST_TEST(out[3].bytes == 2u);
  BOOST_TEST(out[3].src_addr == addr("10.0.1.2"));
  BOOST_TEST(out[4].bytes == 1u);
  BOOST_TEST(out[4].src_addr == addr("10.0.1.1"));
  BOOST_TEST(out[5].bytes == 3u);
  BOOST_TEST(out[5].observation_domain == 1u);
  BOOST_TEST(d.template_count(addr("127.0.0.1"), 0) == 1u);
  BOOST_TEST(d.template_count(addr("127.0.0.1"), 1) == 1u);
  BOOST_TEST(d.template_count(addr("127.0.0.2"), 0) == 1u);
}

// -- data before its template ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(data_before_its_template_is_held_and_decoded_when_the_template_arrives) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto data = packet::v9(1, 0);
  data.begin_set(256).v4("10.0.0.1").u32(10).v4("10.0.0.2").u32(20).end_set();
  BOOST_TEST(decode(d, data, from("127.0.0.1", 1'000), out) == 0u);
  BOOST_TEST(d.pending_count() == 1u);
  auto tmpl = packet::v9(2, 0);
  tmpl.template_set(0, 256, {{8, 4}, {1, 4}});
  BOOST_TEST(decode(d, tmpl, from("127.0.0.1", 2'000), out) == 2u);
  BOOST_TEST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].src_addr == addr("10.0.0.1"));
  BOOST_TEST(out[0].received_us == 1'000);
  BOOST_TEST(out[1].bytes == 20u);
  BOOST_TEST(d.pending_count() == 0u);
  BOOST_TEST(counter(d, "netflow_pending_released_total") == 1u);
}

BOOST_AUTO_TEST_CASE(a_data_set_before_its_template_in_the_same_datagram_is_decoded) {
  auto p = packet::ipfix(0, 0);
  p.begin_set(256).v4("10.0.0.1").end_set();
  p.template_set(2, 256, {{8, 4}}).done();
  netflow_decoder d;
  std::vector<flow_record> out;
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(d.pending_count() == 0u);
}

BOOST_AUTO_TEST_CASE(held_data_is_bounded_per_exporter_and_expires_with_counts) {
  netflow_decoder_options opts;
  opts.pending_max_datagrams = 2;
  opts.pending_max_age_us = 5'000'000;
  netflow_decoder d(opts);
  std::vector<flow_record> out;
  for (uint32_t i = 0; i < 3; ++i) {
    auto data = packet::v9(i, 0);
    data.begin_set(256).v4("10.0.0.1").u32(i).end_set();
    decode(d, data, from("127.0.0.1", 1'000'000 + i), out);
  }
  // Another exporter's held data is not pushed out by the first one's.
  auto other = packet::v9(0, 0);
  other.begin_set(256).v4("10.9.9.9").u32(9).end_set();
  decode(d, other, from("127.0.0.2", 4'000'000), out);
  BOOST_TEST(d.pending_count() == 3u);
  BOOST_TEST(counter(d, "netflow_pending_overflow_total") == 1u);
  d.expire(1'000'003 + 5'000'000); // the two held from 127.0.0.1 are older than 5 s
  BOOST_TEST(d.pending_count() == 1u);
  BOOST_TEST(counter(d, "netflow_pending_expired_total") == 2u);
  auto tmpl = packet::v9(1, 0);
  tmpl.template_set(0, 256, {{8, 4}, {1, 4}});
  BOOST_TEST(decode(d, tmpl, from("127.0.0.1", 7'000'000), out) == 0u);
  BOOST_TEST(decode(d, tmpl, from("127.0.0.2", 7'000'000), out) == 1u);
  BOOST_TEST(out[0].bytes == 9u);
  BOOST_TEST(counter(d, "netflow_pending_held") == 0u);
}

// -- sequence numbers ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(v5_sequence_gaps_count_lost_flows_across_wraparound) {
  auto v5 = [](uint32_t seq, uint16_t count) {
    packet p;
    p.u16(5).u16(count).u32(0).u32(0).u32(0).u32(seq).u8(0).u8(0).u16(0);
    for (uint16_t i = 0; i < count; ++i)
      p.zeros(48);
    return p;
  };
  netflow_decoder d;
  std::vector<flow_record> out;
  decode(d, v5(0xFFFFFFF0u, 2), from("127.0.0.1"), out);
  decode(d, v5(0xFFFFFFFEu, 2), from("127.0.0.1"), out); // 12 flows lost
  decode(d, v5(1, 1), from("127.0.0.1"), out);           // wrapped past 0: 1 lost
  decode(d, v5(2, 1), from("127.0.0.1"), out);
  decode(d, v5(100'000'000, 1), from("127.0.0.1"), out); // huge jump: a reset, not loss
  decode(d, v5(100'000'001, 1), from("127.0.0.1"), out);
  auto s = d.exporters()[0];
  BOOST_TEST(s.sequence_lost == 13u);
  BOOST_TEST(s.sequence_resets == 1u);
  BOOST_TEST(counter(d, "netflow_sequence_lost_total{unit=\"records\"}") == 13u);
}

BOOST_AUTO_TEST_CASE(v9_sequence_counts_lost_packets_reordering_and_restarts) {
  netflow_decoder d;
  std::vector<flow_record> out;
  for (uint32_t seq : {5u, 9u, 8u, 10u, 3'000'000u, 3'000'001u, 0u, 1u})
    decode(d, packet::v9(seq, 0), from("127.0.0.1"), out);
  auto s = d.exporters()[0];
  BOOST_TEST(s.sequence_lost == 3u);      // 6, 7, 8 missed when 9 came
  BOOST_TEST(s.sequence_reordered == 1u); // 8 late
  BOOST_TEST(s.sequence_resets == 2u);    // jump to 3,000,000 and restart at 0
  BOOST_TEST(counter(d, "netflow_sequence_lost_total{unit=\"packets\"}") == 3u);
}

BOOST_AUTO_TEST_CASE(ipfix_sequence_counts_data_records_per_domain) {
  auto msg = [](uint32_t seq, uint32_t domain, int records) {
    auto p = packet::ipfix(seq, domain);
    p.template_set(2, 256, {{8, 4}});
    p.begin_set(256);
    for (int i = 0; i < records; ++i)
      p.v4("10.0.0.1");
    return p.end_set().done();
  };
  netflow_decoder d;
  std::vector<flow_record> out;
  decode(d, msg(100, 1, 3), from("127.0.0.1"), out);
  decode(d, msg(500, 2, 1), from("127.0.0.1"), out);
  decode(d, msg(110, 1, 2), from("127.0.0.1"), out); // 103..109 lost
  decode(d, msg(501, 2, 1), from("127.0.0.1"), out);
  decode(d, msg(112, 1, 1), from("127.0.0.1"), out);
  auto all = d.exporters();
  BOOST_TEST(stats_of(all, "127.0.0.1", 1).sequence_lost == 7u);
  BOOST_TEST(stats_of(all, "127.0.0.1", 2).sequence_lost == 0u);
  BOOST_TEST(stats_of(all, "127.0.0.1", 1).records == 6u);
}

BOOST_AUTO_TEST_CASE(an_ipfix_exporter_counting_the_current_message_too_shows_no_false_loss) {
  // softflowd: sequence = records sent including this message's.
  auto msg = [](uint32_t seq, int records) {
    auto p = packet::ipfix(seq, 0);
    p.template_set(2, 256, {{8, 4}});
    p.begin_set(256);
    for (int i = 0; i < records; ++i)
      p.v4("10.0.0.1");
    return p.end_set().done();
  };
  netflow_decoder d;
  std::vector<flow_record> out;
  decode(d, msg(20, 20), from("127.0.0.1"), out);
  decode(d, msg(46, 26), from("127.0.0.1"), out);
  decode(d, msg(71, 25), from("127.0.0.1"), out);
  decode(d, msg(90, 4), from("127.0.0.1"), out); // 15 records lost before this one
  auto s = d.exporters()[0];
  BOOST_TEST(s.sequence_lost == 15u);
  BOOST_TEST(s.sequence_reordered == 0u);
  BOOST_TEST(s.sequence_resets == 0u);
}

// -- malformed input ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(truncated_and_absurd_headers_are_counted_per_exporter_and_reason) {
  netflow_decoder d;
  std::vector<flow_record> out;
  packet short_v5;
  short_v5.u16(5).u16(1).u32(0);
  packet short_records;
  short_records.u16(5).u16(2).zeros(20).zeros(48);
  packet absurd;
  absurd.u16(5).u16(1000).zeros(20).zeros(96);
  packet v7;
  v7.u16(7).zeros(30);
  auto long_ipfix = packet::ipfix(0, 0);
  long_ipfix.b[3] = 200; // message length beyond the datagram
  auto v9_short = packet::v9(0, 0);
  v9_short.b.resize(12);
  uint8_t one = 0;
  BOOST_TEST(d.decode(&one, 1, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(decode(d, short_v5, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(decode(d, short_records, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(decode(d, absurd, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(decode(d, v7, from("127.0.0.2"), out) == 0u);
  BOOST_TEST(decode(d, long_ipfix, from("127.0.0.2"), out) == 0u);
  BOOST_TEST(decode(d, v9_short, from("127.0.0.2"), out) == 0u);
  BOOST_TEST(out.empty());
  BOOST_TEST(d.error_count(addr("127.0.0.1"), netflow_error::truncated) == 3u);
  BOOST_TEST(d.error_count(addr("127.0.0.1"), netflow_error::bad_count) == 1u);
  BOOST_TEST(d.error_count(addr("127.0.0.2"), netflow_error::bad_version) == 1u);
  BOOST_TEST(d.error_count(addr("127.0.0.2"), netflow_error::bad_message_length) == 1u);
  BOOST_TEST(d.error_count(addr("127.0.0.2"), netflow_error::truncated) == 1u);
  BOOST_TEST(counter(d, "netflow_decode_errors_total{reason=\"truncated\"}") == 4u);
  BOOST_TEST(counter(d, "netflow_exporter_decode_errors_total{exporter=\"127.0.0.1\",reason="
                        "\"bad_count\"}") == 1u);
}

BOOST_AUTO_TEST_CASE(bad_set_lengths_stop_the_datagram_but_keep_earlier_sets) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto tmpl = packet::v9(0, 0);
  tmpl.template_set(0, 256, {{8, 4}});
  decode(d, tmpl, from("127.0.0.1"), out);
  auto zero = packet::v9(1, 0);
  zero.begin_set(256).v4("10.0.0.1").end_set();
  zero.u16(256).u16(0).v4("10.0.0.2"); // zero-length set
  auto small = packet::v9(2, 0);
  small.u16(256).u16(2).v4("10.0.0.3");
  auto beyond = packet::v9(3, 0);
  beyond.u16(256).u16(400).v4("10.0.0.4");
  BOOST_TEST(decode(d, zero, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(decode(d, small, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(decode(d, beyond, from("127.0.0.1"), out) == 0u);
  BOOST_TEST(d.error_count(netflow_error::bad_set_length) == 3u);
  BOOST_TEST(out[0].src_addr == addr("10.0.0.1"));
}

BOOST_AUTO_TEST_CASE(bad_templates_are_counted_and_the_rest_of_the_datagram_decodes) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto p = packet::v9(0, 0);
  p.begin_set(0).u16(300).u16(0).end_set();                   // 0 fields
  p.template_set(0, 301, {{8, 4}, {1, 0}});                   // zero-length field
  p.template_set(0, 302, {{8, 4}, {82, 40000}, {83, 40000}}); // record too long
  p.begin_set(0).u16(303).u16(10000).u16(8).u16(4).end_set(); // absurd field count
  p.template_set(0, 100, {{8, 4}});                           // ID below 256
  p.begin_set(7).u32(0).end_set();                            // reserved set ID
  p.template_set(0, 256, {{8, 4}});
  p.begin_set(256).v4("10.0.0.1").end_set();
  BOOST_TEST(decode(d, p, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(d.error_count(netflow_error::bad_template) == 3u);
  BOOST_TEST(d.error_count(netflow_error::zero_length_field) == 1u);
  BOOST_TEST(d.error_count(netflow_error::record_too_long) == 1u);
  BOOST_TEST(d.error_count(netflow_error::reserved_set_id) == 1u);
  BOOST_TEST(d.template_count() == 1u);
  // IPFIX: template with 0 fields in an options set, and a variable-length overrun.
  auto q = packet::ipfix(0, 0);
  q.begin_set(3).u16(400).u16(1).u16(0).u16(8).u16(4).end_set(); // scope count 0
  q.template_set(2, 256, {{8, 4}, {82, 0xffff}});
  q.begin_set(256).v4("10.0.0.2").u8(2).u16(0).v4("10.0.0.3").u8(200).u16(0).end_set().done();
  BOOST_TEST(decode(d, q, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out.back().src_addr == addr("10.0.0.2"));
  BOOST_TEST(d.error_count(netflow_error::bad_template) == 4u);
  BOOST_TEST(d.error_count(netflow_error::record_too_long) == 2u);
}

BOOST_AUTO_TEST_CASE(one_exporters_garbage_leaves_another_exporter_unaffected) {
  netflow_decoder d;
  std::vector<flow_record> out;
  auto good = packet::v9(0, 0);
  good.template_set(0, 256, {{8, 4}, {1, 4}});
  decode(d, good, from("127.0.0.1"), out);
  auto bad = packet::v9(0, 0);
  bad.template_set(0, 256, {{1, 0}});
  bad.u16(256).u16(3);
  decode(d, bad, from("127.0.0.2"), out);
  auto data = packet::v9(1, 0);
  data.begin_set(256).v4("10.0.0.1").u32(5).end_set();
  BOOST_TEST(decode(d, data, from("127.0.0.1"), out) == 1u);
  BOOST_TEST(out[0].bytes == 5u);
  BOOST_TEST(d.error_count(addr("127.0.0.1"), netflow_error::zero_length_field) == 0u);
  BOOST_TEST(d.error_count(addr("127.0.0.2"), netflow_error::zero_length_field) == 1u);
  BOOST_TEST(d.error_count(addr("127.0.0.2"), netflow_error::bad_set_length) == 1u);
}

BOOST_AUTO_TEST_CASE(collect_reports_totals_and_per_exporter_counters) {
  auto p = packet::v9(0, 3);
  p.template_set(0, 256, {{8, 4}});
  p.begin_set(256).v4("10.0.0.1").v4("10.0.0.2").end_set();
  netflow_decoder d;
  std::vector<flow_record> out;
  decode(d, p, from("127.0.0.1"), out);
  BOOST_TEST(counter(d, "netflow_datagrams_total") == 1u);
  BOOST_TEST(counter(d, "netflow_datagrams_by_version_total{version=\"9\"}") == 1u);
  BOOST_TEST(counter(d, "netflow_records_total") == 2u);
  BOOST_TEST(counter(d, "netflow_templates_active") == 1u);
  BOOST_TEST(counter(d, "netflow_exporter_records_total{exporter=\"127.0.0.1\",domain=\"3\","
                        "version=\"9\"}") == 2u);
  BOOST_TEST(counter(d, "netflow_exporter_templates_active{exporter=\"127.0.0.1\",domain=\"3\","
                        "version=\"9\"}") == 1u);
}
