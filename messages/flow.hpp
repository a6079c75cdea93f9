#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// Which export protocol a record came from; values are the JSON
/// `export_proto_version` numbers except for sFlow, which pmacct also reports as 5.
enum class export_protocol : uint8_t {
  unknown = 0,
  netflow_v5 = 5,
  netflow_v9 = 9,
  ipfix = 10,
  sflow_v5 = 105,
};

/// Flow direction as exported (IPFIX IE 61 flowDirection); unknown when absent.
enum class flow_direction : uint8_t { ingress = 0, egress = 1, unknown = 0xff };

/// Where a flow runs relative to our prefixes (the enricher's prefix list).
/// The numbers are the `tag2` values of the JSON output.
enum class traffic_scope : uint8_t {
  unknown = 0,  ///< not enriched, or the record has no addresses
  inbound = 1,  ///< destination ours, source not
  outbound = 2, ///< source ours, destination not
  internal = 3, ///< both ours
  external = 4, ///< neither ours (transit)
};

/// Which source gave the sampling rate the enricher applied.
enum class sampling_source : uint8_t {
  unknown = 0,  ///< no source knew the rate: counters left unscaled
  override = 1, ///< the configured per-exporter override
  exported = 2, ///< the export itself (options data, v5 header, sFlow sample)
  fallback = 3, ///< the configured per-exporter or global default
};

/// The output text of a scope (JSON `traffic_scope`, metric labels).
constexpr const char* to_string(traffic_scope s) {
  constexpr const char* names[] = {"unknown", "inbound", "outbound", "internal", "external"};
  return size_t(s) < std::size(names) ? names[size_t(s)] : "unknown";
}

/// The output text of a sampling source (JSON `sampling_source`, metric labels).
constexpr const char* to_string(sampling_source s) {
  constexpr const char* names[] = {"unknown", "override", "export", "default"};
  return size_t(s) < std::size(names) ? names[size_t(s)] : "unknown";
}

/// An ISO 3166 alpha-2 code such as "US" as flow_record stores it.
constexpr uint16_t country_code(char first, char second) {
  return uint16_t((uint8_t(first) << 8) | uint8_t(second));
}

/// One flow as the exporter described it, before enrichment. Fixed size and
/// trivially copyable: decoders fill records in place inside a batch without
/// allocating, and a batch crosses nodes as one contiguous vector.
struct flow_record {
  // -- where it came from --
  ip_address exporter;             ///< source address of the export datagram
  uint32_t observation_domain = 0; ///< v9 source ID / IPFIX observation domain / sFlow sub-agent
  int64_t received_us = 0;         ///< when the datagram was received, µs since the Unix epoch
  export_protocol protocol_version = export_protocol::unknown;

  // -- the flow key --
  ip_address src_addr;
  ip_address dst_addr;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ip_protocol = 0;
  uint8_t ip_version = 0; ///< 4 or 6; 0 when the record carried no address
  uint8_t tcp_flags = 0;
  uint8_t tos = 0;
  bool is_fragment = false; ///< sFlow raw header: an IPv4/IPv6 fragment (MF set or offset > 0)

  // -- counters (as exported; the enricher scales them by sampling_rate) --
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint32_t flows = 1; ///< flows this record stands for: 1, or a sum after aggregation

  // -- routing and interfaces, as exported --
  uint32_t input_interface = 0;
  uint32_t output_interface = 0;
  uint32_t src_as = 0;
  uint32_t dst_as = 0;
  uint8_t src_mask = 0;
  uint8_t dst_mask = 0;
  flow_direction direction = flow_direction::unknown;
  uint8_t forwarding_status = 0;
  ip_address next_hop;
  ip_address bgp_next_hop;
  /// sFlow interface format bits: 0 ifIndex (0x3FFFFFFF: the device itself),
  /// 1 discarded (the interface value is the drop reason), 2 multiple
  /// interfaces (the value is their count, 0 unknown).
  uint8_t input_interface_format = 0;
  uint8_t output_interface_format = 0;
  uint32_t src_peer_as = 0; ///< sFlow extended gateway
  uint32_t dst_peer_as = 0; ///< first AS of the destination AS path

  // -- layer 2 --
  uint16_t src_vlan = 0;
  uint16_t dst_vlan = 0;
  uint64_t src_mac = 0; ///< 48-bit MAC in the low bits; 0 when absent
  uint64_t dst_mac = 0;
  uint8_t src_priority = 0;    ///< 802.1p priority (sFlow extended switch or the outer tag)
  uint8_t dst_priority = 0;    ///< 802.1p priority (sFlow extended switch)
  uint16_t inner_vlan = 0;     ///< QinQ: the customer (inner) VLAN; src_vlan is the outer
  uint32_t mpls_top_label = 0; ///< label value of the top MPLS label; 0 when none

  // -- time, µs since the Unix epoch; 0 when the export had none --
  int64_t flow_start_us = 0;
  int64_t flow_end_us = 0;

  // -- sampling: what the export said; 0 = unknown --
  uint32_t sampler_id = 0;
  uint32_t sampling_rate = 0; ///< 1 in N packets
  uint32_t sample_pool = 0;   ///< sFlow: packets the sample was drawn from

  // -- enrichment, filled by the enricher --
  // Text values are indexes into the batch's `labels` (0: none), so that a
  // record stays fixed-size and names are stored once per batch.
  traffic_scope scope = traffic_scope::unknown;
  sampling_source rate_source = sampling_source::unknown;
  uint8_t src_net_length = 0; ///< length of our prefix holding src_addr; 0: none
  uint8_t dst_net_length = 0;
  uint16_t src_country = 0; ///< ISO 3166 alpha-2 as two chars, first in the high byte; 0: unknown
  uint16_t dst_country = 0;
  uint32_t src_net_name = 0; ///< label: name column of the matched prefix
  uint32_t dst_net_name = 0;
  uint32_t src_as_name = 0; ///< label: AS organisation from the ASN database
  uint32_t dst_as_name = 0;
  uint32_t region = 0; ///< label: the configured site/region

  // -- BGP, from the exporter's routes (the longest match of dst_addr) --
  uint32_t as_path = 0;              ///< label: AS_PATH as nfacctd prints it
  uint32_t communities = 0;          ///< label: standard communities
  uint32_t extended_communities = 0; ///< label
  uint32_t large_communities = 0;    ///< label
  uint32_t local_pref = 0;
  uint32_t med = 0;
  // -- BGP, the longest match of src_addr (nfacctd's *_src keys) --
  uint32_t src_as_path = 0;              ///< label
  uint32_t src_communities = 0;          ///< label
  uint32_t src_extended_communities = 0; ///< label
  uint32_t src_large_communities = 0;    ///< label
  uint32_t src_local_pref = 0;
  uint32_t src_med = 0;

  friend bool operator==(const flow_record&, const flow_record&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, flow_record& x) {
  return f(caf::meta::type_name("tidewatch::flow_record"), x.exporter, x.observation_domain,
           x.received_us, x.protocol_version, x.src_addr, x.dst_addr, x.src_port, x.dst_port,
           x.ip_protocol, x.ip_version, x.tcp_flags, x.tos, x.bytes, x.packets, x.flows,
           x.input_interface, x.output_interface, x.src_as, x.dst_as, x.src_mask, x.dst_mask,
           x.direction, x.forwarding_status, x.next_hop, x.bgp_next_hop, x.src_vlan, x.dst_vlan,
           x.src_mac, x.dst_mac, x.flow_start_us, x.flow_end_us, x.sampler_id, x.sampling_rate,
           x.sample_pool, x.is_fragment, x.input_interface_format, x.output_interface_format,
           x.src_peer_as, x.dst_peer_as, x.src_priority, x.dst_priority, x.inner_vlan,
           x.mpls_top_label, x.scope, x.rate_source, x.src_net_length, x.dst_net_length,
           x.src_country, x.dst_country, x.src_net_name, x.dst_net_name, x.src_as_name,
           x.dst_as_name, x.region, x.as_path, x.communities, x.extended_communities,
           x.large_communities, x.local_pref, x.med, x.src_as_path, x.src_communities,
           x.src_extended_communities, x.src_large_communities, x.src_local_pref, x.src_med);
}

/// The texts that records of one batch refer to by index (AS names, site
/// names, the region), stored back to back in one buffer so that adding a
/// label costs a copy, not an allocation. Index 0 is the empty text.
///
/// An index with shared_flag set refers to one of the shared tables instead
/// (shared_index()): texts that many batches use and none copies, such as a
/// database's AS names or our prefix list's names, kept alive by every batch
/// that refers to them.
///
/// An index with table_flag (and not shared_flag) set refers to a label of
/// one of the batch's `tables` (table_index()): small immutable tables that
/// the batch references instead of copying their texts, such as the texts of
/// a BGP route's attributes, kept alive by the batch after the route is gone.
struct label_table {
  std::string text;           ///< every label, concatenated
  std::vector<uint32_t> ends; ///< ends[i - 1]: where label i ends in text
  static constexpr size_t shared_stores = 3;
  /// Immutable tables that shared indexes refer to; null: none.
  std::shared_ptr<const label_table> shared[shared_stores];
  /// Immutable tables that table indexes refer to; null: no texts.
  std::vector<std::shared_ptr<const label_table>> tables;

  static constexpr uint32_t shared_flag = 0x8000'0000u;
  static constexpr uint32_t shared_store_shift = 29; ///< two bits: which shared table
  static constexpr uint32_t shared_index_mask = (1u << shared_store_shift) - 1;
  static constexpr uint32_t table_flag = 0x4000'0000u;
  static constexpr uint32_t table_label_bits = 8;
  static constexpr uint32_t table_label_mask = (1u << table_label_bits) - 1;

  /// The index that stands for label `index` (>= 1, < 2^29) of shared[store];
  /// 0 stays 0 (no label).
  static constexpr uint32_t shared_index(size_t store, uint32_t index) {
    return index == 0 ? 0 : shared_flag | uint32_t(store) << shared_store_shift | index;
  }
  /// The index that stands for label `index` (>= 1, < 256) of tables[table]
  /// (< 2^22); 0 stays 0 (no label).
  static constexpr uint32_t table_index(size_t table, uint32_t index) {
    return index == 0 ? 0 : table_flag | uint32_t(table) << table_label_bits | index;
  }

  /// Adds a label; returns its index (>= 1).
  uint32_t add(std::string_view label) {
    text.append(label);
    ends.push_back(uint32_t(text.size()));
    return uint32_t(ends.size());
  }

  /// The text of index i; empty for 0 or an index out of range.
  std::string_view operator[](uint32_t i) const {
    if (i & shared_flag) {
      size_t which = (i & ~shared_flag) >> shared_store_shift;
      const auto* store = which < shared_stores ? shared[which].get() : nullptr;
      return store ? (*store)[i & shared_index_mask] : std::string_view{};
    }
    if (i & table_flag) {
      size_t table = (i & ~table_flag) >> table_label_bits;
      return table < tables.size() && tables[table] ? (*tables[table])[i & table_label_mask]
                                                    : std::string_view{};
    }
    if (i == 0 || i > ends.size())
      return {};
    uint32_t begin = i == 1 ? 0 : ends[i - 2];
    return std::string_view(text).substr(begin, ends[i - 1] - begin);
  }

  /// Labels held, the empty label 0 included (shared and attached tables not counted).
  size_t size() const { return ends.size() + 1; }
  void clear() {
    text.clear();
    ends.clear();
    for (auto& store : shared)
      store = nullptr;
    tables.clear();
  }

  /// Equal texts under equal indexes (shared and attached tables compared by content).
  friend bool operator==(const label_table& a, const label_table& b) {
    auto same = [](const auto& x, const auto& y) { return x == y || (x && y && *x == *y); };
    return a.text == b.text && a.ends == b.ends && same(a.shared[0], b.shared[0]) &&
           same(a.shared[1], b.shared[1]) && same(a.shared[2], b.shared[2]) &&
           std::equal(a.tables.begin(), a.tables.end(), b.tables.begin(), b.tables.end(), same);
  }
};

/// A shared label table crosses nodes as a copy of its texts (none: no
/// texts). Shared tables are flat: their own `shared` and attached tables do
/// not travel.
template <class Inspector>
std::enable_if_t<Inspector::reads_state, typename Inspector::result_type>
inspect(Inspector& f, std::shared_ptr<const label_table>& x) {
  std::string no_text;
  std::vector<uint32_t> no_ends;
  return x ? f(const_cast<std::string&>(x->text), const_cast<std::vector<uint32_t>&>(x->ends))
           : f(no_text, no_ends);
}

template <class Inspector>
std::enable_if_t<Inspector::writes_state, typename Inspector::result_type>
inspect(Inspector& f, std::shared_ptr<const label_table>& x) {
  auto copy = std::make_shared<label_table>();
  return f(copy->text, copy->ends, caf::meta::load_callback([&]() -> caf::error {
             x = copy->ends.empty() ? nullptr : std::move(copy);
             return caf::none;
           }));
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, label_table& x) {
  return f(caf::meta::type_name("tidewatch::label_table"), x.text, x.ends, x.shared[0], x.shared[1],
           x.shared[2], x.tables);
}

/// The data-path message between decoder, enricher and sinks: many records,
/// one message. `pipeline` names the pipeline that produced it (netflow, sflow).
/// `labels` holds the texts records refer to by index (filled by the enricher).
struct flow_batch {
  std::string pipeline;
  std::vector<flow_record> records;
  label_table labels;
  /// Non-zero: the records are sums per key and time bucket (see
  /// actors/sink/flow_aggregator.hpp); the bits are the aggregate_primitive
  /// fields that make the key, the only ones a sink writes.
  uint32_t aggregated_by = 0;
  /// For aggregated records: when the sums were taken (µs since the epoch).
  int64_t aggregated_at_us = 0;

  /// The text of a label index; empty for 0 or an index out of range.
  std::string_view label(uint32_t index) const { return labels[index]; }

  friend bool operator==(const flow_batch&, const flow_batch&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, flow_batch& x) {
  return f(caf::meta::type_name("tidewatch::flow_batch"), x.pipeline, x.records, x.labels,
           x.aggregated_by, x.aggregated_at_us);
}

} // namespace tidewatch
