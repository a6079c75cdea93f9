#include "actors/sink/file_sink_actor.hpp"

#include <unistd.h>

#include <algorithm>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/common/clock.hpp"
#include "messages/error.hpp"

namespace tidewatch {

namespace {

using self_ptr = record_sink_actor::stateful_pointer<file_sink_state>;

bool write_stdout(std::string_view data) {
  while (!data.empty()) {
    auto n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

bool flush(self_ptr self, bool sync) {
  auto& st = self->state;
  return st.opts.to_stdout || st.file.flush(sync);
}

/// Writes the buffer; counts and logs (rate-limited) a failure of `what`.
void write_buffer(self_ptr self, size_t records, const char* what) {
  auto& st = self->state;
  bool ok = st.opts.to_stdout ? write_stdout(st.buffer) : st.file.write(st.buffer, unix_now_us());
  if (!ok && st.write_errors++ % 1000 == 0)
    spdlog::error("{}: cannot write {} {} to {}", st.opts.pipeline, records, what,
                  st.opts.to_stdout ? "stdout" : st.opts.file.path);
  if (ok)
    (std::string_view(what) == "records" ? st.records : st.counter_records) += records;
}

} // namespace

record_sink_actor::behavior_type file_sink(self_ptr self, file_sink_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.encoder = json_encoder{st.opts.json};
  if (!st.opts.to_stdout) {
    std::string error;
    if (!st.file.open(st.opts.file, &error)) {
      spdlog::error("{}: file sink {}: {}", st.opts.pipeline, st.opts.file.path, error);
      self->quit(make_error(ec::sink_failed, error));
      return record_sink_actor::behavior_type::make_empty_behavior();
    }
  }
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](const flow_batch& batch) {
        auto& st = self->state;
        st.buffer.clear();
        for (auto& r : batch.records)
          st.encoder.encode_any(r, batch, st.buffer);
        write_buffer(self, batch.records.size(), "records");
        ++st.batches;
        if (auto sender = self->current_sender())
          self->send(caf::actor_cast<flow_producer_actor>(sender), ack_atom::value);
      },
      [self](const counter_batch& batch) {
        auto& st = self->state;
        st.buffer.clear();
        for (auto& c : batch.counters)
          st.encoder.encode_counters(c, st.counter_seq, st.buffer);
        write_buffer(self, size_t(std::count(st.buffer.begin(), st.buffer.end(), '\n')),
                     "counter records");
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        flush(self, true);
        spdlog::info("{}: wrote {} records and {} counter records to {}; write errors {}",
                     st.opts.pipeline, st.records, st.counter_records,
                     st.opts.to_stdout ? "stdout" : st.opts.file.path, st.write_errors);
        caf::anon_send(coordinator, drained_atom::value, std::string{"file_sink"});
      },
      [self](tick_atom) {
        flush(self, false);
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = st.opts.to_stdout ? "sink:stdout" : "sink:file";
        s.counters = {{"sink_records_total", st.records},
                      {"sink_counter_records_total", st.counter_records},
                      {"sink_batches_total", st.batches},
                      {"sink_write_errors_total", st.write_errors}};
        if (!st.opts.to_stdout) {
          s.counters.push_back({"sink_bytes_total", st.file.bytes_written()});
          s.counters.push_back({"sink_rotations_total", st.file.rotations()});
        }
        return s;
      },
  };
}

} // namespace tidewatch
