#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/bgp/bgp_rib.hpp"
#include "actors/interfaces.hpp"

namespace tidewatch {

/// Where the remote BGP speaker is and how to reach it again.
struct bgp_link_options {
  std::string node;      ///< the cluster node running the speaker (for logs and status)
  std::string inspector; ///< host:port of that node's inspector
  bool tls = false;      ///< connect with CAF's openssl module (node.inspector TLS files)
  caf::timespan retry_initial = std::chrono::milliseconds(500);
  caf::timespan retry_max = std::chrono::seconds(30);
  caf::timespan stale_time = std::chrono::minutes(5); ///< keep lost routes this long
  caf::timespan request_timeout = std::chrono::seconds(10);
};

struct bgp_link_state {
  bgp_link_options opts;
  bgp_speaker_actor speaker; ///< the remote speaker; invalid while disconnected
  bgp_rib rib;               ///< the speaker's routes, for local replicas that subscribe later
  std::map<ip_address, uint32_t> router_ids;
  std::vector<bgp_replica_actor> replicas;
  std::map<ip_address, blackhole_route> blackholes; ///< announced, re-sent after a reconnect
  std::set<ip_address> stale; ///< neighbors whose routes outlived the connection
  caf::timespan delay{};      ///< before the next connection attempt
  uint64_t generation = 0;    ///< bumped per loss: older sweep timers are ignored
  bool connecting = false;
  // -- counters --
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t losses = 0;
  uint64_t route_batches = 0;
  uint64_t stale_sweeps = 0;
  uint64_t blackholes_sent = 0;
  uint64_t blackholes_pending = 0; ///< arrived while disconnected (sent on reconnect)
  static inline const char* name = "bgp_link";
};

/// The stand-in for the BGP speaker of another cluster node: connects to
/// that node's inspector, locates "bgp" and subscribes as a replica; passes
/// route batches on to the local replicas (enrichers). When the node goes
/// away (down message, or a failed connection), it retries after
/// retry_initial, doubling up to retry_max, and keeps the routes, marked
/// stale, for stale_time so that flows keep their BGP fields through a
/// restart of the speaker's node (and of its BGP sessions, which take their
/// routers seconds to re-establish): what the speaker sends again after the
/// reconnect replaces or refreshes them, and what is still stale when
/// stale_time runs out is dropped, as a graceful restart does.
bgp_link_actor::behavior_type bgp_link(bgp_link_actor::stateful_pointer<bgp_link_state> self,
                                       bgp_link_options opts);

} // namespace tidewatch
