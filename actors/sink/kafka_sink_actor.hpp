#pragma once

#include <string>

#include "actors/interfaces.hpp"
#include "actors/sink/kafka_producer.hpp"
#include "runtime/logging.hpp"

namespace tidewatch {

struct kafka_sink_options {
  std::string pipeline;
  kafka_producer_options producer;
  /// How often delivery reports are served and the spool is moved on.
  std::chrono::milliseconds poll_interval{50};
};

struct kafka_sink_state {
  kafka_sink_options opts;
  kafka_producer producer;
  uint64_t records = 0;
  uint64_t counter_samples = 0; ///< sFlow counter samples (one or two records each)
  uint64_t batches = 0;
  uint64_t logged_drops = 0;
  uint64_t logged_failures = 0;
  /// Drops and failed deliveries are counted always and logged at a limited rate.
  rate_limited_log loss_log;
  static inline const char* name = "kafka_sink";
};

/// Sends each record as one JSON message to a Kafka topic. Acknowledges every
/// batch at once (producing never blocks): what the broker cannot take queues
/// in memory, then in the on-disk spool, and is dropped, counted and logged
/// only past both bounds. On drain it flushes within the configured timeout
/// and spools what is left for the next start.
record_sink_actor::behavior_type
kafka_sink(record_sink_actor::stateful_pointer<kafka_sink_state> self, kafka_sink_options opts);

} // namespace tidewatch
