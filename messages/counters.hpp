#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// The latest counter sample of one interface of one agent: the generic
/// interface counters (RFC 2233 ifTable) and the Ethernet ones (RFC 2358
/// dot3StatsTable), each valid when its `has_` flag is set. The decoder keeps
/// the latest per interface (metrics) and hands each sample on as it came
/// (counter records for sinks with `records: counters`).
struct sflow_interface_counters {
  // -- where it came from --
  ip_address agent;
  uint32_t sub_agent = 0;
  uint32_t source_type = 0;       ///< data source type (0 ifIndex)
  uint32_t source_index = 0;      ///< data source index (the ifIndex)
  uint32_t sequence = 0;          ///< counter sample sequence number
  uint32_t datagram_sequence = 0; ///< sequence number of the datagram that carried it
  int64_t received_us = 0;

  // -- generic interface counters --
  bool has_generic = false;
  uint32_t if_index = 0;
  uint32_t if_type = 0;
  uint64_t if_speed = 0;
  uint32_t if_direction = 0; ///< 0 unknown, 1 full duplex, 2 half, 3 in, 4 out
  uint32_t if_status = 0;    ///< bit 0 admin up, bit 1 operationally up
  uint64_t in_octets = 0;
  uint32_t in_unicast_packets = 0;
  uint32_t in_multicast_packets = 0;
  uint32_t in_broadcast_packets = 0;
  uint32_t in_discards = 0;
  uint32_t in_errors = 0;
  uint32_t in_unknown_protocols = 0;
  uint64_t out_octets = 0;
  uint32_t out_unicast_packets = 0;
  uint32_t out_multicast_packets = 0;
  uint32_t out_broadcast_packets = 0;
  uint32_t out_discards = 0;
  uint32_t out_errors = 0;
  uint32_t promiscuous_mode = 0;

  // -- Ethernet counters --
  bool has_ethernet = false;
  uint32_t alignment_errors = 0;
  uint32_t fcs_errors = 0;
  uint32_t single_collision_frames = 0;
  uint32_t multiple_collision_frames = 0;
  uint32_t sqe_test_errors = 0;
  uint32_t deferred_transmissions = 0;
  uint32_t late_collisions = 0;
  uint32_t excessive_collisions = 0;
  uint32_t internal_mac_transmit_errors = 0;
  uint32_t carrier_sense_errors = 0;
  uint32_t frame_too_longs = 0;
  uint32_t internal_mac_receive_errors = 0;
  uint32_t symbol_errors = 0;

  friend bool operator==(const sflow_interface_counters&,
                         const sflow_interface_counters&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sflow_interface_counters& x) {
  return f(caf::meta::type_name("tidewatch::sflow_interface_counters"), x.agent, x.sub_agent,
           x.source_type, x.source_index, x.sequence, x.datagram_sequence, x.received_us,
           x.has_generic, x.if_index, x.if_type, x.if_speed, x.if_direction, x.if_status,
           x.in_octets, x.in_unicast_packets, x.in_multicast_packets, x.in_broadcast_packets,
           x.in_discards, x.in_errors, x.in_unknown_protocols, x.out_octets, x.out_unicast_packets,
           x.out_multicast_packets, x.out_broadcast_packets, x.out_discards, x.out_errors,
           x.promiscuous_mode, x.has_ethernet, x.alignment_errors, x.fcs_errors,
           x.single_collision_frames, x.multiple_collision_frames, x.sqe_test_errors,
           x.deferred_transmissions, x.late_collisions, x.excessive_collisions,
           x.internal_mac_transmit_errors, x.carrier_sense_errors, x.frame_too_longs,
           x.internal_mac_receive_errors, x.symbol_errors);
}

/// The counter samples of one datagram batch, for counter sinks.
struct counter_batch {
  std::string pipeline;
  std::vector<sflow_interface_counters> counters;

  friend bool operator==(const counter_batch&, const counter_batch&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, counter_batch& x) {
  return f(caf::meta::type_name("tidewatch::counter_batch"), x.pipeline, x.counters);
}

} // namespace tidewatch
