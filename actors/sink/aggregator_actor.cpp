#include "actors/sink/aggregator_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/common/clock.hpp"

namespace tidewatch {

namespace {

using self_ptr = aggregating_sink_actor::stateful_pointer<aggregator_state>;

/// Batches of aggregated records the sink may hold at once, and their size.
constexpr uint32_t max_in_flight = 4;
constexpr size_t records_per_batch = 4096;

void send_closed(self_ptr self) {
  auto& st = self->state;
  while (st.closed_sent < st.closed.size() && st.in_flight < max_in_flight) {
    size_t n = std::min(records_per_batch, st.closed.size() - st.closed_sent);
    flow_batch batch;
    batch.pipeline = st.pipeline;
    batch.aggregated_by = st.aggregator.config().primitives;
    batch.aggregated_at_us = unix_now_us();
    auto first = st.closed.begin() + long(st.closed_sent);
    batch.records.assign(first, first + long(n));
    st.records_out += n;
    ++st.batches_out;
    ++st.in_flight;
    self->send(st.sink, std::move(batch));
    st.closed_sent += n;
  }
  // Cleared once all went out (not erased from the front batch by batch,
  // which would move the rest each time), keeping the capacity.
  if (st.closed_sent == st.closed.size()) {
    st.closed.clear();
    st.closed_sent = 0;
  }
  if (st.drain_coordinator && st.closed.empty() && st.in_flight == 0) {
    self->send(st.sink, drain_atom::value, st.drain_coordinator);
    st.drain_coordinator = nullptr;
  }
}

} // namespace

aggregating_sink_actor::behavior_type aggregating_sink(self_ptr self, aggregator_options opts) {
  auto& st = self->state;
  st.pipeline = opts.pipeline;
  st.aggregator = flow_aggregator{opts.settings};
  st.sink = opts.spawn_sink(self);
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](const flow_batch& batch) {
        self->state.aggregator.add(batch);
        // The sums are kept here, so the batch is done for its sender.
        if (auto sender = self->current_sender())
          self->send(caf::actor_cast<flow_producer_actor>(sender), ack_atom::value);
      },
      [self](ack_atom) {
        auto& st = self->state;
        if (st.in_flight > 0)
          --st.in_flight;
        send_closed(self);
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.aggregator.flush(unix_now_us(), false, st.closed);
        send_closed(self);
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        // Open buckets go out as they are: a partial interval beats a lost one.
        st.aggregator.flush(unix_now_us(), true, st.closed);
        st.drain_coordinator = coordinator;
        send_closed(self);
      },
      [self](stats_atom) -> caf::result<stats_snapshot> {
        auto& st = self->state;
        auto promise = self->make_response_promise<stats_snapshot>();
        // The sink behind is no child of the supervisor: report its counters
        // together with the aggregator's.
        self->request(st.sink, std::chrono::seconds(5), stats_atom::value)
            .then(
                [self, promise](stats_snapshot s) mutable {
                  auto& st = self->state;
                  s.counters.push_back({"aggregator_records_in_total", st.aggregator.records_in()});
                  s.counters.push_back(
                      {"aggregator_late_records_total", st.aggregator.late_records()});
                  s.counters.push_back({"aggregator_open_entries", st.aggregator.open_entries()});
                  s.counters.push_back({"aggregator_records_out_total", st.records_out});
                  s.counters.push_back({"aggregator_batches_out_total", st.batches_out});
                  promise.deliver(std::move(s));
                },
                [promise](caf::error& e) mutable { promise.deliver(std::move(e)); });
        return promise;
      },
  };
}

} // namespace tidewatch
