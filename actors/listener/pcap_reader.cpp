#include "actors/listener/pcap_reader.hpp"

#include <pcap/pcap.h>

#include "actors/common/byte_order.hpp"

namespace tidewatch {

namespace detail {
namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint8_t ip_protocol_udp = 17;

bool is_vlan_tag(uint16_t ethertype) {
  return ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100;
}

/// BSD loopback address families meaning IPv6: Linux, the BSDs, macOS.
bool is_inet6_family(uint32_t family) {
  return family == 10 || family == 24 || family == 28 || family == 30;
}

/// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2), spelled out for older headers.
constexpr int dlt_linux_sll2 = 276;

} // namespace
} // namespace detail

pcap_reader::~pcap_reader() {
  close();
}

void pcap_reader::close() {
  if (handle_)
    pcap_close(handle_);
  handle_ = nullptr;
}

bool pcap_reader::open(const std::string& path, std::string* error) {
  close();
  error_.clear();
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  handle_ =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!handle_) {
    error_ = "cannot read capture " + path + ": " + errbuf;
  } else {
    link_type_ = pcap_datalink(handle_);
    switch (link_type_) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case detail::dlt_linux_sll2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      return true;
    default:
      error_ = "capture " + path + " has unsupported link type " + std::to_string(link_type_);
      close();
    }
  }
  if (error)
    *error = error_;
  return false;
}

bool pcap_reader::next(const uint8_t*& data, size_t& length, datagram_info& meta) {
  if (!handle_)
    return false;
  for (;;) {
    pcap_pkthdr* header = nullptr;
    const u_char* packet = nullptr;
    int rc = pcap_next_ex(handle_, &header, &packet);
    if (rc == PCAP_ERROR_BREAK)
      return false;
    if (rc != 1) {
      error_ = pcap_geterr(handle_);
      return false;
    }
    ++packets_;
    meta = datagram_info{};
    switch (parse_link(packet, header->caplen, data, length, meta)) {
    case verdict::datagram:
      meta.length = uint32_t(length);
      meta.received_us = int64_t(header->ts.tv_sec) * 1'000'000 + header->ts.tv_usec;
      ++datagrams_;
      return true;
    case verdict::non_udp:
      ++skipped_non_udp_;
      break;
    case verdict::fragment:
      ++skipped_fragments_;
      break;
    case verdict::truncated:
      ++skipped_truncated_;
      break;
    case verdict::filtered:
      ++skipped_filtered_;
      break;
    }
  }
}

pcap_reader::verdict pcap_reader::parse_link(const uint8_t* p, size_t n, const uint8_t*& data,
                                             size_t& length, datagram_info& meta) const {
  switch (link_type_) {
  case DLT_EN10MB:
    if (n < 14)
      return verdict::truncated;
    return parse_ethertype(detail::load_be16(p + 12), p + 14, n - 14, data, length, meta);
  case DLT_LINUX_SLL:
    if (n < 16)
      return verdict::truncated;
    return parse_ethertype(detail::load_be16(p + 14), p + 16, n - 16, data, length, meta);
  case detail::dlt_linux_sll2:
    if (n < 20)
      return verdict::truncated;
    return parse_ethertype(detail::load_be16(p), p + 20, n - 20, data, length, meta);
  case DLT_NULL:
  case DLT_LOOP: {
    if (n < 4)
      return verdict::truncated;
    // DLT_NULL holds the family in the capturing host's byte order.
    uint32_t family = detail::load_be32(p);
    if (link_type_ == DLT_NULL && family > 0xffff)
      family = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    if (family == 2)
      return parse_ipv4(p + 4, n - 4, data, length, meta);
    if (detail::is_inet6_family(family))
      return parse_ipv6(p + 4, n - 4, data, length, meta);
    return verdict::non_udp;
  }
  default: // raw IP
    if (n < 1)
      return verdict::truncated;
    if (p[0] >> 4 == 4)
      return parse_ipv4(p, n, data, length, meta);
    if (p[0] >> 4 == 6)
      return parse_ipv6(p, n, data, length, meta);
    return verdict::non_udp;
  }
}

pcap_reader::verdict pcap_reader::parse_ethertype(uint16_t type, const uint8_t* p, size_t n,
                                                  const uint8_t*& data, size_t& length,
                                                  datagram_info& meta) const {
  while (detail::is_vlan_tag(type)) {
    if (n < 4)
      return verdict::truncated;
    type = detail::load_be16(p + 2);
    p += 4;
    n -= 4;
  }
  if (type == detail::ethertype_ipv4)
    return parse_ipv4(p, n, data, length, meta);
  if (type == detail::ethertype_ipv6)
    return parse_ipv6(p, n, data, length, meta);
  return verdict::non_udp;
}

pcap_reader::verdict pcap_reader::parse_ipv4(const uint8_t* p, size_t n, const uint8_t*& data,
                                             size_t& length, datagram_info& meta) const {
  if (n < 20 || p[0] >> 4 != 4)
    return verdict::truncated;
  size_t header_length = size_t(p[0] & 0x0f) * 4;
  size_t total_length = detail::load_be16(p + 2);
  if (header_length < 20 || total_length < header_length || total_length > n)
    return verdict::truncated;
  if ((detail::load_be16(p + 6) & 0x3fff) != 0) // more-fragments flag or an offset
    return verdict::fragment;
  if (p[9] != detail::ip_protocol_udp)
    return verdict::non_udp;
  meta.exporter = ip_address::from_v4_bytes(p + 12);
  // Beyond total_length lies link-layer padding, not payload.
  return parse_udp(p + header_length, total_length - header_length, data, length, meta);
}

pcap_reader::verdict pcap_reader::parse_ipv6(const uint8_t* p, size_t n, const uint8_t*& data,
                                             size_t& length, datagram_info& meta) const {
  if (n < 40 || p[0] >> 4 != 6)
    return verdict::truncated;
  size_t payload_length = detail::load_be16(p + 4);
  if (40 + payload_length > n)
    return verdict::truncated;
  meta.exporter = ip_address::from_v6_bytes(p + 8);
  uint8_t next_header = p[6];
  const uint8_t* q = p + 40;
  size_t left = payload_length;
  for (;;) {
    switch (next_header) {
    case detail::ip_protocol_udp:
      return parse_udp(q, left, data, length, meta);
    case 44: // fragment header
      return verdict::fragment;
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 60:   // destination options
    case 51: { // authentication header
      if (left < 8)
        return verdict::truncated;
      size_t size = next_header == 51 ? (size_t(q[1]) + 2) * 4 : (size_t(q[1]) + 1) * 8;
      if (size > left)
        return verdict::truncated;
      next_header = q[0];
      q += size;
      left -= size;
      break;
    }
    default:
      return verdict::non_udp;
    }
  }
}

pcap_reader::verdict pcap_reader::parse_udp(const uint8_t* p, size_t n, const uint8_t*& data,
                                            size_t& length, datagram_info& meta) const {
  if (n < 8)
    return verdict::truncated;
  size_t udp_length = detail::load_be16(p + 4);
  if (udp_length < 8 || udp_length > n)
    return verdict::truncated;
  meta.exporter_port = detail::load_be16(p);
  meta.local_port = detail::load_be16(p + 2);
  if (destination_port_ != 0 && meta.local_port != destination_port_)
    return verdict::filtered;
  data = p + 8;
  length = udp_length - 8;
  return verdict::datagram;
}

} // namespace tidewatch
