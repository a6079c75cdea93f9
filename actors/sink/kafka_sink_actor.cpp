#include "actors/sink/kafka_sink_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace tidewatch {

namespace {

using self_ptr = record_sink_actor::stateful_pointer<kafka_sink_state>;

/// Logs new drops and failed deliveries, at a limited rate.
void log_losses(kafka_sink_state& st) {
  auto drops = st.producer.dropped();
  auto failures = st.producer.failed();
  if (drops == st.logged_drops && failures == st.logged_failures)
    return;
  st.loss_log.warn("{}: kafka topic {}: {} records dropped (queue and spool full), {} deliveries "
                   "failed (sent again from the spool) so far",
                   st.opts.pipeline, st.opts.producer.topic, drops, failures);
  st.logged_drops = drops;
  st.logged_failures = failures;
}

} // namespace

record_sink_actor::behavior_type kafka_sink(self_ptr self, kafka_sink_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  std::string error;
  if (!st.producer.open(st.opts.producer, &error)) {
    spdlog::error("{}: kafka sink {}: {}", st.opts.pipeline, st.opts.producer.topic, error);
    self->quit(make_error(ec::sink_failed, error));
    return record_sink_actor::behavior_type::make_empty_behavior();
  }
  if (!st.producer.spooled_records().empty())
    spdlog::info("{}: kafka topic {}: sending {} bytes spooled by an earlier run first",
                 st.opts.pipeline, st.opts.producer.topic, st.producer.spooled_records().bytes());
  self->delayed_send(self, st.opts.poll_interval, tick_atom::value);
  return {
      [self](const flow_batch& batch) {
        auto& st = self->state;
        st.producer.write(batch);
        st.producer.poll();
        st.records += batch.records.size();
        ++st.batches;
        log_losses(st);
        if (auto sender = self->current_sender())
          self->send(caf::actor_cast<flow_producer_actor>(sender), ack_atom::value);
      },
      [self](const counter_batch& batch) {
        auto& st = self->state;
        st.producer.write(batch);
        st.producer.poll();
        st.counter_samples += batch.counters.size();
        log_losses(st);
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        st.producer.close();
        log_losses(st);
        spdlog::info("{}: kafka topic {}: {} records in, {} delivered, {} failed deliveries, {} "
                     "spooled, {} dropped; {} bytes left in the spool",
                     st.opts.pipeline, st.opts.producer.topic, st.records, st.producer.delivered(),
                     st.producer.failed(), st.producer.spooled(), st.producer.dropped(),
                     st.producer.spooled_records().bytes());
        caf::anon_send(coordinator, drained_atom::value, std::string{"kafka_sink"});
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.producer.poll();
        log_losses(st);
        self->delayed_send(self, st.opts.poll_interval, tick_atom::value);
      },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = "sink:kafka";
        s.counters = {{"sink_records_total", st.records},
                      {"sink_counter_samples_total", st.counter_samples},
                      {"sink_batches_total", st.batches}};
        st.producer.collect(s.counters);
        return s;
      },
  };
}

} // namespace tidewatch
