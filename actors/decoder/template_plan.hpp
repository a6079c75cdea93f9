#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "messages/address.hpp"
#include "messages/flow.hpp"

namespace tidewatch::detail {

// -- big-endian reads --

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
/// Reads an unsigned big-endian integer of 1 to 8 bytes (IPFIX reduced-size
/// encoding makes any of these lengths legal for counters).
inline uint64_t load_be(const uint8_t* p, size_t n) {
  switch (n) {
  case 1:
    return p[0];
  case 2:
    return load_be16(p);
  case 4:
    return load_be32(p);
  case 8:
    return load_be64(p);
  default: {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = v << 8 | p[i];
    return v;
  }
  }
}

/// Hash of an address, for per-exporter tables.
struct ip_address_hash {
  size_t operator()(const ip_address& a) const noexcept {
    uint64_t lo, hi;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    return size_t((lo * 0x9E3779B97F4A7C15ull) ^ (hi * 0xC2B2AE3D27D4EB4Full) ^ (hi >> 29));
  }
};

/// IPFIX private enterprise number of RFC 5103 reverse information elements.
inline constexpr uint32_t reverse_pen = 29305;
/// The value of a field length that marks an IPFIX variable-length field.
inline constexpr uint16_t variable_length = 0xffff;

/// One field specifier as exported (enterprise 0 for standard elements).
struct field_spec {
  uint16_t type = 0;
  uint16_t length = 0;
  uint32_t enterprise = 0;
  friend bool operator==(const field_spec&, const field_spec&) = default;
};

enum class template_kind : uint8_t { data = 0, options = 1 };

/// A template as received: what is persisted and compared on refresh.
struct template_definition {
  uint16_t id = 0;
  template_kind kind = template_kind::data;
  bool ipfix = false;       ///< IPFIX semantics (IEs in scope, variable-length fields)
  uint16_t scope_count = 0; ///< options templates: leading scope fields
  std::vector<field_spec> fields;
  friend bool operator==(const template_definition&, const template_definition&) = default;
};

/// What one template field does to a record. Chosen once per template.
enum class field_action : uint8_t {
  skip,
  src_v4,
  dst_v4,
  src_v6,
  dst_v6,
  src_port,
  dst_port,
  ip_protocol,
  tcp_flags,
  tos,
  bytes,
  packets,
  input_interface,
  output_interface,
  src_as,
  dst_as,
  src_mask,
  dst_mask,
  next_hop_v4,
  next_hop_v6,
  bgp_next_hop_v4,
  bgp_next_hop_v6,
  src_vlan,
  dst_vlan,
  src_mac,
  dst_mac,
  direction,
  forwarding_status,
  sampler_id,
  sampling_interval,        ///< 34 samplingInterval, 50 samplerRandomInterval: 1 in N
  sampling_packet_interval, ///< 305
  sampling_packet_space,    ///< 306
  start_uptime_ms,
  end_uptime_ms,
  start_seconds,
  end_seconds,
  start_milliseconds,
  end_milliseconds,
  start_ntp,
  end_ntp,
  start_delta_us,
  end_delta_us,
  system_init_ms,
  reverse_bytes,
  reverse_packets,
  reverse_tcp_flags,
};

/// One step of a compiled plan: where the field lies and what to do with it.
struct field_step {
  uint16_t offset = 0; ///< from the record start; unused in variable-length plans
  uint16_t length = 0; ///< variable_length for IPFIX variable-length fields
  field_action action = field_action::skip;
};

/// A template parsed once into a plan. Fixed-length templates keep only the
/// steps that do something, at fixed offsets; templates with variable-length
/// fields keep every field (adjacent skipped fixed fields merged) and are
/// walked with a cursor.
struct compiled_template {
  template_definition def;
  std::vector<field_step> steps;
  uint32_t record_length = 0; ///< fixed length, or the minimum when variable
  bool variable = false;
  bool has_reverse = false;         ///< carries RFC 5103 reverse counters
  bool has_record_sampling = false; ///< data records carry their own sampling interval
};

/// Per-record values that do not go straight into a flow_record.
struct record_extras {
  uint64_t sampling_interval = 0;
  uint64_t packet_interval = 0;
  uint64_t packet_space = 0;
  int64_t system_init_ms = -1;
  uint64_t reverse_bytes = 0;
  uint64_t reverse_packets = 0;
  uint8_t reverse_tcp_flags = 0;
  bool has_sampler_id = false;
  uint32_t sampler_id = 0;
};

/// Time references of one export datagram, to turn exported times into µs
/// since the Unix epoch.
struct time_context {
  bool has_uptime = false;   ///< uptime-relative fields (21/22) can be converted
  uint32_t uptime_ms = 0;    ///< exporter uptime when the datagram was exported
  int64_t uptime_abs_us = 0; ///< Unix time (µs) at uptime_ms
  int64_t export_us = 0;     ///< export time (µs), for delta fields 158/159
};

enum class compile_result : uint8_t { ok, no_fields, zero_length_field, too_long, bad_scope };

/// Builds the plan for a template; `out` is valid only when it returns ok.
compile_result compile_template(template_definition def, compiled_template& out);

/// Sampling rate (1 in N) a record announces: (305 interval + 306 space) /
/// interval when 305 is present, else the 34/50 interval itself; 0 when none.
uint32_t sampling_rate_of(const record_extras& x);

/// Applies one field of `len` bytes at `p` to the record or extras.
[[gnu::always_inline]] inline void apply_field(field_action a, const uint8_t* p, size_t len,
                                               flow_record& r, record_extras& x,
                                               const time_context& tc) {
  constexpr int64_t ntp_unix_offset = 2'208'988'800;
  switch (a) {
  case field_action::skip:
    break;
  case field_action::src_v4:
    r.src_addr = ip_address::from_v4_bytes(p);
    r.ip_version = 4;
    break;
  case field_action::dst_v4:
    r.dst_addr = ip_address::from_v4_bytes(p);
    r.ip_version = 4;
    break;
  case field_action::src_v6:
    r.src_addr = ip_address::from_v6_bytes(p);
    r.ip_version = 6;
    break;
  case field_action::dst_v6:
    r.dst_addr = ip_address::from_v6_bytes(p);
    r.ip_version = 6;
    break;
  case field_action::src_port:
    r.src_port = static_cast<uint16_t>(load_be(p, len));
    break;
  case field_action::dst_port:
    r.dst_port = static_cast<uint16_t>(load_be(p, len));
    break;
  case field_action::ip_protocol:
    r.ip_protocol = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::tcp_flags:
    r.tcp_flags = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::tos:
    r.tos = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::bytes:
    r.bytes = load_be(p, len);
    break;
  case field_action::packets:
    r.packets = load_be(p, len);
    break;
  case field_action::input_interface:
    r.input_interface = static_cast<uint32_t>(load_be(p, len));
    break;
  case field_action::output_interface:
    r.output_interface = static_cast<uint32_t>(load_be(p, len));
    break;
  case field_action::src_as:
    r.src_as = static_cast<uint32_t>(load_be(p, len));
    break;
  case field_action::dst_as:
    r.dst_as = static_cast<uint32_t>(load_be(p, len));
    break;
  case field_action::src_mask:
    r.src_mask = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::dst_mask:
    r.dst_mask = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::next_hop_v4:
    r.next_hop = ip_address::from_v4_bytes(p);
    break;
  case field_action::next_hop_v6:
    r.next_hop = ip_address::from_v6_bytes(p);
    break;
  case field_action::bgp_next_hop_v4:
    r.bgp_next_hop = ip_address::from_v4_bytes(p);
    break;
  case field_action::bgp_next_hop_v6:
    r.bgp_next_hop = ip_address::from_v6_bytes(p);
    break;
  case field_action::src_vlan:
    r.src_vlan = static_cast<uint16_t>(load_be(p, len) & 0x0fff);
    break;
  case field_action::dst_vlan:
    r.dst_vlan = static_cast<uint16_t>(load_be(p, len) & 0x0fff);
    break;
  case field_action::src_mac:
    r.src_mac = load_be(p, 6);
    break;
  case field_action::dst_mac:
    r.dst_mac = load_be(p, 6);
    break;
  case field_action::direction:
    r.direction = static_cast<flow_direction>(load_be(p, len) == 0 ? 0 : 1);
    break;
  case field_action::forwarding_status:
    r.forwarding_status = static_cast<uint8_t>(load_be(p, len));
    break;
  case field_action::sampler_id:
    x.sampler_id = static_cast<uint32_t>(load_be(p, len));
    x.has_sampler_id = true;
    r.sampler_id = x.sampler_id;
    break;
  case field_action::sampling_interval:
    x.sampling_interval = load_be(p, len);
    break;
  case field_action::sampling_packet_interval:
    x.packet_interval = load_be(p, len);
    break;
  case field_action::sampling_packet_space:
    x.packet_space = load_be(p, len);
    break;
  case field_action::start_uptime_ms:
    if (tc.has_uptime)
      r.flow_start_us =
          tc.uptime_abs_us + int64_t(int32_t(uint32_t(load_be(p, len)) - tc.uptime_ms)) * 1000;
    break;
  case field_action::end_uptime_ms:
    if (tc.has_uptime)
      r.flow_end_us =
          tc.uptime_abs_us + int64_t(int32_t(uint32_t(load_be(p, len)) - tc.uptime_ms)) * 1000;
    break;
  case field_action::start_seconds:
    r.flow_start_us = int64_t(load_be(p, len)) * 1'000'000;
    break;
  case field_action::end_seconds:
    r.flow_end_us = int64_t(load_be(p, len)) * 1'000'000;
    break;
  case field_action::start_milliseconds:
    r.flow_start_us = int64_t(load_be(p, len) & 0x7fffffffffffull) * 1000;
    break;
  case field_action::end_milliseconds:
    r.flow_end_us = int64_t(load_be(p, len) & 0x7fffffffffffull) * 1000;
    break;
  case field_action::start_ntp:
  case field_action::end_ntp: {
    uint64_t v = load_be64(p);
    int64_t secs = int64_t(v >> 32);
    if (secs < 0x80000000ll) // RFC 5905 era 1, from 2036 on
      secs += 0x100000000ll;
    int64_t us =
        (secs - ntp_unix_offset) * 1'000'000 + int64_t(((v & 0xffffffffu) * 1'000'000) >> 32);
    (a == field_action::start_ntp ? r.flow_start_us : r.flow_end_us) = us;
    break;
  }
  case field_action::start_delta_us:
    r.flow_start_us = tc.export_us - int64_t(load_be(p, len));
    break;
  case field_action::end_delta_us:
    r.flow_end_us = tc.export_us - int64_t(load_be(p, len));
    break;
  case field_action::system_init_ms:
    x.system_init_ms = int64_t(load_be(p, len) & 0x7fffffffffffull);
    break;
  case field_action::reverse_bytes:
    x.reverse_bytes = load_be(p, len);
    break;
  case field_action::reverse_packets:
    x.reverse_packets = load_be(p, len);
    break;
  case field_action::reverse_tcp_flags:
    x.reverse_tcp_flags = static_cast<uint8_t>(load_be(p, len));
    break;
  }
}

/// Decodes one record of a fixed-length plan at `p` (record_length bytes).
inline void apply_fixed(const compiled_template& t, const uint8_t* p, flow_record& r,
                        record_extras& x, const time_context& tc) {
  for (const auto& st : t.steps)
    apply_field(st.action, p + st.offset, st.length, r, x, tc);
}

/// Decodes one record of a variable-length plan starting at `p` with `avail`
/// bytes left; returns the bytes consumed, or 0 when the record overruns.
inline size_t apply_variable(const compiled_template& t, const uint8_t* p, size_t avail,
                             flow_record& r, record_extras& x, const time_context& tc) {
  size_t pos = 0;
  for (const auto& s : t.steps) {
    size_t len = s.length;
    if (len == variable_length) {
      if (pos + 1 > avail)
        return 0;
      len = p[pos++];
      if (len == 255) {
        if (pos + 2 > avail)
          return 0;
        len = load_be16(p + pos);
        pos += 2;
      }
    }
    if (len > avail - pos)
      return 0;
    apply_field(s.action, p + pos, len, r, x, tc);
    pos += len;
  }
  return pos;
}

} // namespace tidewatch::detail
