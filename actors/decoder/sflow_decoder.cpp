#include "actors/decoder/sflow_decoder.hpp"

#include <algorithm>
#include <string>
#include <tuple>

#include "actors/decoder/template_plan.hpp"

namespace tidewatch {

using detail::load_be16;
using detail::load_be32;
using detail::load_be64;

namespace {

constexpr uint32_t sflow_version = 5;
constexpr size_t datagram_fixed_length = 28; ///< with an IPv4 agent address
constexpr size_t sample_header_length = 8;   ///< data format + length
constexpr size_t record_header_length = 8;
constexpr size_t compact_flow_sample_length = 32;
constexpr size_t expanded_flow_sample_length = 44;
constexpr size_t compact_counter_sample_length = 12;
constexpr size_t expanded_counter_sample_length = 16;

// Sequence rule thresholds (see the class comment).
constexpr int64_t max_gap = 65'536;
constexpr int64_t reorder_window = 64;

// Sample formats, enterprise 0.
constexpr uint32_t flow_sample = 1;
constexpr uint32_t counter_sample = 2;
constexpr uint32_t flow_sample_expanded = 3;
constexpr uint32_t counter_sample_expanded = 4;

// Flow record formats, enterprise 0.
constexpr uint32_t raw_packet_header = 1;
constexpr uint32_t ethernet_frame = 2;
constexpr uint32_t sampled_ipv4 = 3;
constexpr uint32_t sampled_ipv6 = 4;
constexpr uint32_t extended_switch = 1001;
constexpr uint32_t extended_router = 1002;
constexpr uint32_t extended_gateway = 1003;

// Counter record formats, enterprise 0.
constexpr uint32_t generic_interface_counters = 1;
constexpr uint32_t ethernet_interface_counters = 2;
constexpr size_t generic_counters_length = 88;
constexpr size_t ethernet_counters_length = 52;

// Header protocols of the raw packet header record.
constexpr uint32_t header_ethernet = 1;
constexpr uint32_t header_ipv4 = 11;
constexpr uint32_t header_ipv6 = 12;

constexpr const char* error_names[sflow_error_count] = {
    "truncated",         "bad_version",      "bad_agent_address", "bad_sample_count",
    "bad_sample_length", "bad_record_count", "bad_record_length", "bad_record",
    "agent_limit",       "source_limit",     "interface_limit",
};

uint64_t load_mac(const uint8_t* p) {
  return uint64_t(load_be16(p)) << 32 | load_be32(p + 2);
}

/// Reads an sFlow address (type word, then 4 or 16 bytes) at p, at most n
/// bytes; returns the bytes used or 0 when malformed or cut short.
size_t read_address(const uint8_t* p, size_t n, ip_address& out) {
  if (n < 4)
    return 0;
  uint32_t type = load_be32(p);
  if (type == 1 && n >= 8) {
    out = ip_address::from_v4_bytes(p + 4);
    return 8;
  }
  if (type == 2 && n >= 20) {
    out = ip_address::from_v6_bytes(p + 4);
    return 20;
  }
  return 0;
}

/// Splits a compact interface word: format in the top 2 bits, value below.
void set_compact_interface(uint32_t word, uint32_t& value, uint8_t& format) {
  format = static_cast<uint8_t>(word >> 30);
  value = word & 0x3fffffff;
}

/// The head every flow and counter sample starts with: sequence number and
/// data source, the source split as the form says (compact: type in the top
/// 8 bits, index in the low 24; expanded: one word each), and where the
/// sample's own fields begin. The caller checked the sample's fixed length.
struct sample_head {
  uint32_t sequence;
  uint32_t source_type;
  uint32_t source_index;
  size_t fields_at;
};

sample_head read_sample_head(const uint8_t* p, bool expanded) {
  if (expanded)
    return {load_be32(p), load_be32(p + 4), load_be32(p + 8), 12};
  return {load_be32(p), p[4], load_be32(p + 4) & 0x00ffffff, 8};
}

/// A sampled IPv4 (address_size 4) or IPv6 (16) record: frame length,
/// protocol, source and destination address, ports, TCP flags, ToS; the
/// caller checked that 24 + 2 * address_size bytes are there.
void read_sampled_ip(const uint8_t* p, size_t address_size, flow_record& r) {
  r.bytes = load_be32(p);
  r.ip_protocol = static_cast<uint8_t>(load_be32(p + 4));
  const uint8_t* a = p + 8;
  bool v4 = address_size == 4;
  r.src_addr = v4 ? ip_address::from_v4_bytes(a) : ip_address::from_v6_bytes(a);
  r.dst_addr = v4 ? ip_address::from_v4_bytes(a + address_size)
                  : ip_address::from_v6_bytes(a + address_size);
  const uint8_t* q = a + 2 * address_size;
  r.src_port = static_cast<uint16_t>(load_be32(q));
  r.dst_port = static_cast<uint16_t>(load_be32(q + 4));
  r.tcp_flags = static_cast<uint8_t>(load_be32(q + 8));
  r.tos = static_cast<uint8_t>(load_be32(q + 12));
  r.ip_version = v4 ? 4 : 6;
}

} // namespace

const char* to_string(sflow_error e) {
  return error_names[static_cast<size_t>(e)];
}

// -- raw packet headers ---------------------------------------------------------------

namespace detail {

namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint16_t ethertype_vlan = 0x8100;
constexpr uint16_t ethertype_qinq = 0x88a8;
constexpr uint16_t ethertype_qinq_legacy = 0x9100;
constexpr uint16_t ethertype_mpls = 0x8847;
constexpr uint16_t ethertype_mpls_multicast = 0x8848;
/// Tags and labels followed at most, so that a crafted header cannot loop long.
constexpr int max_tags = 8;
constexpr int max_labels = 16;
constexpr int max_ipv6_extensions = 8;

/// Ports and TCP flags of a transport header at p (n bytes). ICMP and ICMPv6
/// leave the ports 0, as sfacctd does.
void parse_transport(const uint8_t* p, size_t n, uint8_t protocol, flow_record& r) {
  switch (protocol) {
  case 6: // TCP
    if (n >= 14) {
      r.src_port = load_be16(p);
      r.dst_port = load_be16(p + 2);
      r.tcp_flags = p[13];
    } else if (n >= 4) {
      r.src_port = load_be16(p);
      r.dst_port = load_be16(p + 2);
    }
    break;
  case 17:  // UDP
  case 132: // SCTP
    if (n >= 4) {
      r.src_port = load_be16(p);
      r.dst_port = load_be16(p + 2);
    }
    break;
  default:
    break;
  }
}

bool parse_ipv4(const uint8_t* p, size_t n, flow_record& r) {
  if (n < 20 || (p[0] >> 4) != 4)
    return false;
  size_t ihl = size_t(p[0] & 0x0f) * 4;
  r.ip_version = 4;
  r.tos = p[1];
  r.ip_protocol = p[9];
  r.src_addr = ip_address::from_v4_bytes(p + 12);
  r.dst_addr = ip_address::from_v4_bytes(p + 16);
  uint16_t fragment = load_be16(p + 6);
  bool more_fragments = (fragment & 0x2000) != 0;
  uint16_t offset = fragment & 0x1fff;
  r.is_fragment = more_fragments || offset != 0;
  if (offset == 0 && ihl >= 20 && ihl <= n)
    parse_transport(p + ihl, n - ihl, r.ip_protocol, r);
  return true;
}

bool parse_ipv6(const uint8_t* p, size_t n, flow_record& r) {
  if (n < 40 || (p[0] >> 4) != 6)
    return false;
  r.ip_version = 6;
  r.tos = static_cast<uint8_t>((load_be16(p) >> 4) & 0xff);
  r.src_addr = ip_address::from_v6_bytes(p + 8);
  r.dst_addr = ip_address::from_v6_bytes(p + 24);
  uint8_t next = p[6];
  size_t pos = 40;
  for (int i = 0; i < max_ipv6_extensions; ++i) {
    switch (next) {
    case 0:  // hop-by-hop options
    case 43: // routing
    case 60: // destination options
      if (pos + 8 > n) {
        r.ip_protocol = next;
        return true;
      }
      next = p[pos];
      pos += (size_t(p[pos + 1]) + 1) * 8;
      continue;
    case 51: // authentication header: length in 4-byte units minus 2
      if (pos + 8 > n) {
        r.ip_protocol = next;
        return true;
      }
      next = p[pos];
      pos += (size_t(p[pos + 1]) + 2) * 4;
      continue;
    case 44: { // fragment
      if (pos + 8 > n) {
        r.ip_protocol = next;
        return true;
      }
      uint16_t fragment = load_be16(p + pos + 2);
      r.is_fragment = true;
      next = p[pos];
      pos += 8;
      if ((fragment & 0xfff8) != 0) { // not the first fragment: no transport header
        r.ip_protocol = next;
        return true;
      }
      continue;
    }
    default:
      break;
    }
    break;
  }
  r.ip_protocol = next;
  if (pos < n)
    parse_transport(p + pos, n - pos, next, r);
  return true;
}

bool parse_by_version(const uint8_t* p, size_t n, flow_record& r) {
  if (n == 0)
    return false;
  return (p[0] >> 4) == 4 ? parse_ipv4(p, n, r) : parse_ipv6(p, n, r);
}

bool parse_ethernet(const uint8_t* p, size_t n, flow_record& r) {
  if (n < 14)
    return false;
  r.dst_mac = load_mac(p);
  r.src_mac = load_mac(p + 6);
  uint16_t type = load_be16(p + 12);
  size_t pos = 14;
  int tags = 0;
  while ((type == ethertype_vlan || type == ethertype_qinq || type == ethertype_qinq_legacy) &&
         tags < max_tags) {
    if (pos + 4 > n)
      return false;
    uint16_t tci = load_be16(p + pos);
    if (tags == 0) {
      r.src_vlan = tci & 0x0fff;
      r.src_priority = static_cast<uint8_t>(tci >> 13);
    } else if (tags == 1) {
      r.inner_vlan = tci & 0x0fff;
    }
    type = load_be16(p + pos + 2);
    pos += 4;
    ++tags;
  }
  if (type == ethertype_mpls || type == ethertype_mpls_multicast) {
    for (int labels = 0;; ++labels) {
      if (labels == max_labels || pos + 4 > n)
        return false;
      uint32_t entry = load_be32(p + pos);
      if (labels == 0)
        r.mpls_top_label = entry >> 12;
      pos += 4;
      if (entry & 0x100) // bottom of stack
        break;
    }
    return parse_by_version(p + pos, n - pos, r);
  }
  if (type == ethertype_ipv4)
    return parse_ipv4(p + pos, n - pos, r);
  if (type == ethertype_ipv6)
    return parse_ipv6(p + pos, n - pos, r);
  return false;
}

} // namespace

bool parse_sampled_header(const uint8_t* p, size_t n, uint32_t header_protocol, flow_record& r) {
  switch (header_protocol) {
  case header_ethernet:
    return parse_ethernet(p, n, r);
  case header_ipv4:
    return parse_ipv4(p, n, r);
  case header_ipv6:
    return parse_ipv6(p, n, r);
  default:
    return false;
  }
}

} // namespace detail

// -- the decoder ----------------------------------------------------------------------

/// What every sample of one datagram shares.
struct sflow_decoder::sample_context {
  const datagram_info* meta = nullptr;
  ip_address agent;
  uint32_t sub_agent = 0;
  uint32_t datagram_sequence = 0;
  agent_state* state = nullptr; ///< nullptr when agent_limit was hit
};

size_t sflow_decoder::agent_key_hash::operator()(const agent_key& k) const noexcept {
  return detail::ip_address_hash{}(k.agent) ^ (size_t(k.sub_agent) * 0x9E3779B97F4A7C15ull);
}

size_t sflow_decoder::source_key_hash::operator()(const source_key& k) const noexcept {
  return detail::ip_address_hash{}(k.agent) ^ (size_t(k.sub_agent) * 0x9E3779B97F4A7C15ull) ^
         (size_t(k.index) * 0xC2B2AE3D27D4EB4Full) ^ (size_t(k.type) << 40) ^
         (size_t(k.kind) << 63);
}

sflow_decoder::sflow_decoder(sflow_decoder_options opts) : opts_(opts) {}

uint32_t sflow_decoder::check_sequence(sequence_state& s, uint32_t received) {
  if (!s.started) {
    s.started = true;
    s.expected = received + 1;
    return 0;
  }
  int64_t d = int32_t(received - s.expected);
  if (d == 0) {
    s.expected = received + 1;
    return 0;
  }
  if (d > 0 && d <= max_gap) {
    s.expected = received + 1;
    return static_cast<uint32_t>(d);
  }
  if (d < 0 && d >= -reorder_window) {
    ++reordered_;
    return 0;
  }
  ++resets_;
  s.expected = received + 1;
  return 0;
}

size_t sflow_decoder::decode(const uint8_t* data, size_t length, const datagram_info& meta,
                             std::vector<flow_record>& out,
                             std::vector<sflow_interface_counters>* counters_out) {
  ++datagrams_;
  if (length < datagram_fixed_length) {
    count_error(sflow_error::truncated);
    return 0;
  }
  if (load_be32(data) != sflow_version) {
    count_error(sflow_error::bad_version);
    return 0;
  }
  sample_context ctx;
  ctx.meta = &meta;
  size_t pos = 4;
  size_t used = read_address(data + pos, length - pos, ctx.agent);
  if (used == 0) {
    count_error(load_be32(data + pos) == 2 ? sflow_error::truncated
                                           : sflow_error::bad_agent_address);
    return 0;
  }
  pos += used;
  if (length - pos < 16) {
    count_error(sflow_error::truncated);
    return 0;
  }
  ctx.sub_agent = load_be32(data + pos);
  uint32_t sequence = load_be32(data + pos + 4);
  ctx.datagram_sequence = sequence;
  uint32_t sample_count = load_be32(data + pos + 12);
  pos += 16;
  if (uint64_t(sample_count) * sample_header_length > length - pos) {
    count_error(sflow_error::bad_sample_count);
    return 0;
  }
  agent_key key{ctx.agent, ctx.sub_agent};
  auto it = agents_.find(key);
  if (it == agents_.end()) {
    if (agents_.size() < opts_.max_agents) {
      it = agents_.emplace(key, agent_state{}).first;
      it->second.stats.agent = ctx.agent;
      it->second.stats.sub_agent = ctx.sub_agent;
    } else {
      count_error(sflow_error::agent_limit);
    }
  }
  if (it != agents_.end()) {
    ctx.state = &it->second;
    auto& st = ctx.state->stats;
    ++st.datagrams;
    st.last_datagram_us = meta.received_us;
    uint64_t resets_before = resets_;
    uint32_t lost = check_sequence(ctx.state->sequence, sequence);
    st.datagrams_lost += lost;
    datagrams_lost_ += lost;
    st.sequence_resets += resets_ - resets_before;
  }
  size_t before = out.size();
  for (uint32_t i = 0; i < sample_count; ++i) {
    if (length - pos < sample_header_length) {
      count_error(sflow_error::bad_sample_length);
      return out.size() - before;
    }
    uint32_t format = load_be32(data + pos);
    size_t sample_length = load_be32(data + pos + 4);
    pos += sample_header_length;
    if (sample_length > length - pos) {
      count_error(sflow_error::bad_sample_length);
      return out.size() - before;
    }
    const uint8_t* body = data + pos;
    pos += sample_length;
    switch (format) { // enterprise 0 in the top 20 bits
    case flow_sample:
    case flow_sample_expanded:
      decode_flow_sample(body, sample_length, format == flow_sample_expanded, ctx, out);
      break;
    case counter_sample:
    case counter_sample_expanded:
      decode_counter_sample(body, sample_length, format == counter_sample_expanded, ctx,
                            counters_out);
      break;
    default:
      ++unknown_samples_;
      break;
    }
  }
  if (pos < length) {
    ++datagrams_with_trailing_;
    trailing_bytes_ += length - pos;
  }
  return out.size() - before;
}

void sflow_decoder::track_source(sample_context& ctx, uint32_t kind, uint32_t type, uint32_t index,
                                 uint32_t sequence) {
  source_key key{ctx.agent, ctx.sub_agent, kind, type, index};
  auto it = sources_.find(key);
  if (it == sources_.end()) {
    if (sources_.size() >= opts_.max_sources) {
      count_error(sflow_error::source_limit);
      return;
    }
    it = sources_.emplace(key, sequence_state{}).first;
  }
  uint32_t lost = check_sequence(it->second, sequence);
  samples_lost_ += lost;
  if (ctx.state != nullptr)
    ctx.state->stats.samples_lost += lost;
}

void sflow_decoder::decode_flow_sample(const uint8_t* p, size_t n, bool expanded,
                                       sample_context& ctx, std::vector<flow_record>& out) {
  size_t fixed = expanded ? expanded_flow_sample_length : compact_flow_sample_length;
  if (n < fixed) {
    count_error(sflow_error::bad_sample_length);
    return;
  }
  auto [sequence, source_type, source_index, pos] = read_sample_head(p, expanded);
  uint32_t sampling_rate = load_be32(p + pos);
  uint32_t sample_pool = load_be32(p + pos + 4);
  pos += 12; // drops too
  flow_record r;
  r.exporter = ctx.agent;
  r.observation_domain = ctx.sub_agent;
  r.received_us = ctx.meta->received_us;
  r.protocol_version = export_protocol::sflow_v5;
  r.packets = 1;
  r.sampling_rate = sampling_rate;
  r.sample_pool = sample_pool;
  if (expanded) {
    r.input_interface_format = static_cast<uint8_t>(load_be32(p + pos));
    r.input_interface = load_be32(p + pos + 4);
    r.output_interface_format = static_cast<uint8_t>(load_be32(p + pos + 8));
    r.output_interface = load_be32(p + pos + 12);
    pos += 16;
  } else {
    set_compact_interface(load_be32(p + pos), r.input_interface, r.input_interface_format);
    set_compact_interface(load_be32(p + pos + 4), r.output_interface, r.output_interface_format);
    pos += 8;
  }
  uint32_t record_count = load_be32(p + pos);
  pos += 4;
  ++flow_samples_;
  if (ctx.state != nullptr) {
    ++ctx.state->stats.flow_samples;
    ctx.state->stats.last_sampling_rate = sampling_rate;
  }
  track_source(ctx, 0, source_type, source_index, sequence);
  if (uint64_t(record_count) * record_header_length > n - pos) {
    count_error(sflow_error::bad_record_count);
    return;
  }
  bool have_header = false;
  for (uint32_t i = 0; i < record_count; ++i) {
    if (n - pos < record_header_length) {
      count_error(sflow_error::bad_record_length);
      return;
    }
    uint32_t format = load_be32(p + pos);
    size_t record_length = load_be32(p + pos + 4);
    pos += record_header_length;
    if (record_length > n - pos) {
      count_error(sflow_error::bad_record_length);
      return;
    }
    if (!apply_flow_record(format, p + pos, record_length, r, have_header)) {
      count_error(sflow_error::bad_record);
      return;
    }
    pos += record_length;
  }
  if (r.is_fragment)
    ++fragments_;
  out.push_back(r);
}

bool sflow_decoder::apply_flow_record(uint32_t format, const uint8_t* p, size_t n, flow_record& r,
                                      bool& have_header) {
  switch (format) {
  case raw_packet_header: {
    if (n < 16)
      return false;
    uint32_t protocol = load_be32(p);
    uint32_t frame_length = load_be32(p + 4);
    size_t header_length = load_be32(p + 12);
    if (header_length > n - 16)
      return false;
    r.bytes = frame_length;
    have_header = true;
    if (!detail::parse_sampled_header(p + 16, header_length, protocol, r))
      ++unparsed_headers_;
    return true;
  }
  case ethernet_frame:
    if (n < 24)
      return false;
    if (!have_header) {
      r.bytes = load_be32(p);
      r.src_mac = load_mac(p + 4);
      r.dst_mac = load_mac(p + 12);
    }
    return true;
  case sampled_ipv4:
  case sampled_ipv6: {
    size_t address_size = format == sampled_ipv4 ? 4 : 16;
    if (n < 24 + 2 * address_size)
      return false;
    if (!have_header)
      read_sampled_ip(p, address_size, r);
    return true;
  }
  case extended_switch:
    if (n < 16)
      return false;
    r.src_vlan = static_cast<uint16_t>(load_be32(p));
    r.src_priority = static_cast<uint8_t>(load_be32(p + 4));
    r.dst_vlan = static_cast<uint16_t>(load_be32(p + 8));
    r.dst_priority = static_cast<uint8_t>(load_be32(p + 12));
    return true;
  case extended_router: {
    size_t used = read_address(p, n, r.next_hop);
    if (used == 0 || n - used < 8)
      return false;
    r.src_mask = static_cast<uint8_t>(load_be32(p + used));
    r.dst_mask = static_cast<uint8_t>(load_be32(p + used + 4));
    return true;
  }
  case extended_gateway: {
    ip_address next_hop;
    size_t pos = read_address(p, n, next_hop);
    if (pos == 0 || n - pos < 16)
      return false;
    uint32_t as = load_be32(p + pos);
    uint32_t src_as = load_be32(p + pos + 4);
    uint32_t src_peer_as = load_be32(p + pos + 8);
    uint32_t segments = load_be32(p + pos + 12);
    pos += 16;
    uint32_t first_as = 0, last_as = 0;
    for (uint32_t s = 0; s < segments; ++s) {
      if (n - pos < 8)
        return false;
      uint32_t count = load_be32(p + pos + 4);
      pos += 8;
      if (uint64_t(count) * 4 > n - pos)
        return false;
      if (count > 0) {
        if (s == 0)
          first_as = load_be32(p + pos);
        last_as = load_be32(p + pos + (size_t(count) - 1) * 4);
      }
      pos += size_t(count) * 4;
    }
    if (n - pos < 4)
      return false;
    uint32_t communities = load_be32(p + pos);
    pos += 4;
    if (uint64_t(communities) * 4 + 4 > n - pos) // the communities, then local_pref
      return false;
    r.bgp_next_hop = next_hop;
    r.src_as = src_as;
    r.src_peer_as = src_peer_as;
    r.dst_peer_as = first_as;
    // The destination AS is the end of the path; an empty path means the router's own AS.
    r.dst_as = segments == 0 || last_as == 0 ? as : last_as;
    return true;
  }
  default:
    ++unknown_records_;
    return true;
  }
}

void sflow_decoder::decode_counter_sample(const uint8_t* p, size_t n, bool expanded,
                                          sample_context& ctx,
                                          std::vector<sflow_interface_counters>* counters_out) {
  size_t fixed = expanded ? expanded_counter_sample_length : compact_counter_sample_length;
  if (n < fixed) {
    count_error(sflow_error::bad_sample_length);
    return;
  }
  auto [sequence, source_type, source_index, pos] = read_sample_head(p, expanded);
  uint32_t record_count = load_be32(p + pos);
  pos += 4;
  ++counter_samples_;
  if (ctx.state != nullptr)
    ++ctx.state->stats.counter_samples;
  track_source(ctx, 1, source_type, source_index, sequence);
  if (uint64_t(record_count) * record_header_length > n - pos) {
    count_error(sflow_error::bad_record_count);
    return;
  }
  source_key key{ctx.agent, ctx.sub_agent, 0, source_type, source_index};
  auto it = interfaces_.find(key);
  if (it == interfaces_.end()) {
    if (interfaces_.size() >= opts_.max_interfaces) {
      count_error(sflow_error::interface_limit);
      return;
    }
    it = interfaces_.emplace(key, sflow_interface_counters{}).first;
  }
  // Decoded into a copy so that a malformed sample leaves the last good values.
  sflow_interface_counters c = it->second;
  c.agent = ctx.agent;
  c.sub_agent = ctx.sub_agent;
  c.source_type = source_type;
  c.source_index = source_index;
  c.sequence = sequence;
  c.datagram_sequence = ctx.datagram_sequence;
  c.received_us = ctx.meta->received_us;
  // What this sample carries, apart from what earlier ones left in `c`.
  bool sample_generic = false;
  bool sample_ethernet = false;
  for (uint32_t i = 0; i < record_count; ++i) {
    if (n - pos < record_header_length) {
      count_error(sflow_error::bad_record_length);
      return;
    }
    uint32_t format = load_be32(p + pos);
    size_t record_length = load_be32(p + pos + 4);
    pos += record_header_length;
    if (record_length > n - pos) {
      count_error(sflow_error::bad_record_length);
      return;
    }
    const uint8_t* q = p + pos;
    pos += record_length;
    if (format == generic_interface_counters) {
      if (record_length < generic_counters_length) {
        count_error(sflow_error::bad_record);
        return;
      }
      c.has_generic = sample_generic = true;
      c.if_index = load_be32(q);
      c.if_type = load_be32(q + 4);
      c.if_speed = load_be64(q + 8);
      c.if_direction = load_be32(q + 16);
      c.if_status = load_be32(q + 20);
      c.in_octets = load_be64(q + 24);
      c.in_unicast_packets = load_be32(q + 32);
      c.in_multicast_packets = load_be32(q + 36);
      c.in_broadcast_packets = load_be32(q + 40);
      c.in_discards = load_be32(q + 44);
      c.in_errors = load_be32(q + 48);
      c.in_unknown_protocols = load_be32(q + 52);
      c.out_octets = load_be64(q + 56);
      c.out_unicast_packets = load_be32(q + 64);
      c.out_multicast_packets = load_be32(q + 68);
      c.out_broadcast_packets = load_be32(q + 72);
      c.out_discards = load_be32(q + 76);
      c.out_errors = load_be32(q + 80);
      c.promiscuous_mode = load_be32(q + 84);
    } else if (format == ethernet_interface_counters) {
      if (record_length < ethernet_counters_length) {
        count_error(sflow_error::bad_record);
        return;
      }
      c.has_ethernet = sample_ethernet = true;
      uint32_t* fields[] = {&c.alignment_errors,
                            &c.fcs_errors,
                            &c.single_collision_frames,
                            &c.multiple_collision_frames,
                            &c.sqe_test_errors,
                            &c.deferred_transmissions,
                            &c.late_collisions,
                            &c.excessive_collisions,
                            &c.internal_mac_transmit_errors,
                            &c.carrier_sense_errors,
                            &c.frame_too_longs,
                            &c.internal_mac_receive_errors,
                            &c.symbol_errors};
      for (size_t f = 0; f < std::size(fields); ++f)
        *fields[f] = load_be32(q + f * 4);
    } else {
      ++unknown_records_;
    }
  }
  it->second = c;
  if (counters_out != nullptr && (sample_generic || sample_ethernet)) {
    counters_out->push_back(c);
    counters_out->back().has_generic = sample_generic;
    counters_out->back().has_ethernet = sample_ethernet;
  }
}

// -- statistics ----------------------------------------------------------------------

void sflow_decoder::collect(std::vector<counter_value>& out) const {
  auto add = [&](std::string name, uint64_t value) { out.push_back({std::move(name), value}); };
  add("sflow_datagrams_total", datagrams_);
  add("sflow_flow_samples_total", flow_samples_);
  add("sflow_counter_samples_total", counter_samples_);
  add("sflow_unknown_samples_total", unknown_samples_);
  add("sflow_unknown_records_total", unknown_records_);
  add("sflow_unparsed_headers_total", unparsed_headers_);
  add("sflow_fragments_total", fragments_);
  add("sflow_trailing_bytes_total", trailing_bytes_);
  add("sflow_datagrams_with_trailing_bytes_total", datagrams_with_trailing_);
  for (size_t i = 0; i < sflow_error_count; ++i)
    add(std::string("sflow_decode_errors_total{reason=\"") + error_names[i] + "\"}", errors_[i]);
  add("sflow_sequence_lost_total{unit=\"datagrams\"}", datagrams_lost_);
  add("sflow_sequence_lost_total{unit=\"samples\"}", samples_lost_);
  add("sflow_sequence_reordered_total", reordered_);
  add("sflow_sequence_resets_total", resets_);
  add("sflow_agents", agents_.size());
  add("sflow_sources", sources_.size());
  add("sflow_interfaces", interfaces_.size());
  for (const auto& [key, a] : agents_) {
    std::string labels = "{agent=\"" + key.agent.to_string() + "\",sub_agent=\"" +
                         std::to_string(key.sub_agent) + "\"}";
    add("sflow_agent_datagrams_total" + labels, a.stats.datagrams);
    add("sflow_agent_flow_samples_total" + labels, a.stats.flow_samples);
    add("sflow_agent_counter_samples_total" + labels, a.stats.counter_samples);
    add("sflow_agent_datagrams_lost_total" + labels, a.stats.datagrams_lost);
    add("sflow_agent_samples_lost_total" + labels, a.stats.samples_lost);
    add("sflow_agent_sampling_rate" + labels, a.stats.last_sampling_rate);
  }
  for (const auto& [key, c] : interfaces_) {
    std::string labels = "{agent=\"" + key.agent.to_string() + "\",sub_agent=\"" +
                         std::to_string(key.sub_agent) + "\",ifindex=\"" +
                         std::to_string(key.index) + "\"}";
    if (c.has_generic) {
      add("sflow_interface_in_octets" + labels, c.in_octets);
      add("sflow_interface_out_octets" + labels, c.out_octets);
      add("sflow_interface_in_unicast_packets" + labels, c.in_unicast_packets);
      add("sflow_interface_out_unicast_packets" + labels, c.out_unicast_packets);
      add("sflow_interface_in_discards" + labels, c.in_discards);
      add("sflow_interface_out_discards" + labels, c.out_discards);
      add("sflow_interface_in_errors" + labels, c.in_errors);
      add("sflow_interface_out_errors" + labels, c.out_errors);
      add("sflow_interface_speed" + labels, c.if_speed);
      add("sflow_interface_status" + labels, c.if_status);
    }
    if (c.has_ethernet) {
      add("sflow_interface_fcs_errors" + labels, c.fcs_errors);
      add("sflow_interface_alignment_errors" + labels, c.alignment_errors);
      add("sflow_interface_late_collisions" + labels, c.late_collisions);
      add("sflow_interface_symbol_errors" + labels, c.symbol_errors);
    }
  }
}

std::vector<sflow_agent_stats> sflow_decoder::agents() const {
  std::vector<sflow_agent_stats> result;
  result.reserve(agents_.size());
  for (const auto& [key, a] : agents_)
    result.push_back(a.stats);
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return std::tie(a.agent, a.sub_agent) < std::tie(b.agent, b.sub_agent);
  });
  return result;
}

std::vector<sflow_interface_counters> sflow_decoder::interfaces() const {
  std::vector<sflow_interface_counters> result;
  result.reserve(interfaces_.size());
  for (const auto& [key, c] : interfaces_)
    result.push_back(c);
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return std::tie(a.agent, a.sub_agent, a.source_type, a.source_index) <
           std::tie(b.agent, b.sub_agent, b.source_type, b.source_index);
  });
  return result;
}

const sflow_interface_counters* sflow_decoder::interface_counters(const ip_address& agent,
                                                                  uint32_t sub_agent,
                                                                  uint32_t if_index) const {
  auto it = interfaces_.find(source_key{agent, sub_agent, 0, 0, if_index});
  return it == interfaces_.end() ? nullptr : &it->second;
}

} // namespace tidewatch
