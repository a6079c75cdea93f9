#include "actors/sink/flow_aggregator.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace tidewatch {

namespace {

constexpr std::array<std::string_view, size_t(aggregate_primitive::count_)> primitive_names = {
    "src_mac",
    "dst_mac",
    "vlan",
    "src_as",
    "dst_as",
    "peer_src_ip",
    "peer_dst_ip",
    "in_iface",
    "out_iface",
    "src_host",
    "src_net",
    "dst_host",
    "dst_net",
    "src_mask",
    "dst_mask",
    "src_port",
    "dst_port",
    "tcpflags",
    "proto",
    "tos",
    "sampling_rate",
    "timestamp_start",
    "timestamp_end",
    "export_proto_version",
    "peer_src_as",
    "peer_dst_as",
    "src_host_country",
    "dst_host_country",
    "traffic_scope",
};

/// a with every bit after the first `bits` of its family cleared.
ip_address masked(const ip_address& a, uint8_t bits) {
  ip_address out = a;
  unsigned total = a.is_v4() ? 96u + std::min<unsigned>(bits, 32) : std::min<unsigned>(bits, 128);
  for (unsigned i = 0; i < 16; ++i) {
    unsigned first = i * 8;
    if (first >= total)
      out.bytes[i] = 0;
    else if (total - first < 8)
      out.bytes[i] = uint8_t(out.bytes[i] & (0xff00u >> (total - first)));
  }
  return out;
}

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h;
}

uint64_t mix(uint64_t h, const ip_address& a) {
  uint64_t words[2];
  std::memcpy(words, a.bytes.data(), 16);
  return mix(mix(h, words[0]), words[1]);
}

} // namespace

std::optional<aggregate_primitive> parse_aggregate_primitive(std::string_view name) {
  for (size_t i = 0; i < primitive_names.size(); ++i)
    if (primitive_names[i] == name)
      return aggregate_primitive(i);
  return std::nullopt;
}

std::vector<std::string_view> aggregate_primitive_names() {
  return {primitive_names.begin(), primitive_names.end()};
}

flow_aggregator::flow_aggregator(settings s) : settings_(s) {}

flow_record flow_aggregator::project(const flow_record& r, int64_t bucket_start_us) const {
  using p = aggregate_primitive;
  const aggregate_primitives chosen = settings_.primitives;
  auto has = [chosen](p x) { return (chosen & bit(x)) != 0; };
  flow_record k;
  k.received_us = bucket_start_us;
  // The address family decides how addresses and networks print.
  k.ip_version = r.ip_version;
  if (has(p::src_mac))
    k.src_mac = r.src_mac;
  if (has(p::dst_mac))
    k.dst_mac = r.dst_mac;
  if (has(p::vlan)) {
    k.src_vlan = r.src_vlan;
    k.dst_vlan = r.dst_vlan;
    k.direction = r.direction; // the encoder picks the VLAN by direction
  }
  if (has(p::src_as))
    k.src_as = r.src_as;
  if (has(p::dst_as))
    k.dst_as = r.dst_as;
  if (has(p::peer_src_ip))
    k.exporter = r.exporter;
  if (has(p::peer_dst_ip))
    k.bgp_next_hop = r.bgp_next_hop;
  if (has(p::in_iface))
    k.input_interface = r.input_interface;
  if (has(p::out_iface))
    k.output_interface = r.output_interface;
  if (has(p::src_host))
    k.src_addr = r.src_addr;
  else if (has(p::src_net))
    k.src_addr = masked(r.src_addr, r.src_mask);
  if (has(p::dst_host))
    k.dst_addr = r.dst_addr;
  else if (has(p::dst_net))
    k.dst_addr = masked(r.dst_addr, r.dst_mask);
  if (has(p::src_mask) || has(p::src_net))
    k.src_mask = r.src_mask;
  if (has(p::dst_mask) || has(p::dst_net))
    k.dst_mask = r.dst_mask;
  if (has(p::src_port))
    k.src_port = r.src_port;
  if (has(p::dst_port))
    k.dst_port = r.dst_port;
  if (has(p::tcpflags))
    k.tcp_flags = r.tcp_flags;
  if (has(p::proto))
    k.ip_protocol = r.ip_protocol;
  if (has(p::tos))
    k.tos = r.tos;
  if (has(p::sampling_rate))
    k.sampling_rate = r.sampling_rate;
  if (has(p::timestamp_start))
    k.flow_start_us = r.flow_start_us;
  if (has(p::timestamp_end))
    k.flow_end_us = r.flow_end_us;
  if (has(p::export_proto_version))
    k.protocol_version = r.protocol_version;
  if (has(p::peer_src_as))
    k.src_peer_as = r.src_peer_as;
  if (has(p::peer_dst_as))
    k.dst_peer_as = r.dst_peer_as;
  if (has(p::src_host_country))
    k.src_country = r.src_country;
  if (has(p::dst_host_country))
    k.dst_country = r.dst_country;
  if (has(p::traffic_scope))
    k.scope = r.scope;
  k.flows = 0;
  k.packets = 0;
  k.bytes = 0;
  return k;
}

uint64_t flow_aggregator::hash(const flow_record& k) const {
  const aggregate_primitives primitives = settings_.primitives;
  // Only fields project() may set; the others are equal in every key.
  uint64_t h = mix(uint64_t(k.received_us), uint64_t(k.ip_version));
  h = mix(h, k.src_addr);
  h = mix(h, k.dst_addr);
  h = mix(h, uint64_t(k.src_port) << 48 | uint64_t(k.dst_port) << 32 |
                 uint64_t(k.ip_protocol) << 24 | uint64_t(k.tcp_flags) << 16 |
                 uint64_t(k.tos) << 8 | uint64_t(k.scope));
  h = mix(h, uint64_t(k.src_as) << 32 | k.dst_as);
  h = mix(h, uint64_t(k.input_interface) << 32 | k.output_interface);
  if (primitives &
      (bit(aggregate_primitive::peer_src_ip) | bit(aggregate_primitive::peer_dst_ip))) {
    h = mix(h, k.exporter);
    h = mix(h, k.bgp_next_hop);
  }
  h = mix(h, k.src_mac ^ (k.dst_mac << 16));
  h = mix(h, uint64_t(k.src_country) << 48 | uint64_t(k.dst_country) << 32 | k.sampling_rate);
  if (primitives &
      (bit(aggregate_primitive::timestamp_start) | bit(aggregate_primitive::timestamp_end)))
    h = mix(h, uint64_t(k.flow_start_us) * 0x100000001B3ull ^ uint64_t(k.flow_end_us));
  // Spread the bits that pick the index slot.
  return h * 0x9E3779B97F4A7C15ull ^ (h >> 29);
}

flow_aggregator::bucket_table& flow_aggregator::table_for(int64_t bucket_start_us) {
  for (auto& t : open_)
    if (t.start_us == bucket_start_us)
      return t;
  if (spare_.empty()) {
    spare_.emplace_back();
    spare_.back().index.assign(1024, 0);
  }
  open_.push_back(std::move(spare_.back()));
  spare_.pop_back();
  open_.back().start_us = bucket_start_us;
  return open_.back();
}

void flow_aggregator::grow(bucket_table& t) {
  t.index.assign(t.index.size() * 2, 0);
  const size_t mask = t.index.size() - 1;
  for (size_t e = 0; e < t.entries.size(); ++e) {
    size_t i = t.entries[e].hash & mask;
    while (t.index[i] != 0)
      i = (i + 1) & mask;
    t.index[i] = uint32_t(e + 1);
  }
}

void flow_aggregator::add(const flow_batch& batch) {
  bucket_table* last = nullptr;
  for (auto& r : batch.records) {
    int64_t bucket = r.received_us - r.received_us % settings_.interval_us;
    if (r.received_us < 0)
      bucket -= settings_.interval_us;
    if (bucket < emitted_until_us_)
      ++late_records_;
    // A batch's records mostly share one bucket.
    if (last == nullptr || last->start_us != bucket)
      last = &table_for(bucket);
    auto& t = *last;
    auto key = project(r, bucket);
    auto h = hash(key);
    const size_t mask = t.index.size() - 1;
    size_t i = h & mask;
    sums* totals = nullptr;
    for (; t.index[i] != 0; i = (i + 1) & mask) {
      auto& e = t.entries[t.index[i] - 1];
      if (e.hash == h && e.key == key) {
        totals = &e.totals;
        break;
      }
    }
    if (totals == nullptr) {
      t.entries.push_back({h, key, {}});
      t.index[i] = uint32_t(t.entries.size());
      totals = &t.entries.back().totals;
    }
    totals->bytes += r.bytes;
    totals->packets += r.packets;
    totals->flows += r.flows;
    if (t.entries.size() * 2 > t.index.size())
      grow(t);
  }
  records_in_ += batch.records.size();
}

size_t flow_aggregator::open_entries() const {
  size_t n = 0;
  for (auto& t : open_)
    n += t.entries.size();
  return n;
}

size_t flow_aggregator::flush(int64_t now_us, bool everything, std::vector<flow_record>& out) {
  // Buckets that end at or before this have had their grace.
  const int64_t closed_before = now_us - settings_.grace_us;
  size_t moved = 0;
  for (size_t b = 0; b < open_.size();) {
    auto& t = open_[b];
    if (!everything && t.start_us + settings_.interval_us > closed_before) {
      ++b;
      continue;
    }
    out.reserve(out.size() + t.entries.size());
    for (auto& e : t.entries) {
      flow_record& r = out.emplace_back(e.key);
      r.bytes = e.totals.bytes;
      r.packets = e.totals.packets;
      r.flows = uint32_t(e.totals.flows);
    }
    moved += t.entries.size();
    t.entries.clear();
    std::fill(t.index.begin(), t.index.end(), 0u);
    spare_.push_back(std::move(t));
    open_.erase(open_.begin() + long(b));
  }
  int64_t closed = everything ? now_us : closed_before;
  closed -= closed % settings_.interval_us;
  emitted_until_us_ = std::max(emitted_until_us_, closed);
  return moved;
}

} // namespace tidewatch
