#include "actors/replicator/replicator_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace tidewatch {

namespace {

using self_ptr = replicator_actor::stateful_pointer<replicator_state>;

uint64_t error_total(const replica_counters& c) {
  uint64_t n = 0;
  for (auto x : c.errors)
    n += x;
  return n;
}

/// Names the reasons of new send errors, at a limited rate.
void log_new_errors(replicator_state& st, const udp_replicator& rep) {
  for (size_t i = 0; i < rep.receiver_count(); ++i) {
    auto& c = rep.counters(i);
    auto total = error_total(c);
    if (total == st.errors_seen[i])
      continue;
    st.errors_seen[i] = total;
    std::string reasons;
    for (size_t r = 0; r < replication_error_count; ++r)
      if (c.errors[r] > 0)
        reasons += (reasons.empty() ? "" : ", ") +
                   std::string(to_string(static_cast<replication_error>(r))) + " " +
                   std::to_string(c.errors[r]);
    st.send_error_log.warn("{}: replicating to {} fails: {} (totals)", st.opts.pipeline,
                           rep.receiver_name(i), reasons);
  }
}

void log_summary(const replicator_state& st, const udp_replicator& rep) {
  for (size_t i = 0; i < rep.receiver_count(); ++i) {
    auto& c = rep.counters(i);
    spdlog::info("{}: replicated {} datagrams ({} bytes) to {}; sampled out {}, filtered out {}, "
                 "send errors {}",
                 st.opts.pipeline, c.datagrams, c.bytes, rep.receiver_name(i), c.sampled_out,
                 c.filtered_out, error_total(c));
    if (rep.receiver(i).keep_source)
      spdlog::info("{}: copies to {} kept the source of {} exporter endpoints from bound sockets "
                   "and of {} as raw packets ({} older ones forgotten)",
                   st.opts.pipeline, rep.receiver_name(i), c.source_sockets, c.raw_sources,
                   c.source_evictions);
  }
}

stats_snapshot make_stats(const replicator_state& st, const udp_replicator& rep) {
  stats_snapshot s;
  s.pipeline = st.opts.pipeline;
  s.stage = "replicator";
  s.counters.push_back({"replicator_batches_total", rep.batches()});
  for (size_t i = 0; i < rep.receiver_count(); ++i) {
    auto& c = rep.counters(i);
    auto label = "{receiver=\"" + rep.receiver_name(i) + "\"";
    s.counters.push_back({"replicator_datagrams_total" + label + "}", c.datagrams});
    s.counters.push_back({"replicator_bytes_total" + label + "}", c.bytes});
    s.counters.push_back({"replicator_sampled_out_total" + label + "}", c.sampled_out});
    s.counters.push_back({"replicator_filtered_out_total" + label + "}", c.filtered_out});
    if (rep.receiver(i).keep_source) {
      s.counters.push_back({"replicator_source_sockets" + label + "}", c.source_sockets});
      s.counters.push_back({"replicator_raw_sources" + label + "}", c.raw_sources});
      s.counters.push_back({"replicator_source_evictions_total" + label + "}", c.source_evictions});
    }
    for (size_t r = 0; r < replication_error_count; ++r)
      s.counters.push_back({"replicator_send_errors_total" + label + ",reason=\"" +
                                to_string(static_cast<replication_error>(r)) + "\"}",
                            c.errors[r]});
  }
  return s;
}

/// Logs each receiver the replicator sends to.
void log_receivers(const replicator_state& st, const udp_replicator& rep) {
  for (size_t i = 0; i < rep.receiver_count(); ++i) {
    auto& r = rep.receiver(i);
    spdlog::info("{}: replicating to {} (1 in {}, {} exporter prefixes, {}){}", st.opts.pipeline,
                 rep.receiver_name(i), r.sample_one_in, r.from_exporters.size(),
                 r.keep_source ? "keeping the exporter's address as source" : "from our address",
                 st.opts.shared ? ", from the receive threads" : "");
  }
}

/// Swaps in the receivers SIGHUP put in place, or keeps the current ones
/// and says why.
void reload_receivers(replicator_state& st) {
  std::string error;
  auto receivers = *st.opts.reloaded_receivers->get();
  st.replicator->with([&](udp_replicator& rep) {
    if (!rep.replace(receivers, error)) {
      spdlog::error("{}: replicator: SIGHUP: {}; keeping the {} receivers it had", st.opts.pipeline,
                    error, rep.receiver_count());
      // So that a restart opens what works, not what just failed.
      std::vector<replica_receiver> kept;
      for (size_t i = 0; i < rep.receiver_count(); ++i)
        kept.push_back(rep.receiver(i));
      st.opts.reloaded_receivers->set(std::move(kept));
      return;
    }
    st.errors_seen.assign(rep.receiver_count(), 0);
    for (size_t i = 0; i < rep.receiver_count(); ++i)
      st.errors_seen[i] = error_total(rep.counters(i));
    spdlog::info("{}: replicator: SIGHUP: {} receivers", st.opts.pipeline, rep.receiver_count());
    log_receivers(st, rep);
  });
}

} // namespace

replicator_actor::behavior_type replicator(self_ptr self, replicator_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  // A restarted replicator opens what the last SIGHUP put in place.
  if (st.opts.reloaded_receivers)
    st.opts.receivers = *st.opts.reloaded_receivers->get();
  st.replicator = st.opts.shared ? st.opts.shared : std::make_shared<locked_replicator>();
  std::string error;
  bool opened =
      st.replicator->with([&](udp_replicator& rep) { return rep.open(st.opts.receivers, error); });
  if (!opened) {
    spdlog::error("{}: replicator: {}", st.opts.pipeline, error);
    self->quit(make_error(ec::cannot_replicate, error));
    return replicator_actor::behavior_type::make_empty_behavior();
  }
  st.replicator->with([&](udp_replicator& rep) {
    st.errors_seen.assign(rep.receiver_count(), 0);
    log_receivers(st, rep);
  });
  if (st.opts.shared)
    self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](const datagram_batch& batch) {
        auto& st = self->state;
        st.replicator->with([&](udp_replicator& rep) {
          rep.replicate(batch);
          log_new_errors(st, rep);
        });
        if (auto sender = caf::actor_cast<listener_actor>(self->current_sender()))
          self->send(sender, ack_atom::value);
      },
      [self](tick_atom) {
        auto& st = self->state;
        st.replicator->with([&](udp_replicator& rep) { log_new_errors(st, rep); });
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [self](reload_atom) {
        if (self->state.opts.reloaded_receivers)
          reload_receivers(self->state);
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        if (++st.drains_seen < st.opts.upstreams)
          return;
        st.replicator->with([&](udp_replicator& rep) { log_summary(st, rep); });
        caf::anon_send(coordinator, drained_atom::value, std::string{"replicator"});
      },
      [self](stats_atom) {
        auto& st = self->state;
        return st.replicator->with([&](udp_replicator& rep) { return make_stats(st, rep); });
      },
  };
}

} // namespace tidewatch
