#pragma once

#include <deque>
#include <string>
#include <vector>

#include "actors/decoder/netflow_decoder.hpp"
#include "actors/decoder/sflow_decoder.hpp"
#include "actors/interfaces.hpp"
#include "runtime/logging.hpp"

namespace tidewatch {

/// Which decoder a decoder actor runs: the pipeline's kind.
enum class decoder_kind : uint8_t { netflow, sflow };

struct decoder_actor_options {
  std::string pipeline;
  decoder_kind kind = decoder_kind::netflow;
  netflow_decoder_options decoding;
  sflow_decoder_options sflow_decoding;
  std::string state_file; ///< templates persist here; empty: not persisted
  std::chrono::milliseconds save_interval{5'000};
  size_t upstreams = 1;            ///< listeners that will each send a drain
  int64_t max_sink_in_flight = 16; ///< batches per sink before upstream credit is held back
};

struct decoder_state {
  decoder_actor_options opts;
  netflow_decoder decoder;
  sflow_decoder sflow; ///< used instead of `decoder` when opts.kind is sflow
  std::vector<flow_sink_actor> sinks;
  std::vector<int64_t> sink_in_flight;
  /// sFlow: sinks of the counter samples (`records: counters`); empty: the
  /// samples only update the per-interface metrics.
  std::vector<counter_sink_actor> counter_sinks;
  /// Acks owed to listeners, held back while a sink is behind so that the
  /// listeners stop reading and the kernel buffer (counted) absorbs the load.
  std::deque<caf::actor> held_acks;
  size_t drains_seen = 0;
  uint64_t batches_in = 0;
  uint64_t batches_out = 0;
  uint64_t state_saves = 0;
  uint64_t state_save_errors = 0;
  int64_t last_save_us = 0;
  /// Malformed input is counted always and logged at a limited rate.
  rate_limited_log bad_input_log;
  static inline const char* name = "decoder";

  /// Saves the template cache when it changed since the last save.
  void save();
  decoder_state() = default;
  decoder_state(const decoder_state&) = delete;
  /// A stopping or failing decoder keeps what it learnt for the next one.
  ~decoder_state() { save(); }
};

/// Decodes NetFlow v5/v9 and IPFIX (or, for an sFlow pipeline, sFlow v5)
/// datagram batches into flow batches for every sink, and sFlow counter
/// samples into a counter batch for every counter sink. NetFlow: loads the
/// template cache at start and saves it when it changed.
decoder_actor::behavior_type decoder(decoder_actor::stateful_pointer<decoder_state> self,
                                     decoder_actor_options opts, std::vector<flow_sink_actor> sinks,
                                     std::vector<counter_sink_actor> counter_sinks = {});

} // namespace tidewatch
