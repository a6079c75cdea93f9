#pragma once

#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>

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

  friend bool operator==(const flow_record&, const flow_record&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, flow_record& x) {
  return f(caf::meta::type_name("tidewatch::flow_record"), x.exporter, x.observation_domain,
           x.received_us, x.protocol_version, x.src_addr, x.dst_addr, x.src_port, x.dst_port,
           x.ip_protocol, x.ip_version, x.tcp_flags, x.tos, x.bytes, x.packets, x.input_interface,
           x.output_interface, x.src_as, x.dst_as, x.src_mask, x.dst_mask, x.direction,
           x.forwarding_status, x.next_hop, x.bgp_next_hop, x.src_vlan, x.dst_vlan, x.src_mac,
           x.dst_mac, x.flow_start_us, x.flow_end_us, x.sampler_id, x.sampling_rate, x.sample_pool,
           x.is_fragment, x.input_interface_format, x.output_interface_format, x.src_peer_as,
           x.dst_peer_as, x.src_priority, x.dst_priority, x.inner_vlan, x.mpls_top_label);
}

/// The data-path message between decoder, enricher and sinks: many records,
/// one message. `pipeline` names the pipeline that produced it (netflow, sflow).
struct flow_batch {
  std::string pipeline;
  std::vector<flow_record> records;

  friend bool operator==(const flow_batch&, const flow_batch&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, flow_batch& x) {
  return f(caf::meta::type_name("tidewatch::flow_batch"), x.pipeline, x.records);
}

} // namespace tidewatch
