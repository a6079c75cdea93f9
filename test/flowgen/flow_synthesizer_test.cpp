#define BOOST_TEST_MODULE flow_synthesizer
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>
#include <stdexcept>
#include <vector>

#include "tools/flowgen/flow_synthesizer.hpp"
#include "tools/flowgen/pcap_writer.hpp"

using namespace tidewatch;

namespace tidewatch {
/// Lets Boost.Test print addresses in failed assertions.
std::ostream& operator<<(std::ostream& os, const ip_address& a) {
  return os << a.to_string();
}
} // namespace tidewatch

namespace {

constexpr int64_t now_us = 1'700'000'000'000'000;

address_prefix prefix(const char* text) {
  address_prefix p;
  BOOST_REQUIRE(address_prefix::parse(text, p));
  return p;
}

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

traffic_profile default_profile() {
  traffic_profile t;
  t.src_prefixes = {prefix("10.0.0.0/8"), prefix("2001:db8:a::/48")};
  t.dst_prefixes = {prefix("198.51.100.0/24"), prefix("2001:db8:b::/64")};
  return t;
}

std::vector<flow_record> flows(flow_synthesizer& s, size_t n) {
  std::vector<flow_record> out(n);
  for (auto& r : out)
    s.next_flow(r, now_us);
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_prefix_parses_with_its_host_bits_cleared) {
  auto p = prefix("203.0.113.77/24");
  BOOST_TEST(p.base == addr("203.0.113.0"));
  BOOST_TEST(p.length == 24u);
  BOOST_TEST(!p.ipv6);
  BOOST_TEST(p.host_bits() == 8u);
  BOOST_TEST(p.at(5) == addr("203.0.113.5"));
  BOOST_TEST(p.contains(addr("203.0.113.255")));
  BOOST_TEST(!p.contains(addr("203.0.114.0")));
  auto v6 = prefix("2001:db8:a:ffff::1/48");
  BOOST_TEST(v6.base == addr("2001:db8:a::"));
  BOOST_TEST(v6.host_bits() == 64u);
  BOOST_TEST(v6.at(0x1234) == addr("2001:db8:a::1234"));
  address_prefix bad;
  BOOST_TEST(!address_prefix::parse("10.0.0.0/33", bad));
  BOOST_TEST(!address_prefix::parse("10.0.0.0", bad));
  BOOST_TEST(!address_prefix::parse("10.0.0.0/", bad));
  BOOST_TEST(!address_prefix::parse("nonsense/8", bad));
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_flows_and_another_seed_different_ones) {
  flow_synthesizer a(default_profile(), 42);
  flow_synthesizer b(default_profile(), 42);
  flow_synthesizer c(default_profile(), 43);
  auto fa = flows(a, 1000);
  BOOST_TEST((fa == flows(b, 1000)));
  BOOST_TEST((fa != flows(c, 1000)));
}

BOOST_AUTO_TEST_CASE(flows_come_from_exactly_the_configured_number_of_distinct_hosts) {
  auto profile = default_profile();
  profile.hosts = 50;
  profile.ipv6_share = 0.2;
  flow_synthesizer s(profile, 1);
  std::set<ip_address> v4, v6;
  size_t tcp = 0, udp = 0, icmp = 0;
  for (auto& r : flows(s, 20000)) {
    BOOST_TEST_REQUIRE((r.ip_version == 4 || r.ip_version == 6));
    bool is6 = r.ip_version == 6;
    (is6 ? v6 : v4).insert(r.src_addr);
    BOOST_TEST(profile.src_prefixes[is6].contains(r.src_addr));
    BOOST_TEST(profile.dst_prefixes[is6].contains(r.dst_addr));
    BOOST_TEST(r.packets >= 1u);
    BOOST_TEST(r.bytes >= r.packets * 40);
    BOOST_TEST(r.bytes <= r.packets * 1500);
    BOOST_TEST(r.flow_start_us <= r.flow_end_us);
    BOOST_TEST(r.flow_end_us <= now_us);
    tcp += r.ip_protocol == 6;
    udp += r.ip_protocol == 17;
    icmp += r.ip_protocol == 1 || r.ip_protocol == 58;
  }
  BOOST_TEST(v4.size() == 40u);
  BOOST_TEST(v6.size() == 10u);
  BOOST_TEST(tcp + udp + icmp == 20000u);
  BOOST_TEST(tcp > 13000u); // about 70 %
  BOOST_TEST(udp > 4000u);  // about 25 %
  BOOST_TEST(icmp > 600u);  // about 5 %
}

BOOST_AUTO_TEST_CASE(host_addresses_are_distinct_and_scattered_over_the_prefix) {
  auto profile = default_profile();
  profile.hosts = 4000;
  flow_synthesizer s(profile, 1);
  std::set<ip_address> hosts;
  std::set<uint8_t> second_octets;
  for (uint32_t i = 0; i < profile.hosts; ++i) {
    auto a = s.host_address(i);
    hosts.insert(a);
    second_octets.insert(a.bytes[13]);
  }
  BOOST_TEST(hosts.size() == 4000u);
  BOOST_TEST(second_octets.size() > 200u);
}

BOOST_AUTO_TEST_CASE(an_impossible_profile_is_rejected) {
  auto profile = default_profile();
  profile.src_prefixes = {prefix("192.0.2.0/30")};
  profile.hosts = 4; // a /30 holds three non-zero offsets
  BOOST_CHECK_THROW(flow_synthesizer(profile, 1), std::invalid_argument);
  profile.hosts = 3;
  BOOST_CHECK_NO_THROW(flow_synthesizer(profile, 1));
  profile.ipv6_share = 0.5; // no IPv6 source prefix left
  BOOST_CHECK_THROW(flow_synthesizer(profile, 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(attack_flows_target_the_victim_with_the_attack_signature) {
  auto profile = default_profile();
  profile.attack_target = addr("198.51.100.10");
  for (auto [type, proto] : {std::pair{attack_type::syn, 6}, std::pair{attack_type::ntp_amp, 17},
                             std::pair{attack_type::dns_amp, 17}, std::pair{attack_type::frag, 17},
                             std::pair{attack_type::icmp, 1}, std::pair{attack_type::udp, 17}}) {
    profile.attack = type;
    flow_synthesizer s(profile, 3);
    std::set<ip_address> sources;
    for (int i = 0; i < 3000; ++i) {
      flow_record r;
      s.next_attack(r, now_us);
      BOOST_TEST(r.dst_addr == *profile.attack_target);
      BOOST_TEST(r.ip_protocol == proto);
      sources.insert(r.src_addr);
      if (type == attack_type::syn)
        BOOST_TEST(r.tcp_flags == 0x02);
      if (type == attack_type::ntp_amp)
        BOOST_TEST(r.src_port == 123);
      if (type == attack_type::dns_amp)
        BOOST_TEST(r.src_port == 53);
      if (type == attack_type::frag)
        BOOST_TEST((r.src_port == 0 && r.dst_port == 0));
    }
    bool reflected = type == attack_type::ntp_amp || type == attack_type::dns_amp;
    // Floods are spoofed from everywhere; reflections come from a fixed amplifier set.
    BOOST_TEST((reflected ? sources.size() < 2000u : sources.size() > 2900u));
  }
  BOOST_TEST((parse_attack_type("ntp-amp") == attack_type::ntp_amp));
  BOOST_TEST(!parse_attack_type("smurf").has_value());
}

BOOST_AUTO_TEST_CASE(the_pcap_writer_frames_a_datagram_in_ethernet_ipv4_and_udp) {
  auto path = (std::filesystem::temp_directory_path() /
               ("flow_synthesizer_test_" + std::to_string(::getpid()) + ".pcap"))
                  .string();
  {
    pcap_writer w(path);
    std::vector<uint8_t> payload{1, 2, 3, 4, 5};
    w.write({addr("127.0.0.2"), 1000}, {addr("127.0.0.1"), 2055}, payload, now_us + 7);
    w.close();
    BOOST_TEST(w.packets() == 1u);
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  BOOST_REQUIRE(b.size() == 24u + 16 + 14 + 20 + 8 + 5);
  BOOST_TEST(b[20] == 1u);  // link type Ethernet (little-endian host)
  BOOST_TEST(b[32] == 47u); // captured length
  BOOST_TEST(b[36] == 47u); // original length
  size_t ip = 24 + 16 + 14;
  BOOST_TEST(b[ip - 2] == 0x08u); // EtherType IPv4
  BOOST_TEST(b[ip] == 0x45u);
  BOOST_TEST((b[ip + 2] << 8 | b[ip + 3]) == 33); // IP total length
  BOOST_TEST(b[ip + 9] == 17u);
  size_t udp = ip + 20;
  BOOST_TEST((b[udp] << 8 | b[udp + 1]) == 1000);
  BOOST_TEST((b[udp + 2] << 8 | b[udp + 3]) == 2055);
  BOOST_TEST((b[udp + 4] << 8 | b[udp + 5]) == 13);
  BOOST_TEST(b.back() == 5u);
}
