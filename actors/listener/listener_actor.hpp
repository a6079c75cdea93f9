#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "actors/interfaces.hpp"
#include "actors/listener/udp_receiver.hpp"
#include "actors/replicator/udp_replicator.hpp"

namespace tidewatch {

/// Counters the receive thread publishes for the actor to report.
struct listener_counters {
  std::atomic<uint64_t> datagrams{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> denied{0};
  std::atomic<uint64_t> truncated{0};
  std::atomic<uint64_t> kernel_drops{0};
  std::atomic<uint64_t> receive_errors{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> credit_waits{0}; ///< times the thread paused for downstream credit
  /// Datagrams one consumer missed because it had no credit while the other
  /// had (a slow decoder never holds up replication, nor the reverse).
  std::atomic<uint64_t> decoder_skipped{0};
  std::atomic<uint64_t> replicator_skipped{0};
};

struct listener_options {
  std::string pipeline;
  udp_receiver::options socket;
  /// Batches sent to a consumer (decoder, replicator) but not yet
  /// acknowledged before it gets no more; when no consumer has credit left,
  /// the thread stops reading and lets the kernel buffer absorb the burst.
  int64_t max_in_flight = 32;
  /// Set: the receive thread replicates each batch itself instead of sending
  /// it to the replicator actor (which opened this object and reports it).
  /// Saves a message, an acknowledgement and two thread wake-ups per batch.
  std::shared_ptr<locked_replicator> direct_replicator;
};

struct listener_state {
  listener_options opts;
  std::shared_ptr<listener_counters> counters = std::make_shared<listener_counters>();
  std::shared_ptr<std::atomic<int64_t>> in_flight = std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<std::atomic<int64_t>> replicator_in_flight =
      std::make_shared<std::atomic<int64_t>>(0);
  std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
  std::thread thread;
  uint16_t bound_port = 0;
  uint64_t receive_buffer = 0;
  static inline const char* name = "listener";

  listener_state() = default;
  listener_state(const listener_state&) = delete;
  /// Stops and joins the receive thread however the actor ends.
  ~listener_state() {
    stop->store(true);
    if (thread.joinable())
      thread.join();
  }
};

/// Binds the socket at spawn (failing the actor with ec::cannot_listen when it
/// cannot) and runs recvmmsg on its own thread, sending each datagram batch as
/// this actor to the decoder and the replicator (either may be absent), one
/// shared copy for both. Spawn it detached: draining joins the thread.
listener_actor::behavior_type listener(listener_actor::stateful_pointer<listener_state> self,
                                       listener_options opts, decoder_actor decoder,
                                       replicator_actor replicator = {});

} // namespace tidewatch
