#define BOOST_TEST_MODULE pcap_reader
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "actors/listener/pcap_reader.hpp"

namespace tidewatch {

/// For Boost.Test's messages on a mismatch.
std::ostream& operator<<(std::ostream& os, const datagram_info& x) {
  return os << "{exporter " << x.exporter.to_string() << " port " << x.exporter_port << " local "
            << x.local_port << " at " << x.received_us << " offset " << x.offset << " length "
            << x.length << "}";
}

} // namespace tidewatch

using namespace tidewatch;
namespace fs = std::filesystem;

namespace {

using bytes = std::vector<uint8_t>;

void append(bytes& out, const bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

void put16(bytes& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put32(bytes& out, uint32_t v) {
  put16(out, uint16_t(v >> 16));
  put16(out, uint16_t(v));
}

void put32_le(bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(uint8_t(v >> (8 * i)));
}

void put16_le(bytes& out, uint16_t v) {
  out.push_back(uint8_t(v));
  out.push_back(uint8_t(v >> 8));
}

bytes udp(uint16_t source, uint16_t destination, const std::string& payload) {
  bytes out;
  put16(out, source);
  put16(out, destination);
  put16(out, uint16_t(8 + payload.size()));
  put16(out, 0); // checksum: not checked
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// An IPv4 header (no options) around l4; flags_fragment is the raw 16-bit field.
bytes ipv4(const bytes& source, const bytes& destination, uint8_t protocol, const bytes& l4,
           uint16_t flags_fragment = 0x4000) {
  bytes out = {0x45, 0};
  put16(out, uint16_t(20 + l4.size()));
  put16(out, 0x1234);
  put16(out, flags_fragment);
  out.push_back(64);
  out.push_back(protocol);
  put16(out, 0);
  append(out, source);
  append(out, destination);
  append(out, l4);
  return out;
}

/// An IPv6 header whose next header is next_header, followed by rest.
bytes ipv6(const bytes& source, const bytes& destination, uint8_t next_header, const bytes& rest) {
  bytes out = {0x60, 0, 0, 0};
  put16(out, uint16_t(rest.size()));
  out.push_back(next_header);
  out.push_back(64);
  append(out, source);
  append(out, destination);
  append(out, rest);
  return out;
}

bytes ethernet(uint16_t ethertype, const bytes& l3) {
  bytes out = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
  put16(out, ethertype);
  append(out, l3);
  return out;
}

bytes vlan_tag(uint16_t vid, uint16_t inner_ethertype) {
  bytes out;
  put16(out, vid);
  put16(out, inner_ethertype);
  return out;
}

const bytes v4_exporter = {192, 0, 2, 1};
const bytes v4_collector = {127, 0, 0, 1};
const bytes v6_exporter = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
const bytes v6_collector = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

struct packet {
  uint32_t seconds;
  uint32_t fraction; ///< µs, or ns in a nanosecond capture
  bytes data;
  uint32_t captured = UINT32_MAX; ///< fewer than data.size() to truncate
};

/// A classic pcap file, little-endian as most writers produce it.
struct capture_file {
  fs::path path;
  capture_file(const std::string& name, uint32_t link_type, const std::vector<packet>& packets,
               uint32_t magic = 0xa1b2c3d4) {
    path = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".pcap");
    bytes out;
    put32_le(out, magic);
    put16_le(out, 2);
    put16_le(out, 4);
    put32_le(out, 0);
    put32_le(out, 0);
    put32_le(out, 65535);
    put32_le(out, link_type);
    for (const auto& p : packets) {
      uint32_t captured = std::min<uint32_t>(p.captured, uint32_t(p.data.size()));
      put32_le(out, p.seconds);
      put32_le(out, p.fraction);
      put32_le(out, captured);
      put32_le(out, uint32_t(p.data.size()));
      out.insert(out.end(), p.data.begin(), p.data.begin() + captured);
    }
    write(out);
  }
  capture_file(const std::string& name, const bytes& raw) {
    path = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + ".pcap");
    write(raw);
  }
  void write(const bytes& out) const {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
  }
  ~capture_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

struct datagram {
  std::string payload;
  datagram_info meta;
};

std::vector<datagram> read_all(pcap_reader& reader) {
  std::vector<datagram> out;
  const uint8_t* data = nullptr;
  size_t length = 0;
  datagram_info meta;
  while (reader.next(data, length, meta))
    out.push_back({std::string(reinterpret_cast<const char*>(data), length), meta});
  return out;
}

std::vector<datagram> read_all(const capture_file& file) {
  pcap_reader reader;
  std::string error;
  BOOST_REQUIRE_MESSAGE(reader.open(file.path.string(), &error), error);
  auto out = read_all(reader);
  BOOST_TEST(reader.error() == "");
  return out;
}

datagram_info info(const bytes& exporter, uint16_t exporter_port, uint16_t local_port,
                   int64_t received_us, uint32_t length) {
  datagram_info meta;
  meta.exporter = exporter.size() == 4 ? ip_address::from_v4_bytes(exporter.data())
                                       : ip_address::from_v6_bytes(exporter.data());
  meta.exporter_port = exporter_port;
  meta.local_port = local_port;
  meta.received_us = received_us;
  meta.length = length;
  return meta;
}

constexpr uint32_t linktype_null = 0;
constexpr uint32_t linktype_ethernet = 1;
constexpr uint32_t linktype_raw = 101;
constexpr uint32_t linktype_loop = 108;
constexpr uint32_t linktype_linux_sll = 113;
constexpr uint32_t linktype_linux_sll2 = 276;

} // namespace

BOOST_AUTO_TEST_CASE(ethernet_ipv4_udp_yields_the_payload_and_its_origin) {
  capture_file file(
      "eth4", linktype_ethernet,
      {{1700000000, 123456,
        ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(50123, 2055, "netflow-bytes")))}});
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "netflow-bytes");
  BOOST_TEST(got[0].meta == info(v4_exporter, 50123, 2055, 1700000000123456, 13));
}

BOOST_AUTO_TEST_CASE(ethernet_padding_after_a_short_ipv4_packet_is_not_payload) {
  bytes frame = ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(1, 2, "ab")));
  frame.resize(60, 0); // minimum Ethernet frame
  capture_file file("pad", linktype_ethernet, {{1, 0, frame}});
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "ab");
}

BOOST_AUTO_TEST_CASE(vlan_tagged_ipv6_with_an_extension_header_is_read) {
  bytes hop_by_hop = {17, 0, 1, 4, 0, 0, 0, 0}; // next header UDP, 8 bytes, PadN
  append(hop_by_hop, udp(4739, 4739, "ipfix"));
  bytes tags = vlan_tag(100, 0x8100);
  append(tags, vlan_tag(200, 0x86dd));
  append(tags, ipv6(v6_exporter, v6_collector, 0, hop_by_hop));
  capture_file file("vlan6", linktype_ethernet, {{1700000001, 7, ethernet(0x88a8, tags)}});
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "ipfix");
  BOOST_TEST(got[0].meta == info(v6_exporter, 4739, 4739, 1700000001000007, 5));
}

BOOST_AUTO_TEST_CASE(linux_cooked_captures_v1_and_v2_are_read) {
  bytes sll = {0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0};
  put16(sll, 0x0800);
  append(sll, ipv4(v4_exporter, v4_collector, 17, udp(1000, 9995, "v1")));
  capture_file v1("sll", linktype_linux_sll, {{10, 1, sll}});
  auto got = read_all(v1);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "v1");
  BOOST_TEST(got[0].meta == info(v4_exporter, 1000, 9995, 10000001, 2));

  bytes sll2;
  put16(sll2, 0x86dd);
  put16(sll2, 0);
  put32(sll2, 1); // interface index
  append(sll2, {0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0});
  append(sll2, ipv6(v6_exporter, v6_collector, 17, udp(2000, 6343, "v2")));
  capture_file v2("sll2", linktype_linux_sll2, {{20, 2, sll2}});
  got = read_all(v2);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "v2");
  BOOST_TEST(got[0].meta == info(v6_exporter, 2000, 6343, 20000002, 2));
}

BOOST_AUTO_TEST_CASE(raw_ip_captures_hold_both_families) {
  capture_file file("raw", linktype_raw,
                    {{1, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 2055, "four"))},
                     {2, 0, ipv6(v6_exporter, v6_collector, 17, udp(1, 2055, "six"))}});
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 2u);
  BOOST_TEST(got[0].payload == "four");
  BOOST_TEST(got[0].meta == info(v4_exporter, 1, 2055, 1000000, 4));
  BOOST_TEST(got[1].payload == "six");
  BOOST_TEST(got[1].meta == info(v6_exporter, 1, 2055, 2000000, 3));
}

BOOST_AUTO_TEST_CASE(loopback_captures_read_the_family_in_either_byte_order) {
  auto null_frame = [](uint32_t family, bool little_endian, const bytes& l3) {
    bytes out;
    little_endian ? put32_le(out, family) : put32(out, family);
    append(out, l3);
    return out;
  };
  bytes v4 = ipv4(v4_exporter, v4_collector, 17, udp(1, 2, "a"));
  bytes v6 = ipv6(v6_exporter, v6_collector, 17, udp(1, 2, "b"));
  capture_file null_file("null", linktype_null,
                         {{1, 0, null_frame(2, true, v4)},
                          {1, 0, null_frame(30, true, v6)}, // macOS AF_INET6
                          {1, 0, null_frame(2, false, v4)},
                          {1, 0, null_frame(24, false, v6)}, // NetBSD/OpenBSD AF_INET6
                          {1, 0, null_frame(7, true, v4)}}); // unknown family
  pcap_reader reader;
  BOOST_REQUIRE(reader.open(null_file.path.string(), nullptr));
  auto got = read_all(reader);
  BOOST_REQUIRE(got.size() == 4u);
  BOOST_TEST(got[0].payload + got[1].payload + got[2].payload + got[3].payload == "abab");
  BOOST_TEST(reader.skipped_non_udp() == 1u);

  capture_file loop_file("loop", linktype_loop, {{1, 0, null_frame(10, false, v6)}});
  got = read_all(loop_file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "b");
}

BOOST_AUTO_TEST_CASE(non_udp_fragments_and_truncated_packets_are_skipped_and_counted) {
  bytes good = ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(7, 2055, "keep")));
  bytes tcp = ethernet(0x0800, ipv4(v4_exporter, v4_collector, 6, bytes(20, 0)));
  bytes arp = ethernet(0x0806, bytes(28, 0));
  bytes first_fragment =
      ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(7, 2055, "frag"), 0x2000));
  bytes later_fragment =
      ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, bytes(16, 0), 0x0002));
  bytes v6_fragment_header = {17, 0, 0, 0, 0, 0, 0, 1};
  append(v6_fragment_header, udp(7, 2055, "frag6"));
  bytes v6_fragment = ethernet(0x86dd, ipv6(v6_exporter, v6_collector, 44, v6_fragment_header));
  bytes bad_udp_length = ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(7, 2055, "x")));
  bad_udp_length[14 + 20 + 5] = 200; // UDP length beyond the IP packet
  capture_file file("skips", linktype_ethernet,
                    {{1, 0, tcp},
                     {1, 0, arp},
                     {1, 0, first_fragment},
                     {1, 0, later_fragment},
                     {1, 0, v6_fragment},
                     {1, 0, good, 40}, // snapped short
                     {1, 0, bad_udp_length},
                     {1, 0, bytes{1, 2, 3}},
                     {2, 0, good}});
  pcap_reader reader;
  BOOST_REQUIRE(reader.open(file.path.string(), nullptr));
  auto got = read_all(reader);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "keep");
  BOOST_TEST(got[0].meta.received_us == 2000000);
  BOOST_TEST(reader.packets() == 9u);
  BOOST_TEST(reader.datagrams() == 1u);
  BOOST_TEST(reader.skipped_non_udp() == 2u);
  BOOST_TEST(reader.skipped_fragments() == 3u);
  BOOST_TEST(reader.skipped_truncated() == 3u);
  BOOST_TEST(reader.skipped_filtered() == 0u);
}

BOOST_AUTO_TEST_CASE(a_destination_port_filter_skips_other_ports) {
  capture_file file("filter", linktype_raw,
                    {{1, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 2055, "nf"))},
                     {1, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 6343, "sf"))},
                     {1, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 2055, "nf2"))}});
  pcap_reader reader;
  BOOST_REQUIRE(reader.open(file.path.string(), nullptr));
  reader.set_destination_port(2055);
  auto got = read_all(reader);
  BOOST_REQUIRE(got.size() == 2u);
  BOOST_TEST(got[0].payload == "nf");
  BOOST_TEST(got[1].payload == "nf2");
  BOOST_TEST(reader.skipped_filtered() == 1u);
}

BOOST_AUTO_TEST_CASE(nanosecond_captures_give_microsecond_times) {
  capture_file file("nanos", linktype_raw,
                    {{1700000000, 123456789, ipv4(v4_exporter, v4_collector, 17, udp(1, 2, "n"))}},
                    0xa1b23c4d);
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].meta.received_us == 1700000000123456);
}

BOOST_AUTO_TEST_CASE(pcapng_captures_are_read) {
  auto block = [](uint32_t type, const bytes& body) {
    bytes out;
    uint32_t total = uint32_t(12 + body.size());
    put32_le(out, type);
    put32_le(out, total);
    append(out, body);
    put32_le(out, total);
    return out;
  };
  bytes shb;
  put32_le(shb, 0x1a2b3c4d);
  put16_le(shb, 1);
  put16_le(shb, 0);
  put32_le(shb, 0xffffffff); // section length unknown
  put32_le(shb, 0xffffffff);
  bytes idb;
  put16_le(idb, uint16_t(linktype_ethernet));
  put16_le(idb, 0);
  put32_le(idb, 65535);
  bytes frame = ethernet(0x0800, ipv4(v4_exporter, v4_collector, 17, udp(9, 4739, "png")));
  while (frame.size() % 4)
    frame.push_back(0); // padding beyond the IP length, like a real frame's
  uint64_t us = 1700000000654321;
  bytes epb;
  put32_le(epb, 0); // interface
  put32_le(epb, uint32_t(us >> 32));
  put32_le(epb, uint32_t(us));
  put32_le(epb, uint32_t(frame.size()));
  put32_le(epb, uint32_t(frame.size()));
  append(epb, frame);
  bytes raw = block(0x0a0d0d0a, shb);
  append(raw, block(1, idb));
  append(raw, block(6, epb));
  capture_file file("png", raw);
  auto got = read_all(file);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "png");
  BOOST_TEST(got[0].meta == info(v4_exporter, 9, 4739, 1700000000654321, 3));
}

BOOST_AUTO_TEST_CASE(unreadable_files_and_unknown_link_types_fail_to_open) {
  pcap_reader reader;
  std::string error;
  BOOST_TEST(!reader.open("/nonexistent/x.pcap", &error));
  BOOST_TEST(error.rfind("cannot read capture /nonexistent/x.pcap: ", 0) == 0u);

  capture_file wifi("wifi", 105, {{1, 0, bytes(30, 0)}});
  BOOST_TEST(!reader.open(wifi.path.string(), &error));
  BOOST_TEST(error == "capture " + wifi.path.string() + " has unsupported link type 105");
  const uint8_t* data = nullptr;
  size_t length = 0;
  datagram_info meta;
  BOOST_TEST(!reader.next(data, length, meta));
}

BOOST_AUTO_TEST_CASE(a_capture_cut_off_mid_packet_ends_with_an_error) {
  capture_file file("cut", linktype_raw,
                    {{1, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 2, "whole"))},
                     {2, 0, ipv4(v4_exporter, v4_collector, 17, udp(1, 2, "cut short"))}});
  auto size = fs::file_size(file.path);
  fs::resize_file(file.path, size - 5);
  pcap_reader reader;
  BOOST_REQUIRE(reader.open(file.path.string(), nullptr));
  auto got = read_all(reader);
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].payload == "whole");
  BOOST_TEST(reader.error() != "");
}
