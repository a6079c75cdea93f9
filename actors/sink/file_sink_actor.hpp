#pragma once

#include <string>

#include "actors/interfaces.hpp"
#include "actors/sink/json_encoder.hpp"
#include "actors/sink/rotating_file.hpp"

namespace tidewatch {

struct file_sink_options {
  std::string pipeline;
  bool to_stdout = false;
  rotating_file::options file; ///< when not to_stdout
  json_encoder::options json;
};

struct file_sink_state {
  file_sink_options opts;
  json_encoder encoder;
  rotating_file file;
  std::string buffer; ///< reused across batches
  uint64_t records = 0;
  uint64_t counter_records = 0; ///< lines of counter samples
  uint64_t counter_seq = 0;     ///< the `seq` of the next counter line
  uint64_t batches = 0;
  uint64_t write_errors = 0;
  static inline const char* name = "file_sink";
};

/// Writes each record as one JSON line (pmacct's field names) to a rotating
/// file or to stdout; acknowledges every flow batch to its sender for
/// credit. Counter batches (a sink with `records: counters`) become sfacctd's
/// counter lines, unacknowledged.
record_sink_actor::behavior_type
file_sink(record_sink_actor::stateful_pointer<file_sink_state> self, file_sink_options opts);

} // namespace tidewatch
