#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/common/shared_value.hpp"
#include "actors/interfaces.hpp"
#include "actors/replicator/udp_replicator.hpp"
#include "runtime/logging.hpp"

namespace tidewatch {

struct replicator_options {
  std::string pipeline;
  std::vector<replica_receiver> receivers;
  size_t upstreams = 1; ///< listeners that will each send a drain
  /// Set when the listeners' receive threads replicate themselves (given the
  /// same object): the actor then opens it, reports it and logs its errors
  /// on a tick, and gets no batches. Null: the actor keeps its own.
  std::shared_ptr<locked_replicator> shared;
  /// Where SIGHUP puts the re-read receivers (null: none). The actor opens
  /// them at spawn and at each `reload`.
  std::shared_ptr<shared_value<std::vector<replica_receiver>>> reloaded_receivers;
};

struct replicator_state {
  replicator_options opts;
  std::shared_ptr<locked_replicator> replicator;
  size_t drains_seen = 0;
  /// Send errors per receiver at the last batch, to log only new ones.
  std::vector<uint64_t> errors_seen;
  /// A receiver that is down fails every send; say so at a limited rate.
  rate_limited_log send_error_log;
  static inline const char* name = "replicator";
};

/// Opens a socket per receiver at spawn (failing with ec::cannot_replicate
/// when it cannot, e.g. keep_source without CAP_NET_RAW), then sends each
/// datagram batch on to the receivers and acknowledges it to its listener
/// (or, given a shared replicator, lets the receive threads do the sending).
/// Spawn it detached: it spends its time in sendmmsg. `reload` replaces
/// the receivers between two batches (udp_replicator::replace): when a new
/// socket cannot be opened it logs why and keeps the receivers it has.
replicator_actor::behavior_type
replicator(replicator_actor::stateful_pointer<replicator_state> self, replicator_options opts);

} // namespace tidewatch
