#include "actors/decoder/template_plan.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace tidewatch::detail {

namespace {

/// Longest record a set can hold: a 65535-byte set minus its 4-byte header.
constexpr uint32_t max_record_length = 65531;

/// What one template field means for a record, before its length picks the op.
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
  sampling_interval,
  sampling_packet_interval,
  sampling_packet_space,
  sampling_size,
  sampling_population,
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

/// Which standard elements a template carries, to pick fallbacks (85 octetTotalCount
/// only without 1 octetDeltaCount, and so on).
struct presence {
  std::vector<bool> standard = std::vector<bool>(512, false);
  bool reverse_octets = false;
  bool reverse_packets = false;

  bool has(uint16_t ie) const { return ie < standard.size() && standard[ie]; }
};

enum class shape : uint8_t { number, v4, v6, mac, ntp, uptime };

bool fits(shape s, uint16_t length) {
  switch (s) {
  case shape::number:
    return length >= 1 && length <= 8;
  case shape::v4:
    return length == 4;
  case shape::v6:
    return length == 16;
  case shape::mac:
    return length == 6;
  case shape::ntp:
    return length == 8;
  case shape::uptime:
    return length >= 1 && length <= 4;
  }
  return false;
}

struct mapping {
  field_action action;
  shape form;
};

mapping map_standard(uint16_t ie, const presence& has) {
  using fa = field_action;
  switch (ie) {
  case 1:
    return {fa::bytes, shape::number};
  case 85:
    return {has.has(1) ? fa::skip : fa::bytes, shape::number};
  case 2:
    return {fa::packets, shape::number};
  case 86:
    return {has.has(2) ? fa::skip : fa::packets, shape::number};
  case 4:
    return {fa::ip_protocol, shape::number};
  case 5:
    return {fa::tos, shape::number};
  case 6:
    return {fa::tcp_flags, shape::number};
  case 7:
    return {fa::src_port, shape::number};
  case 11:
    return {fa::dst_port, shape::number};
  case 8:
    return {fa::src_v4, shape::v4};
  case 12:
    return {fa::dst_v4, shape::v4};
  case 27:
    return {fa::src_v6, shape::v6};
  case 28:
    return {fa::dst_v6, shape::v6};
  case 9:
    return {fa::src_mask, shape::number};
  case 13:
    return {fa::dst_mask, shape::number};
  case 29:
    return {has.has(9) ? fa::skip : fa::src_mask, shape::number};
  case 30:
    return {has.has(13) ? fa::skip : fa::dst_mask, shape::number};
  case 10:
    return {fa::input_interface, shape::number};
  case 14:
    return {fa::output_interface, shape::number};
  case 252:
    return {has.has(10) ? fa::skip : fa::input_interface, shape::number};
  case 253:
    return {has.has(14) ? fa::skip : fa::output_interface, shape::number};
  case 16:
    return {fa::src_as, shape::number};
  case 17:
    return {fa::dst_as, shape::number};
  case 15:
    return {fa::next_hop_v4, shape::v4};
  case 62:
    return {fa::next_hop_v6, shape::v6};
  case 18:
    return {fa::bgp_next_hop_v4, shape::v4};
  case 63:
    return {fa::bgp_next_hop_v6, shape::v6};
  case 58:
    return {fa::src_vlan, shape::number};
  case 59:
    return {fa::dst_vlan, shape::number};
  case 243:
    return {has.has(58) ? fa::skip : fa::src_vlan, shape::number};
  case 254:
    return {has.has(59) ? fa::skip : fa::dst_vlan, shape::number};
  case 56:
    return {fa::src_mac, shape::mac};
  case 80:
    return {fa::dst_mac, shape::mac};
  case 81:
    return {has.has(56) ? fa::skip : fa::src_mac, shape::mac};
  case 57:
    return {has.has(80) ? fa::skip : fa::dst_mac, shape::mac};
  case 61:
    return {fa::direction, shape::number};
  case 89:
    return {fa::forwarding_status, shape::number};
  case 48:
    return {fa::sampler_id, shape::number};
  case 302:
    return {has.has(48) ? fa::skip : fa::sampler_id, shape::number};
  case 34:
    return {fa::sampling_interval, shape::number};
  case 50:
    return {has.has(34) ? fa::skip : fa::sampling_interval, shape::number};
  case 305:
    return {fa::sampling_packet_interval, shape::number};
  case 306:
    return {fa::sampling_packet_space, shape::number};
  case 309:
    return {fa::sampling_size, shape::number};
  case 310:
    return {fa::sampling_population, shape::number};
  case 21:
    return {fa::end_uptime_ms, shape::uptime};
  case 22:
    return {fa::start_uptime_ms, shape::uptime};
  case 150:
    return {fa::start_seconds, shape::number};
  case 151:
    return {fa::end_seconds, shape::number};
  case 152:
    return {fa::start_milliseconds, shape::number};
  case 153:
    return {fa::end_milliseconds, shape::number};
  case 154:
  case 156:
    return {fa::start_ntp, shape::ntp};
  case 155:
  case 157:
    return {fa::end_ntp, shape::ntp};
  case 158:
    return {fa::start_delta_us, shape::number};
  case 159:
    return {fa::end_delta_us, shape::number};
  case 160:
    return {fa::system_init_ms, shape::number};
  default:
    return {fa::skip, shape::number};
  }
}

mapping map_reverse(uint16_t ie, const presence& has) {
  using fa = field_action;
  switch (ie) {
  case 1:
    return {fa::reverse_bytes, shape::number};
  case 85:
    return {has.reverse_octets ? fa::skip : fa::reverse_bytes, shape::number};
  case 2:
    return {fa::reverse_packets, shape::number};
  case 86:
    return {has.reverse_packets ? fa::skip : fa::reverse_packets, shape::number};
  case 6:
    return {fa::reverse_tcp_flags, shape::number};
  default:
    return {fa::skip, shape::number};
  }
}

/// A flow_record member's byte offset as field_step::target.
constexpr uint8_t target(size_t member_offset) {
  return static_cast<uint8_t>(member_offset);
}

/// A big-endian number of `length` bytes into an unsigned member of `width` bytes.
field_step number_step(uint8_t member, size_t width, uint16_t length) {
  using fo = field_op;
  fo op = fo::skip;
  switch (width) {
  case 1:
    op = length == 1 ? fo::u8_from_1 : fo::u8_from_n;
    break;
  case 2:
    op = length == 2 ? fo::u16_from_2 : fo::u16_from_n;
    break;
  case 4:
    op = length == 4 ? fo::u32_from_4 : length == 2 ? fo::u32_from_2 : fo::u32_from_n;
    break;
  default:
    op = length == 8 ? fo::u64_from_8 : length == 4 ? fo::u64_from_4 : fo::u64_from_n;
    break;
  }
  return {0, length, op, member};
}

/// The step that carries out `a` on a field of `length` bytes (already known to fit).
field_step lower(field_action a, uint16_t length) {
  using fa = field_action;
  using fo = field_op;
  auto at = [&](fo op, uint8_t member) { return field_step{0, length, op, member}; };
  switch (a) {
  case fa::skip:
    return at(fo::skip, 0);
  case fa::src_v4:
    return at(fo::v4_address, target(offsetof(flow_record, src_addr)));
  case fa::dst_v4:
    return at(fo::v4_address, target(offsetof(flow_record, dst_addr)));
  case fa::src_v6:
    return at(fo::v6_address, target(offsetof(flow_record, src_addr)));
  case fa::dst_v6:
    return at(fo::v6_address, target(offsetof(flow_record, dst_addr)));
  case fa::next_hop_v4:
    return at(fo::v4_address, target(offsetof(flow_record, next_hop)));
  case fa::next_hop_v6:
    return at(fo::v6_address, target(offsetof(flow_record, next_hop)));
  case fa::bgp_next_hop_v4:
    return at(fo::v4_address, target(offsetof(flow_record, bgp_next_hop)));
  case fa::bgp_next_hop_v6:
    return at(fo::v6_address, target(offsetof(flow_record, bgp_next_hop)));
  case fa::src_port:
    return number_step(target(offsetof(flow_record, src_port)), 2, length);
  case fa::dst_port:
    return number_step(target(offsetof(flow_record, dst_port)), 2, length);
  case fa::ip_protocol:
    return number_step(target(offsetof(flow_record, ip_protocol)), 1, length);
  case fa::tcp_flags:
    return number_step(target(offsetof(flow_record, tcp_flags)), 1, length);
  case fa::tos:
    return number_step(target(offsetof(flow_record, tos)), 1, length);
  case fa::bytes:
    return number_step(target(offsetof(flow_record, bytes)), 8, length);
  case fa::packets:
    return number_step(target(offsetof(flow_record, packets)), 8, length);
  case fa::input_interface:
    return number_step(target(offsetof(flow_record, input_interface)), 4, length);
  case fa::output_interface:
    return number_step(target(offsetof(flow_record, output_interface)), 4, length);
  case fa::src_as:
    return number_step(target(offsetof(flow_record, src_as)), 4, length);
  case fa::dst_as:
    return number_step(target(offsetof(flow_record, dst_as)), 4, length);
  case fa::src_mask:
    return number_step(target(offsetof(flow_record, src_mask)), 1, length);
  case fa::dst_mask:
    return number_step(target(offsetof(flow_record, dst_mask)), 1, length);
  case fa::forwarding_status:
    return number_step(target(offsetof(flow_record, forwarding_status)), 1, length);
  case fa::src_vlan:
    return at(fo::vlan, target(offsetof(flow_record, src_vlan)));
  case fa::dst_vlan:
    return at(fo::vlan, target(offsetof(flow_record, dst_vlan)));
  case fa::src_mac:
    return at(fo::mac, target(offsetof(flow_record, src_mac)));
  case fa::dst_mac:
    return at(fo::mac, target(offsetof(flow_record, dst_mac)));
  case fa::start_uptime_ms:
    return at(fo::uptime_ms, target(offsetof(flow_record, flow_start_us)));
  case fa::end_uptime_ms:
    return at(fo::uptime_ms, target(offsetof(flow_record, flow_end_us)));
  case fa::start_seconds:
    return at(fo::seconds, target(offsetof(flow_record, flow_start_us)));
  case fa::end_seconds:
    return at(fo::seconds, target(offsetof(flow_record, flow_end_us)));
  case fa::start_milliseconds:
    return at(fo::milliseconds, target(offsetof(flow_record, flow_start_us)));
  case fa::end_milliseconds:
    return at(fo::milliseconds, target(offsetof(flow_record, flow_end_us)));
  case fa::start_ntp:
    return at(fo::ntp, target(offsetof(flow_record, flow_start_us)));
  case fa::end_ntp:
    return at(fo::ntp, target(offsetof(flow_record, flow_end_us)));
  case fa::start_delta_us:
    return at(fo::delta_us, target(offsetof(flow_record, flow_start_us)));
  case fa::end_delta_us:
    return at(fo::delta_us, target(offsetof(flow_record, flow_end_us)));
  case fa::direction:
    return at(fo::direction, 0);
  case fa::sampler_id:
    return at(fo::sampler_id, 0);
  case fa::sampling_interval:
    return at(fo::sampling_interval, 0);
  case fa::sampling_packet_interval:
    return at(fo::sampling_packet_interval, 0);
  case fa::sampling_packet_space:
    return at(fo::sampling_packet_space, 0);
  case fa::sampling_size:
    return at(fo::sampling_size, 0);
  case fa::sampling_population:
    return at(fo::sampling_population, 0);
  case fa::system_init_ms:
    return at(fo::system_init_ms, 0);
  case fa::reverse_bytes:
    return at(fo::reverse_bytes, 0);
  case fa::reverse_packets:
    return at(fo::reverse_packets, 0);
  case fa::reverse_tcp_flags:
    return at(fo::reverse_tcp_flags, 0);
  }
  return at(fo::skip, 0);
}

} // namespace

compile_result compile_template(template_definition def, compiled_template& out) {
  if (def.fields.empty())
    return compile_result::no_fields;
  if (def.scope_count > def.fields.size() ||
      (def.kind == template_kind::options && def.ipfix && def.scope_count == 0))
    return compile_result::bad_scope;
  presence has;
  for (const auto& f : def.fields) {
    if (f.length == 0)
      return compile_result::zero_length_field;
    if (f.enterprise == 0 && f.type < has.standard.size())
      has.standard[f.type] = true;
    if (f.enterprise == reverse_pen && f.type == 1)
      has.reverse_octets = true;
    if (f.enterprise == reverse_pen && f.type == 2)
      has.reverse_packets = true;
  }
  compiled_template t;
  uint32_t offset = 0;
  bool variable = false;
  std::vector<field_step> all;
  all.reserve(def.fields.size());
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const auto& f = def.fields[i];
    bool is_variable = def.ipfix && f.length == variable_length;
    mapping m{field_action::skip, shape::number};
    // v9 scope fields number their own type space (1 = system, 2 = interface...).
    bool v9_scope = !def.ipfix && i < def.scope_count;
    if (!is_variable && !v9_scope) {
      if (f.enterprise == 0)
        m = map_standard(f.type, has);
      else if (f.enterprise == reverse_pen)
        m = map_reverse(f.type, has);
    }
    if (m.action != field_action::skip && !fits(m.form, f.length))
      m.action = field_action::skip;
    field_step s = lower(m.action, f.length);
    s.offset = static_cast<uint16_t>(std::min<uint32_t>(offset, 0xffff));
    if (is_variable) {
      variable = true;
      offset += 1;
    } else {
      offset += f.length;
    }
    if (offset > max_record_length)
      return compile_result::too_long;
    switch (m.action) {
    case field_action::src_v4:
    case field_action::dst_v4:
      t.ip_version = 4;
      break;
    case field_action::src_v6:
    case field_action::dst_v6:
      t.ip_version = 6;
      break;
    case field_action::sampler_id:
      t.has_sampler_id = true;
      break;
    case field_action::reverse_bytes:
    case field_action::reverse_packets:
    case field_action::reverse_tcp_flags:
      t.has_reverse = true;
      break;
    case field_action::sampling_interval:
    case field_action::sampling_packet_interval:
    case field_action::sampling_packet_space:
    case field_action::sampling_size:
    case field_action::sampling_population:
      t.has_record_sampling = true;
      break;
    default:
      break;
    }
    all.push_back(s);
  }
  t.record_length = offset;
  t.variable = variable;
  if (!variable) {
    for (const auto& s : all)
      if (s.op != field_op::skip)
        t.steps.push_back(s);
  } else {
    for (const auto& s : all) {
      bool mergeable = s.op == field_op::skip && s.length != variable_length;
      if (mergeable && !t.steps.empty() && t.steps.back().op == field_op::skip &&
          t.steps.back().length != variable_length) {
        t.steps.back().length = static_cast<uint16_t>(t.steps.back().length + s.length);
        continue;
      }
      t.steps.push_back(s);
    }
  }
  t.def = std::move(def);
  out = std::move(t);
  return compile_result::ok;
}

uint32_t sampling_rate_of(const record_extras& x) {
  uint64_t rate = 0;
  if (x.packet_interval > 0)
    rate = (x.packet_interval + x.packet_space) / x.packet_interval;
  else if (x.sampling_size > 0)
    rate = x.sampling_population / x.sampling_size;
  else
    rate = x.sampling_interval;
  return static_cast<uint32_t>(std::min<uint64_t>(rate, std::numeric_limits<uint32_t>::max()));
}

} // namespace tidewatch::detail
