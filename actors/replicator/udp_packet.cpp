#include "actors/replicator/udp_packet.hpp"

#include <algorithm>
#include <cstring>

#include "actors/common/byte_order.hpp"

namespace tidewatch {

namespace {

constexpr uint8_t proto_udp = 17;
constexpr uint8_t proto_ipv6_fragment = 44;
constexpr uint32_t ipv4_header = 20;
constexpr uint32_t ipv6_header = 40;
constexpr uint32_t fragment_header = 8;
constexpr uint32_t udp_header = 8;

void write_udp_header(uint8_t* p, const udp_packet_spec& spec, uint32_t udp_length,
                      uint16_t checksum) {
  detail::store_be16(p, spec.source_port);
  detail::store_be16(p + 2, spec.destination_port);
  detail::store_be16(p + 4, udp_length);
  std::memcpy(p + 6, &checksum, 2);
}

void write_ipv4_header(uint8_t* p, const udp_packet_spec& spec, uint32_t total_length,
                       uint32_t fragment_field) {
  std::memset(p, 0, ipv4_header);
  p[0] = 0x45;
  detail::store_be16(p + 2, total_length);
  detail::store_be16(p + 4, spec.identification & 0xffff);
  detail::store_be16(p + 6, fragment_field);
  p[8] = spec.ttl;
  p[9] = proto_udp;
  std::memcpy(p + 12, spec.source.bytes.data() + 12, 4);
  std::memcpy(p + 16, spec.destination.bytes.data() + 12, 4);
  auto sum = checksum_fold(checksum_add(0, p, ipv4_header));
  std::memcpy(p + 10, &sum, 2);
}

void write_ipv6_header(uint8_t* p, const udp_packet_spec& spec, uint32_t payload_length,
                       uint8_t next_header) {
  std::memset(p, 0, ipv6_header);
  p[0] = 0x60;
  detail::store_be16(p + 4, payload_length);
  p[6] = next_header;
  p[7] = spec.ttl;
  std::memcpy(p + 8, spec.source.bytes.data(), 16);
  std::memcpy(p + 24, spec.destination.bytes.data(), 16);
}

uint8_t* grow(std::vector<uint8_t>& headers, std::vector<packet_piece>& pieces,
              uint32_t header_length, uint32_t payload_offset, uint32_t payload_length) {
  auto offset = uint32_t(headers.size());
  headers.resize(headers.size() + header_length);
  pieces.push_back({offset, header_length, payload_offset, payload_length});
  return headers.data() + offset;
}

} // namespace

uint64_t checksum_add(uint64_t sum, const uint8_t* data, size_t length) {
  // Native-order words: the folded result is then in memory (network) order.
  while (length >= 4) {
    uint32_t w;
    std::memcpy(&w, data, 4);
    sum += w;
    data += 4;
    length -= 4;
  }
  if (length >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    sum += w;
    data += 2;
    length -= 2;
  }
  if (length == 1) {
    uint16_t w = 0;
    std::memcpy(&w, data, 1); // the odd byte is the high-order byte of a padded word
    sum += w;
  }
  return sum;
}

uint16_t checksum_fold(uint64_t sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

uint16_t udp_checksum(const ip_address& source, uint16_t source_port, const ip_address& destination,
                      uint16_t destination_port, uint64_t payload_sum, uint32_t payload_length) {
  uint8_t pseudo[48] = {};
  size_t n = 0;
  uint32_t udp_length = udp_header + payload_length;
  if (destination.is_v4()) {
    std::memcpy(pseudo, source.bytes.data() + 12, 4);
    std::memcpy(pseudo + 4, destination.bytes.data() + 12, 4);
    pseudo[9] = proto_udp;
    detail::store_be16(pseudo + 10, udp_length);
    n = 12;
  } else {
    std::memcpy(pseudo, source.bytes.data(), 16);
    std::memcpy(pseudo + 16, destination.bytes.data(), 16);
    detail::store_be32(pseudo + 32, udp_length);
    pseudo[39] = proto_udp;
    n = 40;
  }
  // The UDP header itself, with its checksum field zero.
  detail::store_be16(pseudo + n, source_port);
  detail::store_be16(pseudo + n + 2, destination_port);
  detail::store_be16(pseudo + n + 4, udp_length);
  n += udp_header;
  auto sum = checksum_fold(checksum_add(payload_sum, pseudo, n));
  return sum == 0 ? uint16_t(0xffff) : sum;
}

size_t build_udp_packets(const udp_packet_spec& spec, uint32_t payload_length, uint64_t payload_sum,
                         std::vector<uint8_t>& headers, std::vector<packet_piece>& pieces) {
  auto before = pieces.size();
  uint32_t udp_length = udp_header + payload_length;
  auto checksum = udp_checksum(spec.source, spec.source_port, spec.destination,
                               spec.destination_port, payload_sum, payload_length);
  bool v4 = spec.destination.is_v4();
  uint32_t mtu = std::max<uint32_t>(spec.mtu, v4 ? 68 : 1280);
  uint32_t ip_header = v4 ? ipv4_header : ipv6_header;
  if (udp_length <= mtu - ip_header) {
    auto* p = grow(headers, pieces, ip_header + udp_header, 0, payload_length);
    if (v4)
      write_ipv4_header(p, spec, ip_header + udp_length, 0);
    else
      write_ipv6_header(p, spec, udp_length, proto_udp);
    write_udp_header(p + ip_header, spec, udp_length, checksum);
    return 1;
  }
  // Fragments: offsets count bytes of the UDP datagram (header + payload),
  // each fragment but the last carries a multiple of 8 bytes.
  uint32_t fragment_space = v4 ? ipv4_header : ipv6_header + fragment_header;
  uint32_t chunk = (mtu - fragment_space) & ~7u;
  for (uint32_t offset = 0; offset < udp_length; offset += chunk) {
    uint32_t n = std::min(chunk, udp_length - offset);
    bool more = offset + n < udp_length;
    bool first = offset == 0;
    uint32_t header_length = fragment_space + (first ? udp_header : 0);
    uint32_t payload_offset = first ? 0 : offset - udp_header;
    uint32_t payload_slice = first ? n - udp_header : n;
    auto* p = grow(headers, pieces, header_length, payload_offset, payload_slice);
    if (v4) {
      write_ipv4_header(p, spec, ipv4_header + n, (more ? 0x2000u : 0u) | (offset / 8));
    } else {
      write_ipv6_header(p, spec, fragment_header + n, proto_ipv6_fragment);
      auto* f = p + ipv6_header;
      f[0] = proto_udp;
      f[1] = 0;
      detail::store_be16(f + 2, offset | (more ? 1u : 0u));
      detail::store_be32(f + 4, spec.identification);
    }
    if (first)
      write_udp_header(p + fragment_space, spec, udp_length, checksum);
  }
  return pieces.size() - before;
}

} // namespace tidewatch
