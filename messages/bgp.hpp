#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// AS_PATH segment types (RFC 4271, RFC 5065).
enum class as_segment_type : uint8_t {
  set = 1,
  sequence = 2,
  confed_sequence = 3,
  confed_set = 4,
};

/// A large community (RFC 8092): global administrator, two local data parts.
struct bgp_large_community {
  uint32_t global = 0;
  uint32_t local1 = 0;
  uint32_t local2 = 0;

  friend bool operator==(const bgp_large_community&, const bgp_large_community&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bgp_large_community& x) {
  return f(caf::meta::type_name("tidewatch::bgp_large_community"), x.global, x.local1, x.local2);
}

/// The path attributes tidewatch keeps for a route. AS numbers are always
/// 4-octet (2-octet paths are merged with AS4_PATH when parsed). The path is
/// flat: `segments` holds one (type << 8 | count) word per segment and the
/// segments' AS numbers follow each other in `as_path`.
struct bgp_path_attributes {
  static constexpr uint8_t has_med = 1;
  static constexpr uint8_t has_local_pref = 2;
  static constexpr uint8_t has_atomic_aggregate = 4;

  uint8_t origin = 2; ///< 0 IGP, 1 EGP, 2 incomplete
  uint8_t flags = 0;  ///< has_med | has_local_pref | has_atomic_aggregate
  std::vector<uint16_t> segments;
  std::vector<uint32_t> as_path;
  ip_address next_hop; ///< NEXT_HOP, or the global MP_REACH next hop
  uint32_t med = 0;
  uint32_t local_pref = 0;
  std::vector<uint32_t> communities;          ///< (AS << 16) | value
  std::vector<uint64_t> extended_communities; ///< the 8 octets, big-endian
  std::vector<bgp_large_community> large_communities;

  friend bool operator==(const bgp_path_attributes&, const bgp_path_attributes&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bgp_path_attributes& x) {
  return f(caf::meta::type_name("tidewatch::bgp_path_attributes"), x.origin, x.flags, x.segments,
           x.as_path, x.next_hop, x.med, x.local_pref, x.communities, x.extended_communities,
           x.large_communities);
}

/// One route of a route batch: a prefix (length in bits of its family: 0-32
/// for IPv4, 0-128 for IPv6), its ADD-PATH identifier (0 without ADD-PATH)
/// and, for announcements, the index of its attributes in the batch.
struct bgp_route {
  ip_address network;
  uint8_t length = 0;
  uint32_t path_id = 0;
  uint32_t attributes = 0;

  friend bool operator==(const bgp_route&, const bgp_route&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, bgp_route& x) {
  return f(caf::meta::type_name("tidewatch::bgp_route"), x.network, x.length, x.path_id,
           x.attributes);
}

/// Route changes of one neighbor, applied in this order: `reset` (forget
/// every route of the neighbor: session down, or the start of a full sync),
/// `mark_stale` (the neighbor restarts gracefully: keep its routes, marked
/// stale), the withdrawals, the announcements (each clears its stale mark),
/// then `sweep_stale` (the neighbor re-sent its table, or its restart time ran
/// out: drop what is still stale). The BGP sessions send these to the RIB,
/// which forwards them to the enrichers' replicas, so the same batch works
/// locally and across nodes.
struct bgp_route_batch {
  ip_address neighbor;
  uint32_t router_id = 0; ///< the neighbor's BGP identifier (from its OPEN); 0: unknown
  bool reset = false;
  bool mark_stale = false;
  bool sweep_stale = false;
  std::vector<bgp_path_attributes> attributes;
  std::vector<bgp_route> withdrawn;
  std::vector<bgp_route> announced;

  friend bool operator==(const bgp_route_batch&, const bgp_route_batch&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bgp_route_batch& x) {
  return f(caf::meta::type_name("tidewatch::bgp_route_batch"), x.neighbor, x.reset, x.mark_stale,
           x.sweep_stale, x.attributes, x.withdrawn, x.announced, x.router_id);
}

/// What `tidewatch bgp neighbors` shows for one configured neighbor.
struct bgp_neighbor_status {
  ip_address address;
  uint32_t remote_as = 0;
  uint32_t router_id = 0; ///< BGP identifier from its OPEN; 0 before
  std::string state;      ///< FSM state name ("idle", "open_confirm", "established", ...)
  int64_t established_us =
      0;                 ///< when the session reached Established (µs since the epoch); 0: not up
  uint64_t prefixes = 0; ///< routes in its Adj-RIB-In (each ADD-PATH path counts)
  uint64_t updates_received = 0;
  uint64_t withdrawals_received = 0;
  uint64_t route_refreshes_received = 0; ///< ROUTE-REFRESH messages (RFC 2918)

  friend bool operator==(const bgp_neighbor_status&, const bgp_neighbor_status&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bgp_neighbor_status& x) {
  return f(caf::meta::type_name("tidewatch::bgp_neighbor_status"), x.address, x.remote_as,
           x.router_id, x.state, x.established_us, x.prefixes, x.updates_received,
           x.withdrawals_received, x.route_refreshes_received);
}

/// The answer to a route lookup: the longest match of an address in one
/// neighbor's Adj-RIB-In, with all its attributes; `found` false when none.
struct bgp_route_report {
  bool found = false;
  ip_address neighbor;
  ip_address network;
  uint8_t length = 0;
  uint32_t path_id = 0;
  bgp_path_attributes attributes;

  friend bool operator==(const bgp_route_report&, const bgp_route_report&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bgp_route_report& x) {
  return f(caf::meta::type_name("tidewatch::bgp_route_report"), x.found, x.neighbor, x.network,
           x.length, x.path_id, x.attributes);
}

} // namespace tidewatch
