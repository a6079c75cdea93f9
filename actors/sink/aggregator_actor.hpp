#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/sink/flow_aggregator.hpp"

namespace tidewatch {

/// A sink that aggregates (flow_aggregator) in front of a real sink: flow
/// batches in like any sink, aggregated batches out to the sink it spawned
/// and is linked to, with credit (acks) from that sink.
using aggregating_sink_actor = flow_sink_actor::extend<caf::reacts_to<ack_atom>>;

struct aggregator_options {
  std::string pipeline;
  flow_aggregator::settings settings;
  /// Spawns the sink that writes the aggregated records, linked to the
  /// aggregator so that they fail and restart together.
  std::function<flow_sink_actor(caf::local_actor*)> spawn_sink;
};

struct aggregator_state {
  std::string pipeline;
  flow_aggregator aggregator{{}};
  flow_sink_actor sink;
  std::vector<flow_record> closed; ///< emitted buckets not yet sent on
  size_t closed_sent = 0;          ///< of closed, the records already sent on
  uint32_t in_flight = 0;          ///< batches sent to the sink, not acknowledged
  caf::actor drain_coordinator;    ///< set once a drain arrived
  uint64_t batches_out = 0;
  uint64_t records_out = 0;
  static inline const char* name = "aggregator";
};

aggregating_sink_actor::behavior_type
aggregating_sink(aggregating_sink_actor::stateful_pointer<aggregator_state> self,
                 aggregator_options opts);

} // namespace tidewatch
