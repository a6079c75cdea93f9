#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "actors/common/byte_order.hpp"
#include "messages/address.hpp"
#include "messages/flow.hpp"

namespace tidewatch::detail {

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

/// What one step of a compiled plan does, chosen once per template from the
/// field's meaning and length so that decoding a field is a single switch case
/// with no further tests. Ops that name no destination write the flow_record
/// member at the step's `target` byte offset.
enum class field_op : uint8_t {
  skip,
  // -- big-endian unsigned numbers: destination width and field length --
  u8_from_1,
  u16_from_2,
  u32_from_2,
  u32_from_4,
  u64_from_4,
  u64_from_8,
  u8_from_n, ///< any other length from 1 to 8 (IPFIX reduced-size encoding)
  u16_from_n,
  u32_from_n,
  u64_from_n,
  // -- other record members at `target` --
  v4_address,   ///< 4 bytes into an ip_address
  v6_address,   ///< 16 bytes into an ip_address
  vlan,         ///< the 12-bit VLAN ID into a uint16_t
  mac,          ///< 6 bytes into the low bits of a uint64_t
  uptime_ms,    ///< exporter uptime (ms, 1 to 4 bytes) into µs since the epoch
  seconds,      ///< Unix seconds into µs
  milliseconds, ///< Unix milliseconds into µs
  ntp,          ///< NTP timestamp (8 bytes) into µs
  delta_us,     ///< µs before the export time into µs
  // -- fixed destinations --
  direction,
  sampler_id,
  sampling_interval,        ///< 34 samplingInterval, 50 samplerRandomInterval: 1 in N
  sampling_packet_interval, ///< 305
  sampling_packet_space,    ///< 306
  sampling_size,            ///< 309 samplingSize (random n-out-of-N: n)
  sampling_population,      ///< 310 samplingPopulation (random n-out-of-N: N)
  system_init_ms,
  reverse_bytes,
  reverse_packets,
  reverse_tcp_flags,
};

/// One step of a compiled plan: where the field lies and what to do with it.
struct field_step {
  uint16_t offset = 0; ///< from the record start; unused in variable-length plans
  uint16_t length = 0; ///< variable_length for IPFIX variable-length fields
  field_op op = field_op::skip;
  uint8_t target = 0; ///< byte offset of the flow_record member the op writes
};
// Plans write only the exported fields, which come before the enrichment ones.
static_assert(offsetof(flow_record, scope) <= 256, "field_step::target is one byte");

/// A template parsed once into a plan. Fixed-length templates keep only the
/// steps that do something, at fixed offsets; templates with variable-length
/// fields keep every field (adjacent skipped fixed fields merged) and are
/// walked with a cursor.
struct compiled_template {
  template_definition def;
  std::vector<field_step> steps;
  uint32_t record_length = 0; ///< fixed length, or the minimum when variable
  bool variable = false;
  /// 4 or 6 as the template's address fields imply (the last one wins), 0
  /// without any: the same for every record, so set once per data set.
  uint8_t ip_version = 0;
  bool has_reverse = false;         ///< carries RFC 5103 reverse counters
  bool has_record_sampling = false; ///< data records carry their own sampling interval
  bool has_sampler_id = false;      ///< data records name their sampler
};

/// Per-record values that do not go straight into a flow_record.
struct record_extras {
  uint64_t sampling_interval = 0;
  uint64_t packet_interval = 0;
  uint64_t packet_space = 0;
  uint64_t sampling_size = 0;
  uint64_t sampling_population = 0;
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
/// interval for systematic count-based selection (selector algorithm 1),
/// 310 population / 309 size for random n-out-of-N (algorithm 3), else the
/// 34/50 interval itself; 0 when none. Time-based selection (307/308) gives
/// no packet rate and stays 0.
uint32_t sampling_rate_of(const record_extras& x);

/// Writes `v` to the `T` at byte offset `target` of the record.
template <class T>
[[gnu::always_inline]] inline void store_at(flow_record& r, uint8_t target, T v) {
  std::memcpy(reinterpret_cast<uint8_t*>(&r) + target, &v, sizeof(T));
}

/// Applies op `Op` to the field of `len` bytes at `p`, writing the record
/// member at `target` or the extras. One instance per op, so that callers can
/// dispatch once and loop (see visit_op).
template <field_op Op>
[[gnu::always_inline]] inline void apply_op(const uint8_t* p, size_t len, uint8_t target,
                                            flow_record& r, record_extras& x,
                                            const time_context& tc) {
  if constexpr (Op == field_op::skip) {
  } else if constexpr (Op == field_op::u8_from_1) {
    store_at<uint8_t>(r, target, p[0]);
  } else if constexpr (Op == field_op::u16_from_2) {
    store_at<uint16_t>(r, target, load_be16(p));
  } else if constexpr (Op == field_op::u32_from_2) {
    store_at<uint32_t>(r, target, load_be16(p));
  } else if constexpr (Op == field_op::u32_from_4) {
    store_at<uint32_t>(r, target, load_be32(p));
  } else if constexpr (Op == field_op::u64_from_4) {
    store_at<uint64_t>(r, target, load_be32(p));
  } else if constexpr (Op == field_op::u64_from_8) {
    store_at<uint64_t>(r, target, load_be64(p));
  } else if constexpr (Op == field_op::u8_from_n) {
    store_at<uint8_t>(r, target, static_cast<uint8_t>(load_be(p, len)));
  } else if constexpr (Op == field_op::u16_from_n) {
    store_at<uint16_t>(r, target, static_cast<uint16_t>(load_be(p, len)));
  } else if constexpr (Op == field_op::u32_from_n) {
    store_at<uint32_t>(r, target, static_cast<uint32_t>(load_be(p, len)));
  } else if constexpr (Op == field_op::u64_from_n) {
    store_at<uint64_t>(r, target, load_be(p, len));
  } else if constexpr (Op == field_op::v4_address) {
    store_at(r, target, ip_address::from_v4_bytes(p));
  } else if constexpr (Op == field_op::v6_address) {
    store_at(r, target, ip_address::from_v6_bytes(p));
  } else if constexpr (Op == field_op::vlan) {
    store_at<uint16_t>(r, target, static_cast<uint16_t>(load_be(p, len) & 0x0fff));
  } else if constexpr (Op == field_op::mac) {
    store_at<uint64_t>(r, target, load_be(p, 6));
  } else if constexpr (Op == field_op::uptime_ms) {
    if (tc.has_uptime)
      store_at<int64_t>(r, target,
                        tc.uptime_abs_us +
                            int64_t(int32_t(uint32_t(load_be(p, len)) - tc.uptime_ms)) * 1000);
  } else if constexpr (Op == field_op::seconds) {
    store_at<int64_t>(r, target, int64_t(load_be(p, len)) * 1'000'000);
  } else if constexpr (Op == field_op::milliseconds) {
    store_at<int64_t>(r, target, int64_t(load_be(p, len) & 0x7fffffffffffull) * 1000);
  } else if constexpr (Op == field_op::ntp) {
    constexpr int64_t ntp_unix_offset = 2'208'988'800;
    uint64_t v = load_be64(p);
    int64_t secs = int64_t(v >> 32);
    if (secs < 0x80000000ll) // RFC 5905 era 1, from 2036 on
      secs += 0x100000000ll;
    store_at<int64_t>(r, target,
                      (secs - ntp_unix_offset) * 1'000'000 +
                          int64_t(((v & 0xffffffffu) * 1'000'000) >> 32));
  } else if constexpr (Op == field_op::delta_us) {
    store_at<int64_t>(r, target, tc.export_us - int64_t(load_be(p, len)));
  } else if constexpr (Op == field_op::direction) {
    r.direction = static_cast<flow_direction>(load_be(p, len) == 0 ? 0 : 1);
  } else if constexpr (Op == field_op::sampler_id) {
    x.sampler_id = static_cast<uint32_t>(load_be(p, len));
    x.has_sampler_id = true;
    r.sampler_id = x.sampler_id;
  } else if constexpr (Op == field_op::sampling_interval) {
    x.sampling_interval = load_be(p, len);
  } else if constexpr (Op == field_op::sampling_packet_interval) {
    x.packet_interval = load_be(p, len);
  } else if constexpr (Op == field_op::sampling_packet_space) {
    x.packet_space = load_be(p, len);
  } else if constexpr (Op == field_op::sampling_size) {
    x.sampling_size = load_be(p, len);
  } else if constexpr (Op == field_op::sampling_population) {
    x.sampling_population = load_be(p, len);
  } else if constexpr (Op == field_op::system_init_ms) {
    x.system_init_ms = int64_t(load_be(p, len) & 0x7fffffffffffull);
  } else if constexpr (Op == field_op::reverse_bytes) {
    x.reverse_bytes = load_be(p, len);
  } else if constexpr (Op == field_op::reverse_packets) {
    x.reverse_packets = load_be(p, len);
  } else if constexpr (Op == field_op::reverse_tcp_flags) {
    x.reverse_tcp_flags = static_cast<uint8_t>(load_be(p, len));
  }
}

/// Calls `f.template operator()<op>()` with the run-time `op` as a constant:
/// the one switch over ops, shared by per-record and per-column decoding.
template <class F> [[gnu::always_inline]] inline void visit_op(field_op op, F&& f) {
  switch (op) {
  case field_op::skip:
    f.template operator()<field_op::skip>();
    return;
  case field_op::u8_from_1:
    f.template operator()<field_op::u8_from_1>();
    return;
  case field_op::u16_from_2:
    f.template operator()<field_op::u16_from_2>();
    return;
  case field_op::u32_from_2:
    f.template operator()<field_op::u32_from_2>();
    return;
  case field_op::u32_from_4:
    f.template operator()<field_op::u32_from_4>();
    return;
  case field_op::u64_from_4:
    f.template operator()<field_op::u64_from_4>();
    return;
  case field_op::u64_from_8:
    f.template operator()<field_op::u64_from_8>();
    return;
  case field_op::u8_from_n:
    f.template operator()<field_op::u8_from_n>();
    return;
  case field_op::u16_from_n:
    f.template operator()<field_op::u16_from_n>();
    return;
  case field_op::u32_from_n:
    f.template operator()<field_op::u32_from_n>();
    return;
  case field_op::u64_from_n:
    f.template operator()<field_op::u64_from_n>();
    return;
  case field_op::v4_address:
    f.template operator()<field_op::v4_address>();
    return;
  case field_op::v6_address:
    f.template operator()<field_op::v6_address>();
    return;
  case field_op::vlan:
    f.template operator()<field_op::vlan>();
    return;
  case field_op::mac:
    f.template operator()<field_op::mac>();
    return;
  case field_op::uptime_ms:
    f.template operator()<field_op::uptime_ms>();
    return;
  case field_op::seconds:
    f.template operator()<field_op::seconds>();
    return;
  case field_op::milliseconds:
    f.template operator()<field_op::milliseconds>();
    return;
  case field_op::ntp:
    f.template operator()<field_op::ntp>();
    return;
  case field_op::delta_us:
    f.template operator()<field_op::delta_us>();
    return;
  case field_op::direction:
    f.template operator()<field_op::direction>();
    return;
  case field_op::sampler_id:
    f.template operator()<field_op::sampler_id>();
    return;
  case field_op::sampling_interval:
    f.template operator()<field_op::sampling_interval>();
    return;
  case field_op::sampling_packet_interval:
    f.template operator()<field_op::sampling_packet_interval>();
    return;
  case field_op::sampling_packet_space:
    f.template operator()<field_op::sampling_packet_space>();
    return;
  case field_op::sampling_size:
    f.template operator()<field_op::sampling_size>();
    return;
  case field_op::sampling_population:
    f.template operator()<field_op::sampling_population>();
    return;
  case field_op::system_init_ms:
    f.template operator()<field_op::system_init_ms>();
    return;
  case field_op::reverse_bytes:
    f.template operator()<field_op::reverse_bytes>();
    return;
  case field_op::reverse_packets:
    f.template operator()<field_op::reverse_packets>();
    return;
  case field_op::reverse_tcp_flags:
    f.template operator()<field_op::reverse_tcp_flags>();
    return;
  }
}

/// Applies one step to the field of `len` bytes at `p`, writing the record or extras.
[[gnu::always_inline]] inline void apply_step(const field_step& st, const uint8_t* p, size_t len,
                                              flow_record& r, record_extras& x,
                                              const time_context& tc) {
  visit_op(st.op, [&]<field_op Op>() { apply_op<Op>(p, len, st.target, r, x, tc); });
}

/// Decodes one record of a fixed-length plan at `p` (record_length bytes).
inline void apply_fixed(const compiled_template& t, const uint8_t* p, flow_record& r,
                        record_extras& x, const time_context& tc) {
  for (const auto& st : t.steps)
    apply_step(st, p + st.offset, st.length, r, x, tc);
}

/// Decodes `count` consecutive records of a fixed-length plan at `p` into
/// `records` (already holding the per-set values) one step at a time over all
/// records, so that the op is dispatched once per step instead of once per
/// field. Only for plans without per-record extras (no reverse counters, no
/// record sampling): what extras the steps write is thrown away.
inline void apply_fixed_columns(const compiled_template& t, const uint8_t* p, size_t count,
                                flow_record* records, const time_context& times) {
  // Local copies: the record stores could alias anything reached by reference,
  // which would reload the step and times on every record.
  const time_context tc = times;
  record_extras ignored;
  size_t stride = t.record_length;
  for (const field_step st : t.steps)
    visit_op(st.op, [&]<field_op Op>() {
      const uint8_t* q = p + st.offset;
#pragma GCC unroll 4
      for (size_t i = 0; i < count; ++i, q += stride)
        apply_op<Op>(q, st.length, st.target, records[i], ignored, tc);
    });
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
    apply_step(s, p + pos, len, r, x, tc);
    pos += len;
  }
  return pos;
}

} // namespace tidewatch::detail
