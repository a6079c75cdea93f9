#include "tools/flowgen/flow_encoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "actors/common/byte_order.hpp"

namespace tidewatch {

namespace detail {

/// One (information element, length) pair of a template.
struct field_spec {
  uint16_t id;
  uint16_t length;
};

// NetFlow v9 (RFC 3954) names: 8 IPV4_SRC_ADDR, 12 IPV4_DST_ADDR, 7/11 L4 ports,
// 4 PROTOCOL, 6 TCP_FLAGS, 5 SRC_TOS, 1 IN_BYTES, 2 IN_PKTS, 10/14 INPUT/OUTPUT_SNMP,
// 16/17 SRC/DST_AS, 9/13 SRC/DST_MASK, 15 IPV4_NEXT_HOP, 22 FIRST_SWITCHED,
// 21 LAST_SWITCHED (sysUptime ms), 61 DIRECTION; IPv6: 27/28 addresses,
// 29/30 masks, 62 IPV6_NEXT_HOP. IPFIX uses the same numbers with 64-bit
// counters and 152/153 flowStart/EndMilliseconds.
constexpr std::array<field_spec, 19> v9_ipv4_fields = {{
    {8, 4},  {12, 4}, {7, 2},  {11, 2}, {4, 1},  {6, 1},  {5, 1},  {1, 4},  {2, 4},  {10, 4},
    {14, 4}, {16, 4}, {17, 4}, {9, 1},  {13, 1}, {15, 4}, {22, 4}, {21, 4}, {61, 1},
}};
constexpr std::array<field_spec, 19> v9_ipv6_fields = {{
    {27, 16}, {28, 16}, {7, 2},  {11, 2}, {4, 1},  {6, 1},   {5, 1},  {1, 4},  {2, 4},  {10, 4},
    {14, 4},  {16, 4},  {17, 4}, {29, 1}, {30, 1}, {62, 16}, {22, 4}, {21, 4}, {61, 1},
}};
constexpr std::array<field_spec, 19> ipfix_ipv4_fields = {{
    {8, 4},  {12, 4}, {7, 2},  {11, 2}, {4, 1},  {6, 1},  {5, 1},   {1, 8},   {2, 8},  {10, 4},
    {14, 4}, {16, 4}, {17, 4}, {9, 1},  {13, 1}, {15, 4}, {152, 8}, {153, 8}, {61, 1},
}};
constexpr std::array<field_spec, 19> ipfix_ipv6_fields = {{
    {27, 16}, {28, 16}, {7, 2},  {11, 2}, {4, 1},  {6, 1},   {5, 1},   {1, 8},   {2, 8},  {10, 4},
    {14, 4},  {16, 4},  {17, 4}, {29, 1}, {30, 1}, {62, 16}, {152, 8}, {153, 8}, {61, 1},
}};

// v9 options: scope System (1) carrying the source ID; FLOW_SAMPLER_ID (48),
// SAMPLING_INTERVAL (34), SAMPLING_ALGORITHM (35, 1 = deterministic).
constexpr std::array<field_spec, 1> v9_options_scope = {{{1, 4}}};
constexpr std::array<field_spec, 3> v9_options_fields = {{{48, 1}, {34, 4}, {35, 1}}};
// IPFIX options: scope observationDomainId (149); samplingInterval (34) and its
// RFC 5477 successors samplingPacketInterval (305) / samplingPacketSpace (306).
constexpr std::array<field_spec, 1> ipfix_options_scope = {{{149, 4}}};
constexpr std::array<field_spec, 3> ipfix_options_fields = {{{34, 4}, {305, 4}, {306, 4}}};

constexpr size_t v5_header_size = 24;
constexpr size_t v5_record_size = 48;
constexpr size_t v5_max_records = 30;
constexpr size_t v9_header_size = 20;
constexpr size_t ipfix_header_size = 16;
constexpr size_t set_header_size = 4;
constexpr uint16_t v9_template_flowset_id = 0;
constexpr uint16_t v9_options_template_flowset_id = 1;
constexpr uint16_t ipfix_template_set_id = 2;
constexpr uint16_t ipfix_options_template_set_id = 3;
constexpr uint32_t sampler_id = 1;

// sFlow v5: header with an IPv4 agent; compact flow sample with one raw packet
// header record of an Ethernet + IP + 20-byte transport header; compact counter
// sample with the generic (88 bytes) and Ethernet (52 bytes) records.
constexpr size_t sflow_header_size = 28;
constexpr size_t sflow_flow_sample_fixed = 8 + 32 + 8 + 16;
constexpr size_t sflow_transport_size = 20;
constexpr size_t sflow_ipv4_header = 14 + 20 + sflow_transport_size;
constexpr size_t sflow_ipv6_header = 14 + 40 + sflow_transport_size;
constexpr uint32_t sflow_source_index = 1;

inline uint8_t* put8(uint8_t* p, uint8_t v) {
  *p = v;
  return p + 1;
}
inline uint8_t* put_v4(uint8_t* p, const ip_address& a) {
  std::memcpy(p, a.bytes.data() + 12, 4);
  return p + 4;
}
inline uint8_t* put_v6(uint8_t* p, const ip_address& a) {
  std::memcpy(p, a.bytes.data(), 16);
  return p + 16;
}

/// Counters wider than the field saturate instead of wrapping.
inline uint32_t clamp32(uint64_t v) {
  return v > 0xffffffffu ? 0xffffffffu : uint32_t(v);
}
inline uint16_t clamp16(uint32_t v) {
  return v > 0xffffu ? 0xffffu : uint16_t(v);
}

inline size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

template <size_t N> constexpr size_t fields_length(const std::array<field_spec, N>& fields) {
  size_t n = 0;
  for (auto& f : fields)
    n += f.length;
  return n;
}

template <size_t N> uint8_t* put_fields(uint8_t* p, const std::array<field_spec, N>& fields) {
  for (auto& f : fields) {
    p = store_be16(p, f.id);
    p = store_be16(p, f.length);
  }
  return p;
}

/// A data template record: template ID, field count, (id, length) pairs.
template <size_t N>
uint8_t* put_template(uint8_t* p, uint16_t id, const std::array<field_spec, N>& fields) {
  p = store_be16(p, id);
  p = store_be16(p, uint16_t(N));
  return put_fields(p, fields);
}

} // namespace detail

using namespace detail;

flow_encoder::flow_encoder(export_protocol protocol, uint32_t domain_id, size_t max_datagram_size)
    : protocol_(protocol), domain_id_(domain_id), max_datagram_size_(max_datagram_size) {
  if (protocol != export_protocol::netflow_v5 && protocol != export_protocol::netflow_v9 &&
      protocol != export_protocol::ipfix && protocol != export_protocol::sflow_v5)
    throw std::invalid_argument("flow_encoder: protocol must be NetFlow v5, v9, IPFIX or sFlow");
  if (max_datagram_size < 256 || max_datagram_size > 65507)
    throw std::invalid_argument("flow_encoder: max datagram size must be in [256, 65507]");
}

size_t flow_encoder::header_size() const {
  switch (protocol_) {
  case export_protocol::netflow_v5:
    return v5_header_size;
  case export_protocol::netflow_v9:
    return v9_header_size;
  case export_protocol::sflow_v5:
    return sflow_header_size;
  default:
    return ipfix_header_size;
  }
}

size_t flow_encoder::record_size(bool ipv6) const {
  if (protocol_ == export_protocol::sflow_v5)
    return sflow_flow_sample_fixed + align4(ipv6 ? sflow_ipv6_header : sflow_ipv4_header);
  if (protocol_ == export_protocol::netflow_v9)
    return ipv6 ? fields_length(v9_ipv6_fields) : fields_length(v9_ipv4_fields);
  return ipv6 ? fields_length(ipfix_ipv6_fields) : fields_length(ipfix_ipv4_fields);
}

size_t flow_encoder::max_records_per_datagram(bool ipv6) const {
  if (protocol_ == export_protocol::netflow_v5)
    return ipv6 ? 0
                : std::min(v5_max_records, (max_datagram_size_ - v5_header_size) / v5_record_size);
  if (protocol_ == export_protocol::sflow_v5)
    return (max_datagram_size_ - sflow_header_size) / record_size(ipv6);
  size_t room = max_datagram_size_ - header_size() - set_header_size;
  if (protocol_ == export_protocol::netflow_v9)
    room &= ~size_t{3}; // the set is padded to 4 bytes and must still fit
  return room / record_size(ipv6);
}

void flow_encoder::pin_boot_time(int64_t now_us) {
  if (!boot_pinned_) {
    boot_us_ = now_us - int64_t{3600} * 1'000'000;
    boot_pinned_ = true;
  }
}

uint32_t flow_encoder::uptime_ms(int64_t t_us) const {
  return t_us <= boot_us_ ? 0 : uint32_t((t_us - boot_us_) / 1000);
}

void flow_encoder::write_header(uint8_t* p, size_t length, uint16_t record_count,
                                int64_t now_us) const {
  auto secs = uint32_t(now_us / 1'000'000);
  switch (protocol_) {
  case export_protocol::netflow_v5: {
    // The sampling field: 2 bits of mode (1 = deterministic 1-in-N), 14 bits of N.
    uint16_t sampling = 0;
    if (sampling_rate_ > 1)
      sampling = uint16_t(0x4000 | std::min<uint32_t>(sampling_rate_, 0x3fff));
    p = store_be16(p, 5);
    p = store_be16(p, record_count);
    p = store_be32(p, uptime_ms(now_us));
    p = store_be32(p, secs);
    p = store_be32(p, uint32_t(now_us % 1'000'000) * 1000);
    p = store_be32(p, sequence_);
    p = put8(p, engine_type_);
    p = put8(p, engine_id_);
    store_be16(p, sampling);
    break;
  }
  case export_protocol::netflow_v9:
    p = store_be16(p, 9);
    p = store_be16(p, record_count);
    p = store_be32(p, uptime_ms(now_us));
    p = store_be32(p, secs);
    p = store_be32(p, sequence_);
    store_be32(p, domain_id_);
    break;
  default:
    p = store_be16(p, 10);
    p = store_be16(p, uint16_t(length));
    p = store_be32(p, secs);
    p = store_be32(p, sequence_);
    store_be32(p, domain_id_);
    break;
  }
}

std::vector<uint8_t> flow_encoder::template_datagram(int64_t now_us) {
  std::vector<uint8_t> out;
  if (protocol_ == export_protocol::netflow_v5)
    return out;
  pin_boot_time(now_us);
  if (protocol_ == export_protocol::sflow_v5) {
    out.resize(sflow_header_size + 8 + 12 + 8 + 88 + 8 + 52);
    uint8_t* p = write_sflow_header(out.data(), 1, now_us);
    p = store_be32(p, 2); // counter sample
    p = store_be32(p, 12 + 8 + 88 + 8 + 52);
    p = store_be32(p, ++counter_sample_sequence_);
    p = store_be32(p, sflow_source_index);
    p = store_be32(p, 2);
    p = store_be32(p, 1); // generic interface counters
    p = store_be32(p, 88);
    p = store_be32(p, sflow_source_index);
    p = store_be32(p, 6);                 // ethernetCsmacd
    p = store_be64(p, 10'000'000'000ull); // 10 Gbit/s
    p = store_be32(p, 1);                 // full duplex
    p = store_be32(p, 3);                 // admin and operationally up
    p = store_be64(p, sflow_octets_);
    p = store_be32(p, sflow_samples_ * std::max<uint32_t>(sampling_rate_, 1));
    for (int i = 0; i < 5; ++i) // multicast, broadcast, discards, errors, unknown protos
      p = store_be32(p, 0);
    p = store_be64(p, 0);       // out octets
    for (int i = 0; i < 6; ++i) // out unicast .. errors, promiscuous mode
      p = store_be32(p, 0);
    p = store_be32(p, 2); // Ethernet counters
    p = store_be32(p, 52);
    std::memset(p, 0, 52);
    ++sequence_;
    return out;
  }
  bool v9 = protocol_ == export_protocol::netflow_v9;
  bool sampled = sampling_rate_ != 0;
  out.resize(max_datagram_size_);
  uint8_t* base = out.data();
  uint8_t* p = base + header_size();
  // Data templates.
  uint8_t* set = p;
  p = store_be16(p, v9 ? v9_template_flowset_id : ipfix_template_set_id);
  p += 2;
  if (v9) {
    p = put_template(p, ipv4_template_id, v9_ipv4_fields);
    p = put_template(p, ipv6_template_id, v9_ipv6_fields);
  } else {
    p = put_template(p, ipv4_template_id, ipfix_ipv4_fields);
    p = put_template(p, ipv6_template_id, ipfix_ipv6_fields);
  }
  store_be16(set + 2, uint16_t(p - set));
  uint16_t records = 2;
  if (sampled) {
    // Options template. v9: template ID, scope length and option length in bytes;
    // IPFIX: template ID, field count, scope field count.
    set = p;
    p = store_be16(p, v9 ? v9_options_template_flowset_id : ipfix_options_template_set_id);
    p += 2;
    p = store_be16(p, sampling_options_template_id);
    if (v9) {
      p = store_be16(p, uint16_t(v9_options_scope.size() * 4));
      p = store_be16(p, uint16_t(v9_options_fields.size() * 4));
      p = put_fields(p, v9_options_scope);
      p = put_fields(p, v9_options_fields);
      while ((p - set) % 4 != 0)
        *p++ = 0;
    } else {
      p = store_be16(p, uint16_t(ipfix_options_scope.size() + ipfix_options_fields.size()));
      p = store_be16(p, uint16_t(ipfix_options_scope.size()));
      p = put_fields(p, ipfix_options_scope);
      p = put_fields(p, ipfix_options_fields);
    }
    store_be16(set + 2, uint16_t(p - set));
    // Options data: one record for the whole source / observation domain.
    set = p;
    p = store_be16(p, sampling_options_template_id);
    p += 2;
    p = store_be32(p, domain_id_);
    if (v9) {
      p = put8(p, uint8_t(sampler_id));
      p = store_be32(p, sampling_rate_);
      p = put8(p, 1);
      while ((p - set) % 4 != 0)
        *p++ = 0;
    } else {
      p = store_be32(p, sampling_rate_);
      p = store_be32(p, 1);
      p = store_be32(p, sampling_rate_ - 1);
    }
    store_be16(set + 2, uint16_t(p - set));
    records += 2;
  }
  size_t length = size_t(p - base);
  write_header(base, length, records, now_us);
  out.resize(length);
  if (v9)
    ++sequence_;
  else if (sampled)
    ++sequence_; // the options data record is a data record
  return out;
}

uint8_t* flow_encoder::write_record(uint8_t* p, const flow_record& r, bool ipv6) const {
  bool v9 = protocol_ == export_protocol::netflow_v9;
  if (ipv6) {
    p = put_v6(p, r.src_addr);
    p = put_v6(p, r.dst_addr);
  } else {
    p = put_v4(p, r.src_addr);
    p = put_v4(p, r.dst_addr);
  }
  p = store_be16(p, r.src_port);
  p = store_be16(p, r.dst_port);
  p = put8(p, r.ip_protocol);
  p = put8(p, r.tcp_flags);
  p = put8(p, r.tos);
  if (v9) {
    p = store_be32(p, clamp32(r.bytes));
    p = store_be32(p, clamp32(r.packets));
  } else {
    p = store_be64(p, r.bytes);
    p = store_be64(p, r.packets);
  }
  p = store_be32(p, r.input_interface);
  p = store_be32(p, r.output_interface);
  p = store_be32(p, r.src_as);
  p = store_be32(p, r.dst_as);
  p = put8(p, r.src_mask);
  p = put8(p, r.dst_mask);
  p = ipv6 ? put_v6(p, r.next_hop) : put_v4(p, r.next_hop);
  if (v9) {
    p = store_be32(p, uptime_ms(r.flow_start_us));
    p = store_be32(p, uptime_ms(r.flow_end_us));
  } else {
    p = store_be64(p, uint64_t(r.flow_start_us / 1000));
    p = store_be64(p, uint64_t(r.flow_end_us / 1000));
  }
  return put8(p, uint8_t(r.direction));
}

size_t flow_encoder::data_datagram(std::span<const flow_record> records, int64_t now_us,
                                   std::vector<uint8_t>& out) {
  if (records.empty())
    return 0;
  pin_boot_time(now_us);
  if (protocol_ == export_protocol::netflow_v5)
    return encode_v5(records, now_us, out);
  if (protocol_ == export_protocol::sflow_v5)
    return encode_sflow(records, now_us, out);
  return encode_sets(records, now_us, out);
}

uint8_t* flow_encoder::write_sflow_header(uint8_t* p, uint32_t sample_count, int64_t now_us) {
  p = store_be32(p, 5);
  p = store_be32(p, 1);
  p = put_v4(p, agent_);
  p = store_be32(p, domain_id_);
  p = store_be32(p, sequence_);
  p = store_be32(p, uptime_ms(now_us));
  return store_be32(p, sample_count);
}

uint8_t* flow_encoder::write_flow_sample(uint8_t* p, const flow_record& r) {
  bool ipv6 = r.ip_version == 6;
  size_t header_length = ipv6 ? sflow_ipv6_header : sflow_ipv4_header;
  uint32_t rate = std::max<uint32_t>(sampling_rate_, 1);
  uint32_t frame = clamp32(r.bytes / std::max<uint64_t>(r.packets, 1));
  frame = std::max<uint32_t>(frame, uint32_t(header_length));
  sample_pool_ += rate;
  ++sflow_samples_;
  sflow_octets_ += frame;
  p = store_be32(p, 1); // flow sample
  p = store_be32(p, uint32_t(record_size(ipv6) - 8));
  p = store_be32(p, ++flow_sample_sequence_);
  p = store_be32(p, sflow_source_index);
  p = store_be32(p, rate);
  p = store_be32(p, sample_pool_);
  p = store_be32(p, 0); // drops
  p = store_be32(p, r.input_interface & 0x3fffffff);
  p = store_be32(p, r.output_interface & 0x3fffffff);
  p = store_be32(p, 1); // one record: the raw packet header
  p = store_be32(p, 1);
  p = store_be32(p, uint32_t(16 + align4(header_length)));
  p = store_be32(p, 1); // Ethernet
  p = store_be32(p, frame);
  p = store_be32(p, 4); // the FCS, stripped
  p = store_be32(p, uint32_t(header_length));
  uint8_t* header = p;
  p = store_be16(p, uint16_t(r.dst_mac >> 32));
  p = store_be32(p, uint32_t(r.dst_mac));
  p = store_be16(p, uint16_t(r.src_mac >> 32));
  p = store_be32(p, uint32_t(r.src_mac));
  uint16_t ip_length = uint16_t(std::min<uint32_t>(frame - 14, 0xffff));
  if (ipv6) {
    p = store_be16(p, 0x86dd);
    p = store_be32(p, uint32_t(6) << 28 | uint32_t(r.tos) << 20);
    p = store_be16(p, uint16_t(ip_length - 40));
    p = put8(p, r.ip_protocol);
    p = put8(p, 64);
    p = put_v6(p, r.src_addr);
    p = put_v6(p, r.dst_addr);
  } else {
    p = store_be16(p, 0x0800);
    p = put8(p, 0x45);
    p = put8(p, r.tos);
    p = store_be16(p, ip_length);
    p = store_be32(p, 0); // identification, flags, fragment offset
    p = put8(p, 64);
    p = put8(p, r.ip_protocol);
    p = store_be16(p, 0);
    p = put_v4(p, r.src_addr);
    p = put_v4(p, r.dst_addr);
  }
  std::memset(p, 0, sflow_transport_size);
  if (r.ip_protocol == 1 || r.ip_protocol == 58) {
    put8(p, r.ip_protocol == 1 ? 8 : 128); // echo request
  } else {
    store_be16(p, r.src_port);
    store_be16(p + 2, r.dst_port);
    if (r.ip_protocol == 6) {
      put8(p + 12, 0x50);
      put8(p + 13, r.tcp_flags);
    }
  }
  p += sflow_transport_size;
  size_t padded = align4(header_length);
  std::memset(p, 0, padded - header_length);
  return header + padded;
}

size_t flow_encoder::encode_sflow(std::span<const flow_record> records, int64_t now_us,
                                  std::vector<uint8_t>& out) {
  size_t start = out.size();
  out.resize(start + max_datagram_size_);
  uint8_t* base = out.data() + start;
  uint8_t* p = base + sflow_header_size;
  size_t n = 0;
  for (; n < records.size(); ++n) {
    size_t size = record_size(records[n].ip_version == 6);
    if (size_t(p - base) + size > max_datagram_size_)
      break;
    p = write_flow_sample(p, records[n]);
  }
  write_sflow_header(base, uint32_t(n), now_us);
  out.resize(start + size_t(p - base));
  ++sequence_;
  return n;
}

size_t flow_encoder::encode_v5(std::span<const flow_record> records, int64_t now_us,
                               std::vector<uint8_t>& out) {
  size_t limit = max_records_per_datagram(false);
  size_t start = out.size();
  out.resize(start + v5_header_size + limit * v5_record_size);
  uint8_t* base = out.data() + start;
  uint8_t* p = base + v5_header_size;
  size_t consumed = 0;
  size_t count = 0;
  for (; consumed < records.size() && count < limit; ++consumed) {
    const auto& r = records[consumed];
    if (r.ip_version == 6) {
      ++unencodable_;
      continue;
    }
    p = put_v4(p, r.src_addr);
    p = put_v4(p, r.dst_addr);
    p = put_v4(p, r.next_hop);
    p = store_be16(p, clamp16(r.input_interface));
    p = store_be16(p, clamp16(r.output_interface));
    p = store_be32(p, clamp32(r.packets));
    p = store_be32(p, clamp32(r.bytes));
    p = store_be32(p, uptime_ms(r.flow_start_us));
    p = store_be32(p, uptime_ms(r.flow_end_us));
    p = store_be16(p, r.src_port);
    p = store_be16(p, r.dst_port);
    p = put8(p, 0);
    p = put8(p, r.tcp_flags);
    p = put8(p, r.ip_protocol);
    p = put8(p, r.tos);
    p = store_be16(p, clamp16(r.src_as));
    p = store_be16(p, clamp16(r.dst_as));
    p = put8(p, r.src_mask);
    p = put8(p, r.dst_mask);
    p = store_be16(p, 0);
    ++count;
  }
  if (count == 0) {
    out.resize(start);
    return consumed;
  }
  write_header(base, 0, uint16_t(count), now_us);
  out.resize(start + v5_header_size + count * v5_record_size);
  sequence_ += uint32_t(count);
  return consumed;
}

size_t flow_encoder::encode_sets(std::span<const flow_record> records, int64_t now_us,
                                 std::vector<uint8_t>& out) {
  bool v9 = protocol_ == export_protocol::netflow_v9;
  size_t start = out.size();
  out.resize(start + max_datagram_size_);
  uint8_t* base = out.data() + start;
  size_t length = header_size();
  size_t set_start = 0; // 0 while no set is open
  bool set_ipv6 = false;
  // v9 pads every data flowset to 4 bytes; IPFIX sets stay unpadded.
  auto closed_length = [&](size_t len) { return v9 ? align4(len) : len; };
  auto close_set = [&] {
    size_t end = closed_length(length);
    std::memset(base + length, 0, end - length);
    store_be16(base + set_start + 2, uint16_t(end - set_start));
    length = end;
  };
  size_t n = 0;
  for (; n < records.size(); ++n) {
    bool ipv6 = records[n].ip_version == 6;
    size_t size = record_size(ipv6);
    if (set_start == 0 || ipv6 != set_ipv6) {
      size_t base_length = set_start == 0 ? length : closed_length(length);
      if (closed_length(base_length + set_header_size + size) > max_datagram_size_)
        break;
      if (set_start != 0)
        close_set();
      set_start = length;
      set_ipv6 = ipv6;
      store_be16(base + length, ipv6 ? ipv6_template_id : ipv4_template_id);
      length += set_header_size;
    } else if (closed_length(length + size) > max_datagram_size_) {
      break;
    }
    write_record(base + length, records[n], ipv6);
    length += size;
  }
  close_set();
  write_header(base, length, uint16_t(n), now_us);
  out.resize(start + length);
  sequence_ += v9 ? 1 : uint32_t(n);
  return n;
}

} // namespace tidewatch
