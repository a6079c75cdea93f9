#include "actors/listener/listener_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace tidewatch {

namespace {

void publish(listener_counters& c, const udp_receiver& r, uint64_t batches, uint64_t waits) {
  c.datagrams.store(r.datagrams(), std::memory_order_relaxed);
  c.bytes.store(r.bytes(), std::memory_order_relaxed);
  c.denied.store(r.denied(), std::memory_order_relaxed);
  c.truncated.store(r.truncated(), std::memory_order_relaxed);
  c.kernel_drops.store(r.kernel_drops(), std::memory_order_relaxed);
  c.receive_errors.store(r.receive_errors(), std::memory_order_relaxed);
  c.batches.store(batches, std::memory_order_relaxed);
  c.credit_waits.store(waits, std::memory_order_relaxed);
}

/// A stage the receive thread feeds, with its own credit.
struct consumer {
  caf::strong_actor_ptr handle; ///< null: the pipeline has no such stage
  std::shared_ptr<std::atomic<int64_t>> in_flight;
  std::atomic<uint64_t>* skipped = nullptr;

  bool has_credit(int64_t max_in_flight) const {
    return handle && in_flight->load(std::memory_order_acquire) < max_in_flight;
  }
};

using consumers = std::array<consumer, 2>;

/// Sends the batch as one shared message to every consumer with credit (to
/// every consumer while draining); one without credit misses it, counted.
void dispatch(datagram_batch& batch, const caf::strong_actor_ptr& self, consumers& to,
              int64_t max_in_flight, bool draining) {
  auto size = batch.size();
  auto payload_capacity = batch.payload.capacity();
  auto msg = caf::make_message(std::exchange(batch, {}));
  // The next batch is likely as large: one allocation instead of regrowing.
  batch.payload.reserve(payload_capacity);
  batch.datagrams.reserve(size);
  for (auto& c : to) {
    if (!c.handle)
      continue;
    if (!draining && !c.has_credit(max_in_flight)) {
      c.skipped->fetch_add(size, std::memory_order_relaxed);
      continue;
    }
    c.in_flight->fetch_add(1, std::memory_order_acq_rel);
    c.handle->enqueue(self, caf::make_message_id(), msg, nullptr);
  }
}

/// Replicates the batch from this thread when the listener does so, then
/// hands it to the consumers; a batch no consumer takes is kept for reuse.
void pass_on(datagram_batch& batch, const caf::strong_actor_ptr& self, consumers& to,
             locked_replicator* direct, int64_t max_in_flight, bool draining) {
  if (direct != nullptr)
    direct->with([&](udp_replicator& rep) { rep.replicate(batch); });
  if (to[0].handle || to[1].handle)
    dispatch(batch, self, to, max_in_flight, draining);
  else
    batch.clear();
}

void receive_loop(std::unique_ptr<udp_receiver> receiver, caf::strong_actor_ptr self, consumers to,
                  std::shared_ptr<listener_counters> counters,
                  std::shared_ptr<std::atomic<bool>> stop, int64_t max_in_flight,
                  std::shared_ptr<locked_replicator> direct) {
  uint64_t batches = 0;
  uint64_t waits = 0;
  datagram_batch batch;
  bool has_consumers = to[0].handle || to[1].handle;
  while (!stop->load(std::memory_order_relaxed)) {
    if (has_consumers && !to[0].has_credit(max_in_flight) && !to[1].has_credit(max_in_flight)) {
      ++waits;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    if (receiver->receive_batch(batch) == 0) {
      // Nothing to pass on (a timeout, or only denied or truncated
      // datagrams): the counters may still have moved.
      publish(*counters, *receiver, batches, waits);
      continue;
    }
    ++batches;
    pass_on(batch, self, to, direct.get(), max_in_flight, false);
    publish(*counters, *receiver, batches, waits);
  }
  // Draining: what the kernel already queued was received and belongs to the
  // pipeline. Take it all, without waiting for credit (the actors that return
  // credit are waiting for this thread); the socket buffer bounds it.
  for (;;) {
    if (receiver->receive_batch(batch, 0) == 0 && batch.empty())
      break;
    ++batches;
    pass_on(batch, self, to, direct.get(), max_in_flight, true);
  }
  publish(*counters, *receiver, batches, waits);
}

} // namespace

listener_actor::behavior_type listener(listener_actor::stateful_pointer<listener_state> self,
                                       listener_options opts, decoder_actor decoder,
                                       replicator_actor replicator) {
  auto& st = self->state;
  st.opts = std::move(opts);
  auto receiver = std::make_unique<udp_receiver>();
  std::string error;
  if (!receiver->open(st.opts.socket, error)) {
    spdlog::error("{}: listener {}:{}: {}", st.opts.pipeline, st.opts.socket.address,
                  st.opts.socket.port, error);
    self->quit(make_error(ec::cannot_listen, error));
    return listener_actor::behavior_type::make_empty_behavior();
  }
  st.bound_port = receiver->bound_port();
  st.receive_buffer = receiver->receive_buffer_bytes();
  spdlog::info("{}: listening on udp [{}]:{} (receive buffer {} bytes{})", st.opts.pipeline,
               st.opts.socket.address, st.bound_port, st.receive_buffer,
               receiver->coalescing() ? ", UDP_GRO" : "");
  if (st.receive_buffer < st.opts.socket.receive_buffer_bytes)
    spdlog::warn("{}: the kernel granted a {} byte receive buffer of the {} asked; raise "
                 "net.core.rmem_max or run as root",
                 st.opts.pipeline, st.receive_buffer, st.opts.socket.receive_buffer_bytes);
  // Replicating from the thread, the replicator actor gets no batches (only
  // the drain, below).
  auto direct = st.opts.direct_replicator;
  consumers to = {consumer{caf::actor_cast<caf::strong_actor_ptr>(decoder), st.in_flight,
                           &st.counters->decoder_skipped},
                  consumer{direct ? caf::strong_actor_ptr{}
                                  : caf::actor_cast<caf::strong_actor_ptr>(replicator),
                           st.replicator_in_flight, &st.counters->replicator_skipped}};
  st.thread =
      std::thread(receive_loop, std::move(receiver), caf::actor_cast<caf::strong_actor_ptr>(self),
                  to, st.counters, st.stop, st.opts.max_in_flight, direct);
  return {
      [self, replicator](ack_atom) {
        auto& st = self->state;
        bool from_replicator = replicator && self->current_sender() ==
                                                 caf::actor_cast<caf::strong_actor_ptr>(replicator);
        (from_replicator ? st.replicator_in_flight : st.in_flight)
            ->fetch_sub(1, std::memory_order_acq_rel);
      },
      [self, decoder, replicator](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        st.stop->store(true);
        if (st.thread.joinable())
          st.thread.join();
        auto& c = *st.counters;
        spdlog::info("{}: listener :{} received {} datagrams ({} bytes); kernel drops {}, denied "
                     "{}, truncated {}",
                     st.opts.pipeline, st.bound_port, c.datagrams.load(), c.bytes.load(),
                     c.kernel_drops.load(), c.denied.load(), c.truncated.load());
        // The thread sent its last batch as this actor, so the drain arrives
        // behind it at the decoder and the replicator.
        if (decoder)
          self->send(decoder, drain_atom::value, coordinator);
        if (replicator)
          self->send(replicator, drain_atom::value, coordinator);
      },
      [self](stats_atom) {
        auto& st = self->state;
        auto& c = *st.counters;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = "listener:" + std::to_string(st.bound_port);
        s.counters = {
            {"listener_datagrams_total", c.datagrams.load()},
            {"listener_bytes_total", c.bytes.load()},
            {"listener_batches_total", c.batches.load()},
            {"listener_denied_datagrams_total", c.denied.load()},
            {"listener_truncated_datagrams_total", c.truncated.load()},
            {"listener_kernel_drops_total", c.kernel_drops.load()},
            {"listener_receive_errors_total", c.receive_errors.load()},
            {"listener_credit_waits_total", c.credit_waits.load()},
            {"listener_in_flight_batches", uint64_t(std::max<int64_t>(0, st.in_flight->load()))},
            {"listener_replicator_in_flight_batches",
             uint64_t(std::max<int64_t>(0, st.replicator_in_flight->load()))},
            {"listener_skipped_datagrams_total{consumer=\"decoder\"}", c.decoder_skipped.load()},
            {"listener_skipped_datagrams_total{consumer=\"replicator\"}",
             c.replicator_skipped.load()},
            {"listener_port", st.bound_port},
            {"listener_receive_buffer_bytes", st.receive_buffer},
        };
        return s;
      },
  };
}

} // namespace tidewatch
