#define BOOST_TEST_MODULE udp_packet
#include <boost/test/unit_test.hpp>

#include <cstring>

#include "actors/replicator/udp_packet.hpp"

using namespace tidewatch;

namespace {

/// RFC 1071 the slow way, one big-endian 16-bit word at a time: the reference
/// the fast native-order sum is checked against.
uint16_t reference_checksum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2)
    sum += uint32_t(bytes[i]) << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint16_t get16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = uint8_t(i * 7 + 3);
  return x;
}

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

/// The IPv4 or IPv6 pseudo-header + UDP header + payload whose checksum must be 0.
std::vector<uint8_t> checksummed_bytes(const ip_address& src, const ip_address& dst,
                                       const uint8_t* udp_header,
                                       const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> x;
  uint32_t udp_length = uint32_t(8 + payload.size());
  if (src.is_v4()) {
    x.insert(x.end(), src.bytes.begin() + 12, src.bytes.end());
    x.insert(x.end(), dst.bytes.begin() + 12, dst.bytes.end());
    x.insert(x.end(), {0, 17, uint8_t(udp_length >> 8), uint8_t(udp_length)});
  } else {
    x.insert(x.end(), src.bytes.begin(), src.bytes.end());
    x.insert(x.end(), dst.bytes.begin(), dst.bytes.end());
    x.insert(x.end(), {0, 0, uint8_t(udp_length >> 8), uint8_t(udp_length), 0, 0, 0, 17});
  }
  x.insert(x.end(), udp_header, udp_header + 8);
  x.insert(x.end(), payload.begin(), payload.end());
  return x;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_checksum_of_the_rfc_1071_example_is_220d) {
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  auto sum = checksum_fold(checksum_add(0, bytes, sizeof(bytes)));
  uint8_t stored[2];
  std::memcpy(stored, &sum, 2);
  BOOST_TEST(stored[0] == 0x22);
  BOOST_TEST(stored[1] == 0x0d);
}

BOOST_AUTO_TEST_CASE(the_fast_checksum_agrees_with_the_reference_for_every_length_up_to_300) {
  for (size_t n = 0; n <= 300; ++n) {
    auto bytes = pattern(n);
    auto fast = checksum_fold(checksum_add(0, bytes.data(), n));
    uint8_t stored[2];
    std::memcpy(stored, &fast, 2);
    BOOST_TEST_INFO("length " << n);
    BOOST_TEST(get16(stored) == reference_checksum(bytes));
  }
}

BOOST_AUTO_TEST_CASE(a_small_ipv4_datagram_is_one_packet_with_valid_ip_and_udp_checksums) {
  auto payload = pattern(101);
  udp_packet_spec spec;
  spec.source = addr("192.0.2.7");
  spec.source_port = 40001;
  spec.destination = addr("198.51.100.9");
  spec.destination_port = 2055;
  spec.identification = 0x1234;
  std::vector<uint8_t> headers;
  std::vector<packet_piece> pieces;
  auto n = build_udp_packets(spec, uint32_t(payload.size()),
                             checksum_add(0, payload.data(), payload.size()), headers, pieces);
  BOOST_REQUIRE(n == 1u);
  BOOST_REQUIRE(pieces.size() == 1u);
  BOOST_TEST(pieces[0].header_length == 28u);
  BOOST_TEST(pieces[0].payload_offset == 0u);
  BOOST_TEST(pieces[0].payload_length == 101u);
  auto* ip = headers.data();
  BOOST_TEST(ip[0] == 0x45);
  BOOST_TEST(get16(ip + 2) == 129u);   // total length
  BOOST_TEST(get16(ip + 4) == 0x1234); // identification
  BOOST_TEST(get16(ip + 6) == 0u);     // no DF, no fragment
  BOOST_TEST(ip[8] == 64);
  BOOST_TEST(ip[9] == 17);
  BOOST_TEST(reference_checksum({ip, ip + 20}) == 0u);
  BOOST_TEST((std::vector<uint8_t>(ip + 12, ip + 16) == std::vector<uint8_t>{192, 0, 2, 7}));
  BOOST_TEST((std::vector<uint8_t>(ip + 16, ip + 20) == std::vector<uint8_t>{198, 51, 100, 9}));
  auto* udp = ip + 20;
  BOOST_TEST(get16(udp) == 40001u);
  BOOST_TEST(get16(udp + 2) == 2055u);
  BOOST_TEST(get16(udp + 4) == 109u);
  BOOST_TEST(reference_checksum(checksummed_bytes(spec.source, spec.destination, udp, payload)) ==
             0u);
}

BOOST_AUTO_TEST_CASE(a_large_ipv4_datagram_becomes_fragments_of_at_most_the_mtu) {
  auto payload = pattern(4000);
  udp_packet_spec spec;
  spec.source = addr("192.0.2.7");
  spec.source_port = 2055;
  spec.destination = addr("198.51.100.9");
  spec.destination_port = 9995;
  spec.identification = 77;
  spec.mtu = 1500;
  std::vector<uint8_t> headers;
  std::vector<packet_piece> pieces;
  auto n = build_udp_packets(spec, 4000, checksum_add(0, payload.data(), payload.size()), headers,
                             pieces);
  // 4008 UDP bytes in 1480-byte chunks: 1480 + 1480 + 1048.
  BOOST_REQUIRE(n == 3u);
  BOOST_TEST(pieces[0].header_length == 28u);
  BOOST_TEST(pieces[0].payload_offset == 0u);
  BOOST_TEST(pieces[0].payload_length == 1472u);
  BOOST_TEST(pieces[1].header_length == 20u);
  BOOST_TEST(pieces[1].payload_offset == 1472u);
  BOOST_TEST(pieces[1].payload_length == 1480u);
  BOOST_TEST(pieces[2].payload_offset == 2952u);
  BOOST_TEST(pieces[2].payload_length == 1048u);
  const uint16_t fragment_fields[] = {0x2000, 0x2000 | 185, 370};
  for (size_t i = 0; i < 3; ++i) {
    auto* ip = headers.data() + pieces[i].header_offset;
    BOOST_TEST(get16(ip + 2) == pieces[i].header_length + pieces[i].payload_length);
    BOOST_TEST(get16(ip + 2) <= 1500u);
    BOOST_TEST(get16(ip + 4) == 77u);
    BOOST_TEST(get16(ip + 6) == fragment_fields[i]);
    BOOST_TEST(reference_checksum({ip, ip + 20}) == 0u);
  }
  auto* udp = headers.data() + pieces[0].header_offset + 20;
  BOOST_TEST(get16(udp + 4) == 4008u);
  BOOST_TEST(reference_checksum(checksummed_bytes(spec.source, spec.destination, udp, payload)) ==
             0u);
}

BOOST_AUTO_TEST_CASE(a_large_ipv6_datagram_gets_fragment_headers_with_one_identification) {
  auto payload = pattern(3001);
  udp_packet_spec spec;
  spec.source = addr("2001:db8::7");
  spec.source_port = 4739;
  spec.destination = addr("2001:db8:1::9");
  spec.destination_port = 4739;
  spec.identification = 0xdeadbeef;
  spec.mtu = 1280;
  std::vector<uint8_t> headers;
  std::vector<packet_piece> pieces;
  auto n = build_udp_packets(spec, 3001, checksum_add(0, payload.data(), payload.size()), headers,
                             pieces);
  // 3009 UDP bytes in 1232-byte chunks: 1232 + 1232 + 545.
  BOOST_REQUIRE(n == 3u);
  const uint32_t offsets[] = {0, 1232, 2464};
  const uint32_t lengths[] = {1232, 1232, 545};
  for (size_t i = 0; i < 3; ++i) {
    auto* ip = headers.data() + pieces[i].header_offset;
    BOOST_TEST(ip[0] == 0x60);
    BOOST_TEST(get16(ip + 4) == 8 + lengths[i]); // payload length: fragment header + data
    BOOST_TEST(ip[6] == 44);
    BOOST_TEST(40 + 8 + lengths[i] <= 1280u);
    auto* frag = ip + 40;
    BOOST_TEST(frag[0] == 17);
    BOOST_TEST(get16(frag + 2) == (offsets[i] | (i < 2 ? 1u : 0u)));
    BOOST_TEST((uint32_t(get16(frag + 4)) << 16 | get16(frag + 6)) == 0xdeadbeefu);
    BOOST_TEST(pieces[i].header_length == (i == 0 ? 56u : 48u));
    BOOST_TEST(pieces[i].payload_offset == (i == 0 ? 0u : offsets[i] - 8));
    BOOST_TEST(pieces[i].payload_length == (i == 0 ? lengths[i] - 8 : lengths[i]));
  }
  auto* udp = headers.data() + pieces[0].header_offset + 48;
  BOOST_TEST(get16(udp + 4) == 3009u);
  BOOST_TEST(reference_checksum(checksummed_bytes(spec.source, spec.destination, udp, payload)) ==
             0u);
}

BOOST_AUTO_TEST_CASE(a_udp_checksum_that_sums_to_zero_is_sent_as_ffff) {
  // Choose the payload so that the checksum field would be 0: start with any
  // payload, compute its checksum c, then append the two bytes c; the new sum
  // adds ~sum and folds to 0xffff, whose complement is 0.
  auto src = addr("10.0.0.1");
  auto dst = addr("10.0.0.2");
  std::vector<uint8_t> payload = {1, 2, 3, 4};
  payload.resize(6);
  auto c = udp_checksum(src, 1, dst, 2, checksum_add(0, payload.data(), payload.size()), 6);
  std::memcpy(payload.data() + 4, &c, 2);
  auto sum = udp_checksum(src, 1, dst, 2, checksum_add(0, payload.data(), payload.size()), 6);
  BOOST_TEST(sum == 0xffff);
}
