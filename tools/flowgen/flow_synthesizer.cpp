#include "tools/flowgen/flow_synthesizer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string>

namespace tidewatch {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t low_mask(unsigned bits) {
  return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

/// A bijection on `bits`-bit integers that maps 0 to 0 and scatters
/// consecutive inputs across the whole range, so hosts 1, 2, 3 do not sit
/// next to each other.
uint64_t scatter(uint64_t x, unsigned bits) {
  uint64_t mask = low_mask(bits);
  x = (x * 0x9e3779b97f4a7c15ull) & mask;
  if (bits > 1)
    x ^= x >> (bits / 2 + bits % 2);
  return (x * 0xd6e8feb86659fd93ull) & mask;
}

/// How many distinct hosts a prefix offers when offset 0 (the base) is skipped.
uint64_t host_capacity(const address_prefix& p) {
  unsigned bits = p.host_bits();
  return bits == 0 ? 1 : low_mask(bits);
}

constexpr uint8_t proto_icmp = 1;
constexpr uint8_t proto_tcp = 6;
constexpr uint8_t proto_udp = 17;
constexpr uint8_t proto_icmpv6 = 58;

constexpr uint8_t tcp_fin = 0x01;
constexpr uint8_t tcp_syn = 0x02;
constexpr uint8_t tcp_rst = 0x04;
constexpr uint8_t tcp_psh = 0x08;
constexpr uint8_t tcp_ack = 0x10;

constexpr std::array<uint16_t, 10> tcp_services = {443, 80, 22, 25, 993, 3389, 8080, 8443, 53, 110};
constexpr std::array<uint16_t, 9> udp_services = {53, 443, 123, 500, 4500, 1194, 5353, 514, 161};
// ICMP type/code pairs, exported as type * 256 + code in the destination port.
constexpr std::array<uint16_t, 4> icmp_types = {0x0800, 0x0000, 0x0303, 0x0b00};
constexpr std::array<uint16_t, 4> icmpv6_types = {0x8000, 0x8100, 0x0104, 0x0300};

constexpr uint32_t first_src_as = 64496; // RFC 5398 documentation ASNs
constexpr uint32_t local_as = 64511;
constexpr uint32_t amplifier_count = 2000;

/// A spoofed or reflecting IPv4 source outside private and loopback space.
ip_address random_public_v4(uint64_t r) {
  auto first = uint32_t(1 + (r >> 32) % 223);
  if (first == 10 || first == 127)
    first += 1;
  return ip_address::from_v4(first << 24 | uint32_t(r & 0xffffff));
}

ip_address random_v6_in(const std::array<uint8_t, 6>& prefix48, uint64_t r) {
  std::array<uint8_t, 16> b{};
  std::copy(prefix48.begin(), prefix48.end(), b.begin());
  for (int i = 0; i < 8; ++i)
    b[15 - i] = uint8_t(r >> (8 * i));
  return ip_address::from_v6_bytes(b.data());
}

constexpr std::array<uint8_t, 16> v6_next_hop = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                                 0,    0,    0,    0,    0, 0, 0, 1};
constexpr std::array<uint8_t, 6> attacker_v6_prefix = {0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad};

} // namespace

// -- address_prefix -------------------------------------------------------------

bool address_prefix::parse(std::string_view text, address_prefix& out) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return false;
  ip_address a;
  if (!ip_address::parse(text.substr(0, slash), a))
    return false;
  auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc{} || end != len_text.data() + len_text.size() || len_text.empty())
    return false;
  bool v6 = !a.is_v4();
  if (len > (v6 ? 128u : 32u))
    return false;
  // Clear the host bits.
  unsigned keep = v6 ? len : 96 + len;
  for (unsigned bit = keep; bit < 128; ++bit)
    a.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
  out.base = a;
  out.length = uint8_t(len);
  out.ipv6 = v6;
  return true;
}

unsigned address_prefix::host_bits() const {
  return std::min(64u, (ipv6 ? 128u : 32u) - length);
}

ip_address address_prefix::at(uint64_t offset) const {
  ip_address a = base;
  int last = 15;
  int first = ipv6 ? 8 : 12;
  for (int i = last; i >= first; --i, offset >>= 8)
    a.bytes[i] |= uint8_t(offset);
  return a;
}

bool address_prefix::contains(const ip_address& a) const {
  if (a.is_v4() == ipv6)
    return false;
  unsigned keep = ipv6 ? length : 96 + length;
  for (unsigned bit = 0; bit < keep; ++bit) {
    uint8_t m = uint8_t(0x80u >> (bit % 8));
    if ((a.bytes[bit / 8] & m) != (base.bytes[bit / 8] & m))
      return false;
  }
  return true;
}

std::optional<attack_type> parse_attack_type(std::string_view text) {
  if (text == "syn")
    return attack_type::syn;
  if (text == "udp")
    return attack_type::udp;
  if (text == "icmp")
    return attack_type::icmp;
  if (text == "frag")
    return attack_type::frag;
  if (text == "ntp-amp")
    return attack_type::ntp_amp;
  if (text == "dns-amp")
    return attack_type::dns_amp;
  return std::nullopt;
}

// -- random_source --------------------------------------------------------------

random_source::random_source(uint64_t seed) {
  for (auto& s : s_)
    s = splitmix64(seed);
}

uint64_t random_source::next() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

// -- flow_synthesizer -----------------------------------------------------------

flow_synthesizer::flow_synthesizer(const traffic_profile& profile, uint64_t seed)
    : profile_(profile), normal_rng_(seed), attack_rng_(seed ^ 0x5eed5eed5eed5eedull) {
  if (profile.hosts == 0)
    throw std::invalid_argument("at least one source host is needed");
  if (profile.ipv6_share < 0 || profile.ipv6_share > 1)
    throw std::invalid_argument("the IPv6 share must be in [0, 1]");
  for (auto& p : profile.src_prefixes)
    (p.ipv6 ? src_v6_ : src_v4_).push_back(p);
  for (auto& p : profile.dst_prefixes)
    (p.ipv6 ? dst_v6_ : dst_v4_).push_back(p);
  v6_hosts_ = uint32_t(profile.hosts * profile.ipv6_share + 0.5);
  uint32_t v4_hosts = profile.hosts - v6_hosts_;
  auto check = [](const std::vector<address_prefix>& src, const std::vector<address_prefix>& dst,
                  uint32_t hosts, const char* family) {
    if (hosts == 0)
      return;
    if (src.empty() || dst.empty())
      throw std::invalid_argument(std::string(family) +
                                  " flows need both a source and a destination prefix");
    // Host j lives in prefix j % n at index j / n: each prefix must hold its share.
    uint64_t per_prefix = (hosts + src.size() - 1) / src.size();
    for (auto& p : src)
      if (host_capacity(p) < per_prefix)
        throw std::invalid_argument(std::string(family) +
                                    " source prefixes are too small for the number of hosts");
  };
  check(src_v4_, dst_v4_, v4_hosts, "IPv4");
  check(src_v6_, dst_v6_, v6_hosts_, "IPv6");
  if (profile.attack_target && profile.attack_target->is_v4() == false &&
      profile.attack == attack_type::frag)
    throw std::invalid_argument("frag attacks are IPv4 only");
}

ip_address flow_synthesizer::host_address(uint32_t index) const {
  bool v6 = index < v6_hosts_;
  const auto& prefixes = v6 ? src_v6_ : src_v4_;
  uint32_t j = v6 ? index : index - v6_hosts_;
  const auto& p = prefixes[j % prefixes.size()];
  unsigned bits = p.host_bits();
  return p.at(bits == 0 ? 0 : scatter(uint64_t(j / prefixes.size()) + 1, bits));
}

void flow_synthesizer::fill_common(flow_record& r, bool ipv6, int64_t now_us, random_source& rng) {
  r.ip_version = ipv6 ? 6 : 4;
  r.tos = 0;
  r.direction = flow_direction::ingress;
  r.next_hop = ipv6 ? ip_address::from_v6_bytes(v6_next_hop.data())
                    : ip_address::from_v4(0xc0000201); // 192.0.2.1
  r.output_interface = 10 + uint32_t(rng.below(4));
  r.dst_as = local_as;
  r.flow_end_us = now_us - int64_t(rng.below(1'000'000));
}

void flow_synthesizer::next_flow(flow_record& r, int64_t now_us) {
  auto& rng = normal_rng_;
  r = flow_record{};
  auto host = uint32_t(rng.below(profile_.hosts));
  bool ipv6 = host < v6_hosts_;
  fill_common(r, ipv6, now_us, rng);
  r.src_addr = host_address(host);
  const auto& dsts = ipv6 ? dst_v6_ : dst_v4_;
  const auto& dst = dsts[rng.below(dsts.size())];
  unsigned bits = dst.host_bits();
  // Skip the network and broadcast addresses of small IPv4 prefixes.
  uint64_t offset =
      bits >= 2 && bits < 64 ? rng.between(1, low_mask(bits) - 1) : rng.next() & low_mask(bits);
  r.dst_addr = dst.at(offset);
  const auto& src =
      (ipv6 ? src_v6_
            : src_v4_)[(ipv6 ? host : host - v6_hosts_) % (ipv6 ? src_v6_ : src_v4_).size()];
  r.src_mask = src.length;
  r.dst_mask = dst.length;
  r.src_as = first_src_as + host % 15;
  r.input_interface = 1 + host % 4;

  // Heavy-tailed sizes: most flows are short, a few are elephants.
  uint64_t u = rng.below(100);
  uint64_t packets = u < 60   ? rng.between(1, 8)
                     : u < 97 ? rng.between(9, 500)
                              : rng.between(501, 100'000);
  uint64_t kind = rng.below(100);
  uint64_t packet_size = 0;
  if (kind < 70) {
    r.ip_protocol = proto_tcp;
    r.src_port = uint16_t(rng.between(32768, 60999));
    r.dst_port = tcp_services[rng.below(tcp_services.size())];
    uint64_t f = rng.below(100);
    r.tcp_flags = f < 80   ? (tcp_syn | tcp_ack | tcp_psh | tcp_fin)
                  : f < 90 ? tcp_ack
                  : f < 95 ? (tcp_syn | tcp_ack | tcp_rst)
                           : tcp_syn;
    packet_size = rng.between(40, 1500);
  } else if (kind < 95) {
    r.ip_protocol = proto_udp;
    r.src_port = uint16_t(rng.between(32768, 60999));
    r.dst_port = udp_services[rng.below(udp_services.size())];
    packet_size = rng.between(60, 1400);
  } else {
    r.ip_protocol = ipv6 ? proto_icmpv6 : proto_icmp;
    const auto& types = ipv6 ? icmpv6_types : icmp_types;
    r.dst_port = types[rng.below(types.size())];
    packets = std::min<uint64_t>(packets, 100);
    packet_size = rng.between(64, 128);
  }
  r.packets = packets;
  r.bytes = packets * packet_size;
  r.flow_start_us = r.flow_end_us - int64_t(std::min<uint64_t>(packets * 5'000, 120'000'000));
}

void flow_synthesizer::next_attack(flow_record& r, int64_t now_us) {
  auto& rng = attack_rng_;
  r = flow_record{};
  const ip_address& target = *profile_.attack_target;
  bool ipv6 = !target.is_v4();
  fill_common(r, ipv6, now_us, rng);
  r.dst_addr = target;
  r.dst_mask = ipv6 ? 128 : 32;
  r.input_interface = 1 + uint32_t(rng.below(4));
  bool reflected =
      profile_.attack == attack_type::ntp_amp || profile_.attack == attack_type::dns_amp;
  // Reflection attacks come from a fixed set of amplifiers; floods from spoofed
  // random sources, one flow each.
  uint64_t source = rng.next();
  if (reflected) {
    uint64_t state = rng.below(amplifier_count) * 0x2545f4914f6cdd1dull;
    source = splitmix64(state);
  }
  r.src_addr = ipv6 ? random_v6_in(attacker_v6_prefix, source) : random_public_v4(source);
  r.src_mask = ipv6 ? 48 : 24;
  r.src_as = first_src_as + uint32_t(source % 15);
  uint64_t packets = 0;
  uint64_t packet_size = 0;
  switch (profile_.attack) {
  case attack_type::syn:
    r.ip_protocol = proto_tcp;
    r.tcp_flags = tcp_syn;
    r.src_port = uint16_t(rng.between(1024, 65535));
    r.dst_port = rng.below(2) == 0 ? 80 : 443;
    packets = rng.between(1, 3);
    packet_size = ipv6 ? 80 : 60;
    break;
  case attack_type::udp:
    r.ip_protocol = proto_udp;
    r.src_port = uint16_t(rng.between(1024, 65535));
    r.dst_port = uint16_t(rng.between(1, 65535));
    packets = rng.between(10, 1000);
    packet_size = rng.between(512, 1472);
    break;
  case attack_type::icmp:
    r.ip_protocol = ipv6 ? proto_icmpv6 : proto_icmp;
    r.dst_port = ipv6 ? 0x8000 : 0x0800; // echo request
    packets = rng.between(10, 1000);
    packet_size = rng.between(84, 1500);
    break;
  case attack_type::frag:
    // Non-initial fragments carry no transport header: ports are zero.
    r.ip_protocol = proto_udp;
    packets = rng.between(10, 500);
    packet_size = 1500;
    break;
  case attack_type::ntp_amp:
    r.ip_protocol = proto_udp;
    r.src_port = 123;
    r.dst_port = uint16_t(rng.between(1024, 65535));
    packets = rng.between(10, 100);
    packet_size = 468; // NTP monlist response
    break;
  case attack_type::dns_amp:
    r.ip_protocol = proto_udp;
    r.src_port = 53;
    r.dst_port = uint16_t(rng.between(1024, 65535));
    packets = rng.between(5, 50);
    packet_size = rng.between(1400, 1500);
    break;
  }
  r.packets = packets;
  r.bytes = packets * packet_size;
  r.flow_start_us = r.flow_end_us - int64_t(rng.between(1'000'000, 10'000'000));
}

} // namespace tidewatch
