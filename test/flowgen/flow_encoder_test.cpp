#define BOOST_TEST_MODULE flow_encoder
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "actors/decoder/sflow_decoder.hpp"
#include "tools/flowgen/flow_encoder.hpp"
#include "tools/flowgen/flow_synthesizer.hpp"
#include "tools/flowgen/pcap_writer.hpp"

using namespace tidewatch;

namespace {

constexpr int64_t now_us = 1'700'000'000'123'456;
constexpr int64_t boot_us = now_us - int64_t{3600} * 1'000'000;

uint16_t be16(const std::vector<uint8_t>& b, size_t at) {
  return uint16_t(b.at(at) << 8 | b.at(at + 1));
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(be16(b, at)) << 16 | be16(b, at + 2);
}

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

/// A TCP flow with every field the encoders carry set to a distinct value.
flow_record known_record() {
  flow_record r;
  r.ip_version = 4;
  r.src_addr = addr("203.0.113.5");
  r.dst_addr = addr("198.51.100.7");
  r.next_hop = addr("192.0.2.1");
  r.input_interface = 3;
  r.output_interface = 12;
  r.packets = 10;
  r.bytes = 5000;
  r.flow_start_us = boot_us + 3'599'500'000;
  r.flow_end_us = boot_us + 3'599'900'000;
  r.src_port = 51000;
  r.dst_port = 443;
  r.tcp_flags = 0x1b;
  r.ip_protocol = 6;
  r.tos = 0x20;
  r.src_as = 64500;
  r.dst_as = 64511;
  r.src_mask = 24;
  r.dst_mask = 24;
  r.direction = flow_direction::ingress;
  return r;
}

flow_record known_v6_record() {
  flow_record r = known_record();
  r.ip_version = 6;
  r.src_addr = addr("2001:db8::5");
  r.dst_addr = addr("2001:db8:1::7");
  r.next_hop = addr("2001:db8::1");
  return r;
}

/// Encodes all of `records` into data datagrams, one vector each.
std::vector<std::vector<uint8_t>> encode_all(flow_encoder& enc,
                                             const std::vector<flow_record>& records) {
  std::vector<std::vector<uint8_t>> out;
  std::span<const flow_record> rest(records);
  while (!rest.empty()) {
    out.emplace_back();
    rest = rest.subspan(enc.data_datagram(rest, now_us, out.back()));
  }
  return out;
}

} // namespace

// -- NetFlow v5 -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_v5_datagram_has_the_exact_header_and_record_bytes) {
  flow_encoder enc(export_protocol::netflow_v5, 0);
  enc.set_boot_time(boot_us);
  enc.set_engine(1, 2);
  enc.set_sampling_rate(100);
  std::vector<flow_record> records{known_record()};
  std::vector<uint8_t> out;
  BOOST_TEST(enc.data_datagram(records, now_us, out) == 1u);
  std::vector<uint8_t> expected = {
      0x00, 0x05, 0x00, 0x01, // version 5, count 1
      0x00, 0x36, 0xee, 0x80, // sysUptime 3600000 ms
      0x65, 0x53, 0xf1, 0x00, // unix secs 1700000000
      0x07, 0x5b, 0xca, 0x00, // unix nsecs 123456000
      0x00, 0x00, 0x00, 0x00, // flow sequence 0
      0x01, 0x02,             // engine type 1, engine id 2
      0x40, 0x64,             // sampling: mode 1, interval 100
      0xcb, 0x00, 0x71, 0x05, // src 203.0.113.5
      0xc6, 0x33, 0x64, 0x07, // dst 198.51.100.7
      0xc0, 0x00, 0x02, 0x01, // next hop 192.0.2.1
      0x00, 0x03, 0x00, 0x0c, // input 3, output 12
      0x00, 0x00, 0x00, 0x0a, // packets 10
      0x00, 0x00, 0x13, 0x88, // bytes 5000
      0x00, 0x36, 0xec, 0x8c, // first 3599500 ms
      0x00, 0x36, 0xee, 0x1c, // last 3599900 ms
      0xc7, 0x38, 0x01, 0xbb, // ports 51000 -> 443
      0x00, 0x1b, 0x06, 0x20, // pad, flags, protocol 6, tos 0x20
      0xfb, 0xf4, 0xfb, 0xff, // src AS 64500, dst AS 64511
      0x18, 0x18, 0x00, 0x00, // masks 24/24, pad
  };
  BOOST_TEST(out == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(v5_flow_sequence_counts_the_flows_sent_before_each_datagram) {
  flow_encoder enc(export_protocol::netflow_v5, 0);
  BOOST_TEST(enc.max_records_per_datagram(false) == 28u); // 24 + 28 * 48 <= 1400
  std::vector<flow_record> records(70, known_record());
  auto datagrams = encode_all(enc, records);
  BOOST_REQUIRE(datagrams.size() == 3u);
  BOOST_TEST(be16(datagrams[0], 2) == 28u);
  BOOST_TEST(be16(datagrams[1], 2) == 28u);
  BOOST_TEST(be16(datagrams[2], 2) == 14u);
  BOOST_TEST(be32(datagrams[0], 16) == 0u);
  BOOST_TEST(be32(datagrams[1], 16) == 28u);
  BOOST_TEST(be32(datagrams[2], 16) == 56u);
  BOOST_TEST(datagrams[0].size() == 24u + 28 * 48);
  BOOST_TEST(enc.next_sequence() == 70u);
}

BOOST_AUTO_TEST_CASE(v5_carries_thirty_records_when_the_datagram_size_allows) {
  flow_encoder enc(export_protocol::netflow_v5, 0, 1464);
  BOOST_TEST(enc.max_records_per_datagram(false) == 30u);
  BOOST_TEST(enc.max_records_per_datagram(true) == 0u);
  flow_encoder big(export_protocol::netflow_v5, 0, 9000);
  BOOST_TEST(big.max_records_per_datagram(false) == 30u);
}

BOOST_AUTO_TEST_CASE(v5_consumes_ipv6_records_without_encoding_them) {
  flow_encoder enc(export_protocol::netflow_v5, 0);
  std::vector<flow_record> records{known_v6_record(), known_record(), known_v6_record()};
  std::vector<uint8_t> out;
  BOOST_TEST(enc.data_datagram(records, now_us, out) == 3u);
  BOOST_TEST(out.size() == 24u + 48);
  BOOST_TEST(be16(out, 2) == 1u);
  BOOST_TEST(enc.unencodable_records() == 2u);
  BOOST_TEST(enc.next_sequence() == 1u);
  std::vector<flow_record> only_v6{known_v6_record()};
  out.clear();
  BOOST_TEST(enc.data_datagram(only_v6, now_us, out) == 1u);
  BOOST_TEST(out.empty());
  BOOST_TEST(enc.template_datagram(now_us).empty());
}

// -- NetFlow v9 -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_v9_template_datagram_holds_both_templates_and_the_sampling_options) {
  flow_encoder enc(export_protocol::netflow_v9, 77);
  enc.set_boot_time(boot_us);
  enc.set_sampling_rate(512);
  auto d = enc.template_datagram(now_us);
  BOOST_REQUIRE(d.size() == 20u + 164 + 28 + 16);
  BOOST_TEST(be16(d, 0) == 9u);
  BOOST_TEST(be16(d, 2) == 4u); // 2 templates + options template + options data
  BOOST_TEST(be32(d, 4) == 3'600'000u);
  BOOST_TEST(be32(d, 8) == 1'700'000'000u);
  BOOST_TEST(be32(d, 12) == 0u);
  BOOST_TEST(be32(d, 16) == 77u);
  // Template flowset: id 0, two templates of 19 fields each.
  BOOST_TEST(be16(d, 20) == 0u);
  BOOST_TEST(be16(d, 22) == 164u);
  BOOST_TEST(be16(d, 24) == 256u);
  BOOST_TEST(be16(d, 26) == 19u);
  BOOST_TEST(be16(d, 28) == 8u); // first field: IPV4_SRC_ADDR
  BOOST_TEST(be16(d, 30) == 4u);
  BOOST_TEST(be16(d, 24 + 80) == 257u);
  BOOST_TEST(be16(d, 26 + 80) == 19u);
  BOOST_TEST(be16(d, 28 + 80) == 27u); // IPV6_SRC_ADDR
  BOOST_TEST(be16(d, 30 + 80) == 16u);
  // Options template flowset: id 1, padded from 26 to 28 bytes.
  size_t o = 20 + 164;
  BOOST_TEST(be16(d, o) == 1u);
  BOOST_TEST(be16(d, o + 2) == 28u);
  BOOST_TEST(be16(d, o + 4) == 258u);
  BOOST_TEST(be16(d, o + 6) == 4u);  // scope length in bytes
  BOOST_TEST(be16(d, o + 8) == 12u); // option length in bytes
  BOOST_TEST(be16(d, o + 10) == 1u); // scope System
  BOOST_TEST(be16(d, o + 14) == 48u);
  BOOST_TEST(be16(d, o + 18) == 34u);
  BOOST_TEST(be16(d, o + 22) == 35u);
  // Options data: source ID 77, sampler 1, interval 512, deterministic.
  size_t od = o + 28;
  BOOST_TEST(be16(d, od) == 258u);
  BOOST_TEST(be16(d, od + 2) == 16u);
  BOOST_TEST(be32(d, od + 4) == 77u);
  BOOST_TEST(d[od + 8] == 1u);
  BOOST_TEST(be32(d, od + 9) == 512u);
  BOOST_TEST(d[od + 13] == 1u);
}

BOOST_AUTO_TEST_CASE(an_unsampled_v9_template_datagram_has_no_options) {
  flow_encoder enc(export_protocol::netflow_v9, 1);
  auto d = enc.template_datagram(now_us);
  BOOST_TEST(d.size() == 20u + 164);
  BOOST_TEST(be16(d, 2) == 2u);
}

BOOST_AUTO_TEST_CASE(v9_package_sequence_counts_every_export_packet) {
  flow_encoder enc(export_protocol::netflow_v9, 1);
  BOOST_TEST(enc.max_records_per_datagram(false) == 25u); // (1400 - 24) / 54
  BOOST_TEST(enc.max_records_per_datagram(true) == 15u);  // (1400 - 24) / 90
  BOOST_TEST(be32(enc.template_datagram(now_us), 12) == 0u);
  std::vector<flow_record> records(60, known_record());
  auto datagrams = encode_all(enc, records);
  BOOST_REQUIRE(datagrams.size() == 3u);
  BOOST_TEST(be32(datagrams[0], 12) == 1u);
  BOOST_TEST(be32(datagrams[1], 12) == 2u);
  BOOST_TEST(be32(datagrams[2], 12) == 3u);
  BOOST_TEST(be16(datagrams[0], 2) == 25u);
  BOOST_TEST(be16(datagrams[2], 2) == 10u);
  BOOST_TEST(be32(enc.template_datagram(now_us), 12) == 4u);
  BOOST_TEST(enc.next_sequence() == 5u);
}

BOOST_AUTO_TEST_CASE(v9_mixed_families_get_one_padded_flowset_per_run) {
  flow_encoder enc(export_protocol::netflow_v9, 1);
  std::vector<flow_record> records{known_record(), known_v6_record(), known_v6_record(),
                                   known_record()};
  std::vector<uint8_t> d;
  BOOST_TEST(enc.data_datagram(records, now_us, d) == 4u);
  // 54-byte IPv4 records pad to 56 + 4; 2 x 90-byte IPv6 records make 184.
  size_t at = 20;
  BOOST_TEST(be16(d, at) == 256u);
  BOOST_TEST(be16(d, at + 2) == 60u);
  at += 60;
  BOOST_TEST(be16(d, at) == 257u);
  BOOST_TEST(be16(d, at + 2) == 184u);
  at += 184;
  BOOST_TEST(be16(d, at) == 256u);
  BOOST_TEST(be16(d, at + 2) == 60u);
  BOOST_TEST(d.size() == at + 60);
  BOOST_TEST(be16(d, 2) == 4u);
}

BOOST_AUTO_TEST_CASE(data_datagrams_never_exceed_the_maximum_size) {
  for (auto protocol : {export_protocol::netflow_v9, export_protocol::ipfix}) {
    for (size_t max : {256u, 1400u, 1500u, 9000u}) {
      flow_encoder enc(protocol, 1, max);
      std::vector<flow_record> records;
      for (int i = 0; i < 500; ++i)
        records.push_back(i % 3 == 0 ? known_v6_record() : known_record());
      size_t total = 0;
      for (auto& d : encode_all(enc, records)) {
        BOOST_TEST(d.size() <= max);
        total += protocol == export_protocol::netflow_v9 ? be16(d, 2) : 0;
      }
      if (protocol == export_protocol::netflow_v9)
        BOOST_TEST(total == 500u);
      else
        BOOST_TEST(enc.next_sequence() == 500u);
    }
  }
}

// -- IPFIX ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_ipfix_template_message_holds_templates_and_sampling_options) {
  flow_encoder enc(export_protocol::ipfix, 4242);
  enc.set_sampling_rate(1000);
  auto d = enc.template_datagram(now_us);
  BOOST_REQUIRE(d.size() == 16u + 164 + 26 + 20);
  BOOST_TEST(be16(d, 0) == 10u);
  BOOST_TEST(be16(d, 2) == d.size());
  BOOST_TEST(be32(d, 4) == 1'700'000'000u);
  BOOST_TEST(be32(d, 8) == 0u);
  BOOST_TEST(be32(d, 12) == 4242u);
  BOOST_TEST(be16(d, 16) == 2u);
  BOOST_TEST(be16(d, 18) == 164u);
  BOOST_TEST(be16(d, 20) == 256u);
  BOOST_TEST(be16(d, 22) == 19u);
  BOOST_TEST(be16(d, 24 + 7 * 4) == 1u); // octetDeltaCount, 8 bytes
  BOOST_TEST(be16(d, 26 + 7 * 4) == 8u);
  BOOST_TEST(be16(d, 24 + 16 * 4) == 152u); // flowStartMilliseconds
  BOOST_TEST(be16(d, 24 + 17 * 4) == 153u); // flowEndMilliseconds
  BOOST_TEST(be16(d, 20 + 80) == 257u);
  BOOST_TEST(be16(d, 22 + 80) == 19u);
  size_t o = 16 + 164;
  BOOST_TEST(be16(d, o) == 3u);
  BOOST_TEST(be16(d, o + 2) == 26u);
  BOOST_TEST(be16(d, o + 4) == 258u);
  BOOST_TEST(be16(d, o + 6) == 4u); // field count
  BOOST_TEST(be16(d, o + 8) == 1u); // scope field count
  BOOST_TEST(be16(d, o + 10) == 149u);
  BOOST_TEST(be16(d, o + 14) == 34u);
  BOOST_TEST(be16(d, o + 18) == 305u);
  BOOST_TEST(be16(d, o + 22) == 306u);
  size_t od = o + 26;
  BOOST_TEST(be16(d, od) == 258u);
  BOOST_TEST(be16(d, od + 2) == 20u);
  BOOST_TEST(be32(d, od + 4) == 4242u);
  BOOST_TEST(be32(d, od + 8) == 1000u);
  BOOST_TEST(be32(d, od + 12) == 1u);
  BOOST_TEST(be32(d, od + 16) == 999u);
  // The options data record is a data record: it advances the sequence.
  BOOST_TEST(enc.next_sequence() == 1u);
}

BOOST_AUTO_TEST_CASE(ipfix_sequence_counts_data_records_but_not_templates) {
  flow_encoder enc(export_protocol::ipfix, 1);
  BOOST_TEST(enc.max_records_per_datagram(false) == 19u); // (1400 - 20) / 70
  BOOST_TEST(enc.max_records_per_datagram(true) == 13u);  // (1400 - 20) / 106
  BOOST_TEST(be32(enc.template_datagram(now_us), 8) == 0u);
  std::vector<flow_record> records(50, known_record());
  auto datagrams = encode_all(enc, records);
  BOOST_REQUIRE(datagrams.size() == 3u);
  BOOST_TEST(be32(datagrams[0], 8) == 0u);
  BOOST_TEST(be32(datagrams[1], 8) == 19u);
  BOOST_TEST(be32(datagrams[2], 8) == 38u);
  BOOST_TEST(be16(datagrams[2], 2) == 16u + 4 + 12 * 70);
  BOOST_TEST(be32(enc.template_datagram(now_us), 8) == 50u);
  BOOST_TEST(enc.next_sequence() == 50u);
}

BOOST_AUTO_TEST_CASE(an_ipfix_record_carries_absolute_millisecond_times_and_64_bit_counters) {
  flow_encoder enc(export_protocol::ipfix, 1);
  std::vector<flow_record> records{known_record()};
  std::vector<uint8_t> d;
  enc.data_datagram(records, now_us, d);
  BOOST_REQUIRE(d.size() == 16u + 4 + 70);
  size_t r = 20;
  BOOST_TEST(be32(d, r + 15) == 0u); // octets, high half
  BOOST_TEST(be32(d, r + 19) == 5000u);
  BOOST_TEST(be32(d, r + 27) == 10u); // packets, low half
  uint64_t start = uint64_t(be32(d, r + 53)) << 32 | be32(d, r + 57);
  uint64_t end = uint64_t(be32(d, r + 61)) << 32 | be32(d, r + 65);
  BOOST_TEST(start == uint64_t(known_record().flow_start_us / 1000));
  BOOST_TEST(end == uint64_t(known_record().flow_end_us / 1000));
  BOOST_TEST(d[r + 69] == 0u); // ingress
}

// -- independent decode by tshark -------------------------------------------------------

namespace {

/// What tshark must report for one frame, as the comma-joined lists its
/// `-T fields -E aggregator=,` output prints.
struct expected_frame {
  uint32_t sequence = 0;
  std::string src4, dst4, src6, dst6, src_ports, dst_ports, protocols, packets, octets;
};

void append(std::string& list, const std::string& value) {
  if (!list.empty())
    list += ',';
  list += value;
}

expected_frame describe(std::span<const flow_record> records, uint32_t sequence) {
  expected_frame f;
  f.sequence = sequence;
  for (auto& r : records) {
    append(r.ip_version == 6 ? f.src6 : f.src4, r.src_addr.to_string());
    append(r.ip_version == 6 ? f.dst6 : f.dst4, r.dst_addr.to_string());
    append(f.src_ports, std::to_string(r.src_port));
    append(f.dst_ports, std::to_string(r.dst_port));
    append(f.protocols, std::to_string(r.ip_protocol));
    append(f.packets, std::to_string(r.packets));
    append(f.octets, std::to_string(r.bytes));
  }
  return f;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep))
    out.push_back(cell);
  if (!line.empty() && line.back() == sep)
    out.emplace_back();
  return out;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  BOOST_REQUIRE(p != nullptr);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    out.append(buf, n);
  BOOST_REQUIRE(::pclose(p) == 0);
  return out;
}

/// Encodes synthetic traffic (templates first, mixed families, an attack, sampling)
/// into a pcap and checks that tshark decodes exactly the same flows and sequence.
void check_with_tshark(export_protocol protocol, double ipv6_share) {
  traffic_profile profile;
  address_prefix p;
  for (auto text : {"10.0.0.0/8", "2001:db8:a::/48"}) {
    BOOST_REQUIRE(address_prefix::parse(text, p));
    profile.src_prefixes.push_back(p);
  }
  for (auto text : {"198.51.100.0/24", "2001:db8:b::/64"}) {
    BOOST_REQUIRE(address_prefix::parse(text, p));
    profile.dst_prefixes.push_back(p);
  }
  profile.hosts = 300;
  profile.ipv6_share = ipv6_share;
  profile.attack_target = addr("198.51.100.10");
  profile.attack = attack_type::ntp_amp;
  flow_synthesizer synth(profile, 7);
  std::vector<flow_record> records(1000);
  for (size_t i = 0; i < records.size(); ++i) {
    if (i % 10 == 0)
      synth.next_attack(records[i], now_us);
    else
      synth.next_flow(records[i], now_us);
  }

  auto dir = std::filesystem::temp_directory_path();
  auto path = (dir / ("flow_encoder_test_" + std::to_string(::getpid()) + "_" +
                      std::to_string(int(protocol)) + ".pcap"))
                  .string();
  uint16_t port = protocol == export_protocol::ipfix ? 4739 : 2055;
  udp_endpoint src{addr("127.0.0.2"), 50123};
  udp_endpoint dst{addr("127.0.0.1"), port};
  flow_encoder enc(protocol, 9);
  enc.set_sampling_rate(10);
  std::vector<expected_frame> frames;
  {
    pcap_writer pcap(path);
    if (protocol != export_protocol::netflow_v5) {
      auto t = enc.template_datagram(now_us);
      pcap.write(src, dst, t, now_us);
      frames.push_back(expected_frame{0, {}, {}, {}, {}, {}, {}, {}, {}, {}});
    }
    std::span<const flow_record> rest(records);
    std::vector<uint8_t> d;
    while (!rest.empty()) {
      uint32_t seq = enc.next_sequence();
      d.clear();
      size_t used = enc.data_datagram(rest, now_us, d);
      pcap.write(src, dst, d, now_us);
      frames.push_back(describe(rest.first(used), seq));
      rest = rest.subspan(used);
    }
    pcap.close();
  }

  std::string fields;
  for (auto f :
       {"ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.checksum.status", "cflow.sequence",
        "cflow.srcaddr", "cflow.dstaddr", "cflow.srcaddrv6", "cflow.dstaddrv6", "cflow.srcport",
        "cflow.dstport", "cflow.protocol", "cflow.packets", "cflow.octets",
        "cflow.sequence_analysis.expected_sn", "_ws.malformed", "_ws.expert.severity"})
    fields += std::string(" -e ") + f;
  auto out = run("tshark -r " + path + " -d udp.port==" + std::to_string(port) +
                 ",cflow -o udp.check_checksum:TRUE -T fields -E separator=/t"
                 " -E aggregator=, -E occurrence=a" +
                 fields + " 2>/dev/null");
  std::filesystem::remove(path);
  auto lines = split(out, '\n');
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  BOOST_REQUIRE_EQUAL(lines.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    BOOST_TEST_CONTEXT("frame " << i + 1) {
      auto c = split(lines[i], '\t');
      BOOST_REQUIRE_EQUAL(c.size(), 18u);
      auto& e = frames[i];
      BOOST_TEST(c[0] == "127.0.0.2");
      BOOST_TEST(c[1] == "127.0.0.1");
      BOOST_TEST(c[2] == "50123");
      BOOST_TEST(c[3] == std::to_string(port));
      BOOST_TEST(c[4] == "1"); // UDP checksum good
      BOOST_TEST(c[5] == std::to_string(e.sequence));
      BOOST_TEST(c[6] == e.src4);
      BOOST_TEST(c[7] == e.dst4);
      BOOST_TEST(c[8] == e.src6);
      BOOST_TEST(c[9] == e.dst6);
      BOOST_TEST(c[10] == e.src_ports);
      BOOST_TEST(c[11] == e.dst_ports);
      BOOST_TEST(c[12] == e.protocols);
      BOOST_TEST(c[13] == e.packets);
      BOOST_TEST(c[14] == e.octets);
      BOOST_TEST(c[15] == ""); // no sequence gap reported
      BOOST_TEST(c[16] == ""); // not malformed
      BOOST_TEST(c[17] == ""); // no expert info at all
    }
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(tshark_decodes_v5_datagrams_to_the_same_flows) {
  check_with_tshark(export_protocol::netflow_v5, 0);
}

BOOST_AUTO_TEST_CASE(tshark_decodes_v9_datagrams_to_the_same_flows) {
  check_with_tshark(export_protocol::netflow_v9, 0.3);
}

BOOST_AUTO_TEST_CASE(tshark_decodes_ipfix_messages_to_the_same_flows) {
  check_with_tshark(export_protocol::ipfix, 0.3);
}

// -- sFlow v5 ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sflow_flow_samples_decode_back_to_the_records_they_came_from) {
  flow_encoder enc(export_protocol::sflow_v5, 7);
  enc.set_sampling_rate(256);
  enc.set_agent(addr("192.0.2.9"));
  auto v4 = known_record();
  auto v6 = known_record();
  v6.ip_version = 6;
  v6.src_addr = addr("2001:db8::5");
  v6.dst_addr = addr("2001:db8::7");
  v6.ip_protocol = 17;
  v6.tcp_flags = 0;
  std::vector<flow_record> records{v4, v6};
  std::vector<uint8_t> datagram;
  BOOST_TEST(enc.data_datagram(records, now_us, datagram) == 2u);
  BOOST_TEST(datagram.size() == 28u + 120u + 140u);
  BOOST_TEST(be32(datagram, 0) == 5u);
  BOOST_TEST(be32(datagram, 16) == 0u); // the first datagram's sequence
  BOOST_TEST(enc.next_sequence() == 1u);
  sflow_decoder dec;
  std::vector<flow_record> out;
  datagram_info meta;
  meta.received_us = now_us;
  BOOST_REQUIRE_EQUAL(dec.decode(datagram.data(), datagram.size(), meta, out), 2u);
  for (size_t i = 0; i < 2; ++i) {
    BOOST_TEST_CONTEXT("record " << i) {
      const auto& r = out[i];
      BOOST_TEST((r.exporter == addr("192.0.2.9")));
      BOOST_TEST(r.observation_domain == 7u);
      BOOST_TEST((r.src_addr == records[i].src_addr));
      BOOST_TEST((r.dst_addr == records[i].dst_addr));
      BOOST_TEST(r.src_port == 51000);
      BOOST_TEST(r.dst_port == 443);
      BOOST_TEST(r.ip_protocol == records[i].ip_protocol);
      BOOST_TEST(r.tcp_flags == records[i].tcp_flags);
      BOOST_TEST(r.tos == 0x20);
      BOOST_TEST(r.bytes == 500u); // 5000 bytes / 10 packets
      BOOST_TEST(r.packets == 1u);
      BOOST_TEST(r.sampling_rate == 256u);
      BOOST_TEST(r.sample_pool == 256u * (i + 1));
      BOOST_TEST(r.input_interface == 3u);
      BOOST_TEST(r.output_interface == 12u);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_sflow_counter_datagram_counts_what_was_sampled) {
  flow_encoder enc(export_protocol::sflow_v5, 1);
  enc.set_sampling_rate(100);
  std::vector<flow_record> records(3, known_record());
  std::vector<uint8_t> data;
  enc.data_datagram(records, now_us, data);
  auto counters = enc.template_datagram(now_us);
  sflow_decoder dec;
  std::vector<flow_record> out;
  datagram_info meta;
  dec.decode(data.data(), data.size(), meta, out);
  dec.decode(counters.data(), counters.size(), meta, out);
  BOOST_TEST(dec.datagrams_lost() == 0u);
  const auto* c = dec.interface_counters(addr("127.0.0.1"), 1, 1);
  BOOST_REQUIRE(c != nullptr);
  BOOST_TEST(c->in_octets == 1500u);
  BOOST_TEST(c->in_unicast_packets == 300u);
  BOOST_TEST(c->if_speed == 10'000'000'000u);
  BOOST_TEST(c->has_ethernet);
}

BOOST_AUTO_TEST_CASE(sflow_datagrams_never_exceed_the_maximum_size) {
  flow_encoder enc(export_protocol::sflow_v5, 1, 300);
  std::vector<flow_record> records(10, known_record());
  std::vector<uint8_t> data;
  BOOST_TEST(enc.max_records_per_datagram(false) == 2u);
  BOOST_TEST(enc.data_datagram(records, now_us, data) == 2u);
  BOOST_TEST(data.size() == 28u + 2 * 120u);
}
