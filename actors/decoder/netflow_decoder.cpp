#include "actors/decoder/netflow_decoder.hpp"

#include "actors/decoder/netflow_session.hpp"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

namespace tidewatch {

using detail::compiled_template;
using detail::field_spec;
using detail::load_be16;
using detail::load_be32;
using detail::record_extras;
using detail::template_definition;
using detail::template_kind;
using detail::time_context;

namespace {

constexpr size_t v5_header_length = 24;
constexpr size_t v5_record_length = 48;
constexpr size_t v5_max_records = 30;
constexpr size_t v9_header_length = 20;
constexpr size_t ipfix_header_length = 16;
/// Records decoded together by the column-wise plan walk: 64 flow_records
/// (12.8 KB) stay in the L1 data cache while every step passes over them.
constexpr size_t column_block = 64;

// Sequence rule thresholds (see the class comment).
constexpr int64_t max_gap_packets = 65'536;
constexpr int64_t max_gap_records = 65'536 * 30;
constexpr int64_t reorder_window_packets = 64;
constexpr int64_t reorder_window_records = 64 * 30;

constexpr const char* error_names[netflow_error_count] = {
    "truncated",       "bad_version",  "bad_message_length", "bad_count",       "bad_set_length",
    "reserved_set_id", "bad_template", "zero_length_field",  "record_too_long", "session_limit",
};

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0)
      return false;
  return true;
}

/// Grows `out` geometrically so that `more` records fit without reallocating
/// inside the record loop.
void reserve_more(std::vector<flow_record>& out, size_t more) {
  size_t need = out.size() + more;
  if (need > out.capacity())
    out.reserve(std::max(need, out.capacity() * 2));
}

} // namespace

const char* to_string(netflow_error e) {
  return error_names[static_cast<size_t>(e)];
}

size_t netflow_decoder::session_key_hash::operator()(const session_key& k) const noexcept {
  return detail::ip_address_hash{}(k.exporter) ^ (size_t(k.domain) * 0x9E3779B97F4A7C15ull) ^
         (size_t(k.version) << 56);
}

netflow_decoder::netflow_decoder(netflow_decoder_options opts) : opts_(opts) {}

netflow_decoder::~netflow_decoder() = default;
netflow_decoder::netflow_decoder(netflow_decoder&&) noexcept = default;
netflow_decoder& netflow_decoder::operator=(netflow_decoder&&) noexcept = default;

netflow_decoder::session* netflow_decoder::find_session(const session_key& key,
                                                        const ip_address& exporter) {
  if (last_session_ != nullptr && last_key_ == key)
    return last_session_;
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    if (sessions_.size() >= opts_.max_sessions) {
      count_error(exporter, netflow_error::session_limit);
      return nullptr;
    }
    auto s = std::make_unique<session>();
    s->key = key;
    it = sessions_.emplace(key, std::move(s)).first;
  }
  last_key_ = key;
  last_session_ = it->second.get();
  return last_session_;
}

void netflow_decoder::count_error(const ip_address& exporter, netflow_error reason) {
  auto r = static_cast<size_t>(reason);
  ++errors_[r];
  auto it = exporter_errors_.find(exporter);
  if (it == exporter_errors_.end()) {
    if (exporter_errors_.size() >= opts_.max_sessions)
      return;
    it = exporter_errors_.emplace(exporter, std::array<uint64_t, netflow_error_count>{}).first;
  }
  ++it->second[r];
}

// -- decoding ----------------------------------------------------------------------

size_t netflow_decoder::decode(const uint8_t* data, size_t length, const datagram_info& meta,
                               std::vector<flow_record>& out) {
  ++datagrams_;
  if (length < 2) {
    count_error(meta.exporter, netflow_error::truncated);
    return 0;
  }
  switch (load_be16(data)) {
  case 5:
    ++datagrams_by_version_[0];
    return decode_v5(data, length, meta, out);
  case 9:
    ++datagrams_by_version_[1];
    return decode_v9_ipfix(data, length, meta, false, out);
  case 10:
    ++datagrams_by_version_[2];
    return decode_v9_ipfix(data, length, meta, true, out);
  default:
    count_error(meta.exporter, netflow_error::bad_version);
    return 0;
  }
}

size_t netflow_decoder::decode_v5(const uint8_t* p, size_t n, const datagram_info& meta,
                                  std::vector<flow_record>& out) {
  if (n < v5_header_length) {
    count_error(meta.exporter, netflow_error::truncated);
    return 0;
  }
  size_t count = load_be16(p + 2);
  if (count == 0 || count > v5_max_records) {
    count_error(meta.exporter, netflow_error::bad_count);
    return 0;
  }
  if (v5_header_length + count * v5_record_length > n) {
    count_error(meta.exporter, netflow_error::truncated);
    return 0;
  }
  uint32_t domain = uint32_t(p[20]) << 8 | p[21];
  session* s = find_session({meta.exporter, domain, 5}, meta.exporter);
  if (s == nullptr)
    return 0;
  ++s->datagrams;
  s->last_datagram_us = meta.received_us;
  uint32_t rate = load_be16(p + 22) & 0x3fff;
  s->last_sampling_rate = rate;
  check_sequence(*s, load_be32(p + 16), static_cast<uint32_t>(count), false, true);
  time_context tc;
  tc.has_uptime = true;
  tc.uptime_ms = load_be32(p + 4);
  tc.uptime_abs_us = int64_t(load_be32(p + 8)) * 1'000'000 + load_be32(p + 12) / 1000;
  tc.export_us = tc.uptime_abs_us;
  reserve_more(out, count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* q = p + v5_header_length + i * v5_record_length;
    auto& r = out.emplace_back();
    r.exporter = meta.exporter;
    r.observation_domain = domain;
    r.received_us = meta.received_us;
    r.protocol_version = export_protocol::netflow_v5;
    r.src_addr = ip_address::from_v4_bytes(q);
    r.dst_addr = ip_address::from_v4_bytes(q + 4);
    r.next_hop = ip_address::from_v4_bytes(q + 8);
    r.ip_version = 4;
    r.input_interface = load_be16(q + 12);
    r.output_interface = load_be16(q + 14);
    r.packets = load_be32(q + 16);
    r.bytes = load_be32(q + 20);
    r.flow_start_us = tc.uptime_abs_us + int64_t(int32_t(load_be32(q + 24) - tc.uptime_ms)) * 1000;
    r.flow_end_us = tc.uptime_abs_us + int64_t(int32_t(load_be32(q + 28) - tc.uptime_ms)) * 1000;
    r.src_port = load_be16(q + 32);
    r.dst_port = load_be16(q + 34);
    r.tcp_flags = q[37];
    r.ip_protocol = q[38];
    r.tos = q[39];
    r.src_as = load_be16(q + 40);
    r.dst_as = load_be16(q + 42);
    r.src_mask = q[44];
    r.dst_mask = q[45];
    r.sampling_rate = rate;
  }
  s->records += count;
  records_ += count;
  return count;
}

size_t netflow_decoder::decode_v9_ipfix(const uint8_t* p, size_t n, const datagram_info& meta,
                                        bool ipfix, std::vector<flow_record>& out) {
  size_t header_length = ipfix ? ipfix_header_length : v9_header_length;
  if (n < header_length) {
    count_error(meta.exporter, netflow_error::truncated);
    return 0;
  }
  export_header h;
  h.ipfix = ipfix;
  uint32_t sequence = 0;
  uint32_t domain = 0;
  if (ipfix) {
    size_t message_length = load_be16(p + 2);
    if (message_length < ipfix_header_length || message_length > n) {
      count_error(meta.exporter, netflow_error::bad_message_length);
      return 0;
    }
    n = message_length;
    h.export_secs = load_be32(p + 4);
    sequence = load_be32(p + 8);
    domain = load_be32(p + 12);
  } else {
    h.sys_uptime_ms = load_be32(p + 4);
    h.export_secs = load_be32(p + 8);
    sequence = load_be32(p + 12);
    domain = load_be32(p + 16);
  }
  session* s = find_session({meta.exporter, domain, uint8_t(ipfix ? 10 : 9)}, meta.exporter);
  if (s == nullptr)
    return 0;
  ++s->datagrams;
  s->last_datagram_us = meta.received_us;
  uint16_t template_set = ipfix ? 2 : 0;
  uint16_t options_set = ipfix ? 3 : 1;
  size_t appended = 0;
  size_t data_records = 0;
  bool new_templates = false;
  std::vector<uint8_t> waiting;
  size_t pos = header_length;
  while (pos < n) {
    size_t left = n - pos;
    if (left < 4) {
      // v9 exporters may pad the datagram; IPFIX message lengths are exact.
      if (ipfix || !all_zero(p + pos, left))
        count_error(meta.exporter, netflow_error::bad_set_length);
      break;
    }
    uint16_t set_id = load_be16(p + pos);
    size_t set_length = load_be16(p + pos + 2);
    if (set_length < 4 || set_length > left) {
      count_error(meta.exporter, netflow_error::bad_set_length);
      break;
    }
    const uint8_t* body = p + pos + 4;
    size_t body_length = set_length - 4;
    if (set_id == template_set || set_id == options_set) {
      new_templates |=
          parse_template_set(*s, body, body_length, ipfix, set_id == options_set, meta.exporter);
    } else if (set_id >= 256) {
      if (const auto* t = s->find(set_id)) {
        if (t->def.kind == template_kind::options)
          apply_options(*s, *t, body, body_length, meta.exporter, data_records);
        else
          appended += decode_data_set(*s, *t, body, body_length, h, meta, out, data_records);
      } else {
        waiting.insert(waiting.end(), p + pos, p + pos + set_length);
      }
    } else {
      count_error(meta.exporter, netflow_error::reserved_set_id);
    }
    pos += set_length;
  }
  if (ipfix)
    check_sequence(*s, sequence, static_cast<uint32_t>(data_records), false, waiting.empty());
  else
    check_sequence(*s, sequence, 1, true, true);
  if (!waiting.empty())
    hold(*s, h, meta, std::move(waiting));
  if (new_templates && !s->pending.empty())
    appended += release(*s, out);
  return appended;
}

bool netflow_decoder::parse_template_set(session& s, const uint8_t* p, size_t n, bool ipfix,
                                         bool options, const ip_address& exporter) {
  bool installed = false;
  size_t pos = 0;
  while (n - pos >= 4 && !all_zero(p + pos, n - pos)) {
    uint16_t id = load_be16(p + pos);
    template_definition def;
    def.id = id;
    def.ipfix = ipfix;
    def.kind = options ? template_kind::options : template_kind::data;
    size_t field_count = 0;
    if (!ipfix && options) {
      // v9 options template: ID, scope length and option length in bytes.
      if (n - pos < 6) {
        count_error(exporter, netflow_error::bad_template);
        break;
      }
      size_t scope_bytes = load_be16(p + pos + 2);
      size_t option_bytes = load_be16(p + pos + 4);
      pos += 6;
      if (scope_bytes % 4 != 0 || option_bytes % 4 != 0 || scope_bytes + option_bytes > n - pos) {
        count_error(exporter, netflow_error::bad_template);
        break;
      }
      def.scope_count = static_cast<uint16_t>(scope_bytes / 4);
      field_count = (scope_bytes + option_bytes) / 4;
    } else {
      field_count = load_be16(p + pos + 2);
      pos += 4;
      if (field_count == 0) {
        if (!ipfix) {
          count_error(exporter, netflow_error::bad_template);
          break;
        }
        // IPFIX withdrawal: the set ID itself withdraws every template of the set's kind.
        if (id == (options ? 3 : 2) || id >= 256)
          withdraw_templates(s, id, options);
        else
          count_error(exporter, netflow_error::bad_template);
        continue;
      }
      if (ipfix && options) {
        if (n - pos < 2) {
          count_error(exporter, netflow_error::bad_template);
          break;
        }
        def.scope_count = load_be16(p + pos);
        pos += 2;
      }
    }
    bool truncated = false;
    def.fields.reserve(std::min(field_count, (n - pos) / 4));
    for (size_t i = 0; i < field_count; ++i) {
      if (n - pos < 4) {
        truncated = true;
        break;
      }
      field_spec f;
      f.type = load_be16(p + pos);
      f.length = load_be16(p + pos + 2);
      pos += 4;
      if (ipfix && (f.type & 0x8000) != 0) {
        if (n - pos < 4) {
          truncated = true;
          break;
        }
        f.type &= 0x7fff;
        f.enterprise = load_be32(p + pos);
        pos += 4;
      }
      def.fields.push_back(f);
    }
    if (truncated) {
      count_error(exporter, netflow_error::bad_template);
      break;
    }
    if (id < 256) {
      count_error(exporter, netflow_error::bad_template);
      continue;
    }
    installed |= install_template(s, std::move(def), exporter);
  }
  return installed;
}

bool netflow_decoder::install_template(session& s, template_definition def,
                                       const ip_address& exporter) {
  ++templates_received_;
  uint16_t id = def.id;
  auto existing = s.templates.find(id);
  if (existing != s.templates.end() && existing->second.def == def)
    return false; // periodic refresh, nothing changed
  compiled_template t;
  auto result = detail::compile_template(std::move(def), t);
  if (result != detail::compile_result::ok) {
    switch (result) {
    case detail::compile_result::zero_length_field:
      count_error(exporter, netflow_error::zero_length_field);
      break;
    case detail::compile_result::too_long:
      count_error(exporter, netflow_error::record_too_long);
      break;
    default:
      count_error(exporter, netflow_error::bad_template);
      break;
    }
    // Data for the old layout would now be misread: drop it.
    if (existing != s.templates.end()) {
      s.templates.erase(existing);
      s.forget_cache();
      mark_dirty();
    }
    return false;
  }
  if (existing != s.templates.end())
    existing->second = std::move(t);
  else
    s.templates.emplace(id, std::move(t));
  s.forget_cache();
  mark_dirty();
  return true;
}

void netflow_decoder::withdraw_templates(session& s, uint16_t id, bool options) {
  ++template_withdrawals_;
  if (id >= 256) {
    if (s.templates.erase(id) > 0) {
      s.forget_cache();
      mark_dirty();
    }
    return;
  }
  auto kind = options ? template_kind::options : template_kind::data;
  size_t removed =
      std::erase_if(s.templates, [&](const auto& e) { return e.second.def.kind == kind; });
  if (removed > 0) {
    s.forget_cache();
    mark_dirty();
  }
}

size_t netflow_decoder::decode_data_set(session& s, const compiled_template& t, const uint8_t* p,
                                        size_t n, const export_header& h, const datagram_info& meta,
                                        std::vector<flow_record>& out, size_t& data_records) {
  time_context tc = s.times(h);
  flow_record& proto = prototype_;
  proto = flow_record{};
  proto.exporter = meta.exporter;
  proto.observation_domain = s.key.domain;
  proto.received_us = meta.received_us;
  proto.protocol_version = h.ipfix ? export_protocol::ipfix : export_protocol::netflow_v9;
  proto.ip_version = t.ip_version;
  uint32_t default_rate = s.default_rate();
  proto.sampling_rate = default_rate;
  size_t first = out.size();
  size_t reverse = 0;
  // Sampling from the record itself and RFC 5103 reverse halves: done after the plan.
  auto finish = [&](flow_record& r, const record_extras& x) {
    if (x.has_sampler_id && x.sampler_id != 0)
      r.sampling_rate = s.rate_for(x.sampler_id, 0);
    if (t.has_record_sampling) {
      if (uint32_t rate = detail::sampling_rate_of(x); rate != 0)
        r.sampling_rate = rate;
    }
    if (t.has_reverse && (x.reverse_bytes != 0 || x.reverse_packets != 0)) {
      // A biflow whose forward half saw nothing (softflowd -b exports these)
      // becomes just its reverse record, not an empty flow plus the reverse one.
      // The reverse record is built in place in the vector (room was reserved).
      bool forward_empty = r.bytes == 0 && r.packets == 0;
      if (!forward_empty)
        out.push_back(r);
      flow_record& rev = forward_empty ? r : out.back();
      std::swap(rev.src_addr, rev.dst_addr);
      std::swap(rev.src_port, rev.dst_port);
      std::swap(rev.src_mask, rev.dst_mask);
      std::swap(rev.src_as, rev.dst_as);
      std::swap(rev.input_interface, rev.output_interface);
      std::swap(rev.src_vlan, rev.dst_vlan);
      std::swap(rev.src_mac, rev.dst_mac);
      rev.next_hop = ip_address{};
      rev.bgp_next_hop = ip_address{};
      rev.bytes = x.reverse_bytes;
      rev.packets = x.reverse_packets;
      rev.tcp_flags = x.reverse_tcp_flags;
      ++reverse;
    }
  };
  size_t factor = t.has_reverse ? 2 : 1;
  if (!t.variable && !t.has_reverse && !t.has_record_sampling) {
    // The common case: records start as the prototype and the plan runs one
    // step at a time over a block of them (small enough to stay in L1 cache).
    size_t length = t.record_length;
    size_t count = n / length; // the remainder is set padding
    data_records += count;
    reserve_more(out, count);
    for (size_t done = 0; done < count; done += column_block) {
      size_t block = std::min(column_block, count - done);
      for (size_t i = 0; i < block; ++i)
        out.push_back(proto);
      flow_record* records = out.data() + first + done;
      detail::apply_fixed_columns(t, p + done * length, block, records, tc);
      if (t.has_sampler_id)
        for (size_t i = 0; i < block; ++i)
          if (records[i].sampler_id != 0)
            records[i].sampling_rate = s.rate_for(records[i].sampler_id, 0);
    }
  } else if (!t.variable) {
    size_t length = t.record_length;
    size_t count = n / length; // the remainder is set padding
    data_records += count;
    reserve_more(out, count * factor);
    for (size_t i = 0; i < count; ++i) {
      out.push_back(proto);
      record_extras x;
      detail::apply_fixed(t, p + i * length, out.back(), x, tc);
      finish(out.back(), x);
    }
  } else {
    reserve_more(out, n / std::max<size_t>(t.record_length, 1) * factor);
    size_t pos = 0;
    while (n - pos >= t.record_length && n - pos > 0) {
      out.push_back(proto);
      record_extras x;
      size_t used = detail::apply_variable(t, p + pos, n - pos, out.back(), x, tc);
      if (used == 0) {
        out.pop_back();
        count_error(meta.exporter, netflow_error::record_too_long);
        break;
      }
      ++data_records;
      finish(out.back(), x);
      pos += used;
    }
  }
  size_t appended = out.size() - first;
  s.records += appended;
  records_ += appended;
  reverse_records_ += reverse;
  return appended;
}

void netflow_decoder::apply_options(session& s, const compiled_template& t, const uint8_t* p,
                                    size_t n, const ip_address& exporter, size_t& data_records) {
  time_context tc;
  size_t pos = 0;
  while (n - pos >= t.record_length && n - pos > 0) {
    flow_record scratch;
    record_extras x;
    size_t used = t.record_length;
    if (t.variable) {
      used = detail::apply_variable(t, p + pos, n - pos, scratch, x, tc);
      if (used == 0) {
        count_error(exporter, netflow_error::record_too_long);
        break;
      }
    } else {
      detail::apply_fixed(t, p + pos, scratch, x, tc);
    }
    pos += used;
    ++data_records;
    ++options_records_;
    if (uint32_t rate = detail::sampling_rate_of(x); rate != 0) {
      s.last_sampling_rate = rate;
      if (s.set_rate(x.has_sampler_id ? x.sampler_id : 0, rate))
        mark_dirty();
    }
    if (x.system_init_ms >= 0 && x.system_init_ms != s.system_init_ms) {
      s.system_init_ms = x.system_init_ms;
      mark_dirty();
    }
  }
}

void netflow_decoder::check_sequence(session& s, uint32_t sequence, uint32_t units, bool packets,
                                     bool units_known) {
  bool ipfix = s.key.version == 10;
  std::optional<int64_t> rfc;
  std::optional<int64_t> inclusive;
  if (s.has_sequence && s.expected_known)
    rfc = int32_t(sequence - s.expected_sequence);
  if (ipfix && s.has_sequence && units_known)
    inclusive = int32_t(sequence - (s.last_sequence + units));
  auto& primary = s.inclusive_sequence ? inclusive : rfc;
  auto& other = s.inclusive_sequence ? rfc : inclusive;
  if (primary && other && *primary != 0 && *other == 0) {
    s.inclusive_sequence = !s.inclusive_sequence;
    primary = 0;
  }
  if (primary) {
    int64_t d = *primary;
    int64_t max_gap = packets ? max_gap_packets : max_gap_records;
    int64_t window = packets ? reorder_window_packets : reorder_window_records;
    if (d > 0 && d <= max_gap) {
      s.lost += uint64_t(d);
      (packets ? lost_packets_ : lost_records_) += uint64_t(d);
    } else if (d < 0 && d >= -window) {
      ++s.reordered;
      ++reordered_;
      return;
    } else if (d != 0) {
      ++s.resets;
      ++resets_;
    }
  }
  s.has_sequence = true;
  s.last_sequence = sequence;
  s.expected_sequence = sequence + units;
  s.expected_known = units_known;
}

// -- data waiting for its template -------------------------------------------------

void netflow_decoder::hold(session& s, const export_header& h, const datagram_info& meta,
                           std::vector<uint8_t>&& sets) {
  if (opts_.pending_max_datagrams == 0) {
    ++pending_overflow_;
    return;
  }
  while (s.pending.size() >= opts_.pending_max_datagrams) {
    s.pending.pop_front();
    --pending_now_;
    ++pending_overflow_;
  }
  s.pending.push_back({h, meta, std::move(sets)});
  ++pending_now_;
  ++pending_held_total_;
}

size_t netflow_decoder::release(session& s, std::vector<flow_record>& out) {
  size_t appended = 0;
  for (auto it = s.pending.begin(); it != s.pending.end();) {
    const auto& sets = it->sets;
    std::vector<uint8_t> still_waiting;
    bool any = false;
    size_t data_records = 0;
    // Set lengths were validated when the sets were held.
    for (size_t pos = 0; pos + 4 <= sets.size();) {
      uint16_t id = load_be16(sets.data() + pos);
      size_t length = load_be16(sets.data() + pos + 2);
      const uint8_t* body = sets.data() + pos + 4;
      if (const auto* t = s.find(id)) {
        any = true;
        if (t->def.kind == template_kind::options)
          apply_options(s, *t, body, length - 4, it->meta.exporter, data_records);
        else
          appended +=
              decode_data_set(s, *t, body, length - 4, it->header, it->meta, out, data_records);
      } else {
        still_waiting.insert(still_waiting.end(), sets.data() + pos, sets.data() + pos + length);
      }
      pos += length;
    }
    if (!any) {
      ++it;
      continue;
    }
    if (still_waiting.empty()) {
      it = s.pending.erase(it);
      --pending_now_;
      ++pending_released_;
    } else {
      it->sets = std::move(still_waiting);
      ++it;
    }
  }
  return appended;
}

void netflow_decoder::expire(int64_t now_us) {
  int64_t cutoff = now_us - opts_.pending_max_age_us;
  for (auto& [key, s] : sessions_) {
    size_t before = s->pending.size();
    std::erase_if(s->pending, [&](const held_datagram& d) { return d.meta.received_us < cutoff; });
    size_t dropped = before - s->pending.size();
    pending_now_ -= dropped;
    pending_expired_ += dropped;
  }
}

// -- statistics ----------------------------------------------------------------------

void netflow_decoder::collect(std::vector<counter_value>& out) const {
  auto add = [&](std::string name, uint64_t value) { out.push_back({std::move(name), value}); };
  add("netflow_datagrams_total", datagrams_);
  add("netflow_datagrams_by_version_total{version=\"5\"}", datagrams_by_version_[0]);
  add("netflow_datagrams_by_version_total{version=\"9\"}", datagrams_by_version_[1]);
  add("netflow_datagrams_by_version_total{version=\"10\"}", datagrams_by_version_[2]);
  add("netflow_records_total", records_);
  add("netflow_reverse_records_total", reverse_records_);
  add("netflow_options_records_total", options_records_);
  for (size_t i = 0; i < netflow_error_count; ++i)
    add(std::string("netflow_decode_errors_total{reason=\"") + error_names[i] + "\"}", errors_[i]);
  add("netflow_templates_received_total", templates_received_);
  add("netflow_template_withdrawals_total", template_withdrawals_);
  add("netflow_templates_active", template_count());
  add("netflow_sequence_lost_total{unit=\"records\"}", lost_records_);
  add("netflow_sequence_lost_total{unit=\"packets\"}", lost_packets_);
  add("netflow_sequence_reordered_total", reordered_);
  add("netflow_sequence_resets_total", resets_);
  add("netflow_pending_held", pending_now_);
  add("netflow_pending_held_total", pending_held_total_);
  add("netflow_pending_released_total", pending_released_);
  add("netflow_pending_expired_total", pending_expired_);
  add("netflow_pending_overflow_total", pending_overflow_);
  add("netflow_sessions", sessions_.size());
  for (const auto& [key, s] : sessions_) {
    std::string labels = "{exporter=\"" + key.exporter.to_string() + "\",domain=\"" +
                         std::to_string(key.domain) + "\",version=\"" +
                         std::to_string(key.version) + "\"}";
    add("netflow_exporter_datagrams_total" + labels, s->datagrams);
    add("netflow_exporter_records_total" + labels, s->records);
    add("netflow_exporter_sequence_lost_total" + labels, s->lost);
    add("netflow_exporter_templates_active" + labels, s->templates.size());
    add("netflow_exporter_pending_held" + labels, s->pending.size());
    add("netflow_exporter_sampling_rate" + labels, s->last_sampling_rate);
  }
  for (const auto& [exporter, counts] : exporter_errors_)
    for (size_t i = 0; i < netflow_error_count; ++i)
      if (counts[i] != 0)
        add("netflow_exporter_decode_errors_total{exporter=\"" + exporter.to_string() +
                "\",reason=\"" + error_names[i] + "\"}",
            counts[i]);
}

std::vector<netflow_exporter_stats> netflow_decoder::exporters() const {
  std::vector<netflow_exporter_stats> result;
  result.reserve(sessions_.size());
  for (const auto& [key, s] : sessions_) {
    auto& e = result.emplace_back();
    e.exporter = key.exporter;
    e.observation_domain = key.domain;
    e.protocol = static_cast<export_protocol>(key.version);
    e.datagrams = s->datagrams;
    e.records = s->records;
    e.sequence_lost = s->lost;
    e.sequence_reordered = s->reordered;
    e.sequence_resets = s->resets;
    e.templates = s->templates.size();
    e.pending = s->pending.size();
    e.last_sampling_rate = s->last_sampling_rate;
    e.last_datagram_us = s->last_datagram_us;
  }
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return std::tie(a.exporter, a.observation_domain, a.protocol) <
           std::tie(b.exporter, b.observation_domain, b.protocol);
  });
  return result;
}

std::vector<template_info> netflow_decoder::templates() const {
  std::vector<template_info> result;
  for (const auto& [key, s] : sessions_)
    for (const auto& [id, t] : s->templates) {
      auto& x = result.emplace_back();
      x.exporter = key.exporter.to_string();
      x.observation_domain = key.domain;
      x.version = key.version;
      x.id = id;
      x.options = t.def.kind == detail::template_kind::options;
      x.scope_count = t.def.scope_count;
      x.record_length = t.record_length;
      x.variable = t.variable;
      for (auto& f : t.def.fields)
        x.fields.push_back(uint64_t(f.enterprise) << 32 | uint64_t(f.type) << 16 | f.length);
    }
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) {
    return std::tie(a.exporter, a.observation_domain, a.version, a.id) <
           std::tie(b.exporter, b.observation_domain, b.version, b.id);
  });
  return result;
}

size_t netflow_decoder::template_count(const ip_address& exporter, uint32_t domain) const {
  size_t n = 0;
  for (uint8_t version : {uint8_t(9), uint8_t(10)})
    if (auto it = sessions_.find({exporter, domain, version}); it != sessions_.end())
      n += it->second->templates.size();
  return n;
}

size_t netflow_decoder::template_count() const {
  size_t n = 0;
  for (const auto& [key, s] : sessions_)
    n += s->templates.size();
  return n;
}

size_t netflow_decoder::pending_count() const {
  return pending_now_;
}

uint64_t netflow_decoder::error_count(netflow_error reason) const {
  return errors_[static_cast<size_t>(reason)];
}

uint64_t netflow_decoder::error_count(const ip_address& exporter, netflow_error reason) const {
  auto it = exporter_errors_.find(exporter);
  return it == exporter_errors_.end() ? 0 : it->second[static_cast<size_t>(reason)];
}

} // namespace tidewatch
