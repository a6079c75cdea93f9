#pragma once

#include <deque>
#include <string>
#include <vector>

#include "actors/enricher/enrichment_files.hpp"
#include "actors/enricher/flow_enricher.hpp"
#include "actors/interfaces.hpp"

namespace tidewatch {

struct enricher_actor_options {
  std::string pipeline;
  enricher_settings settings;
  enrichment_files::paths files;
  std::chrono::milliseconds watch_interval{1'000}; ///< how often files are checked for changes
  /// Per sink, the scopes it takes (scope_mask); empty: every sink takes all.
  std::vector<uint8_t> sink_scopes;
};

struct enricher_state {
  enricher_actor_options opts;
  flow_enricher enricher;
  std::unique_ptr<enrichment_files> files;
  std::vector<flow_sink_actor> sinks;
  std::vector<uint64_t> sink_acks; ///< batches each sink finished
  uint64_t records_filtered = 0;   ///< records a sink did not take (its scopes)
  uint64_t batches_out = 0;
  uint64_t batches_done = 0; ///< batches every sink finished
  /// Who sent each batch not yet finished by every sink, oldest first: its
  /// credit goes back only then, so a slow sink slows the decoder's credit.
  std::deque<caf::actor> owed_acks;
  bool started = false; ///< the first load succeeded
  static inline const char* name = "enricher";
};

/// Enriches flow batches between the decoder and the sinks (sampling
/// extrapolation, scope and prefix tags, GeoIP and ASN, region, BGP routes).
/// Re-reads its files when they change and on `reload`, between two batches.
/// With a BGP speaker (local or on another node), subscribes to it at start
/// and applies its route batches to a local replica between flow batches, so
/// no flow waits for a message round trip.
enricher_actor::behavior_type enricher(enricher_actor::stateful_pointer<enricher_state> self,
                                       enricher_actor_options opts,
                                       std::vector<flow_sink_actor> sinks,
                                       bgp_route_source_actor speaker);

} // namespace tidewatch
