#include "actors/enricher/enricher_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace tidewatch {

namespace {

using self_ptr = enricher_actor::stateful_pointer<enricher_state>;

/// Re-reads changed files (all when force) and logs what happened; false
/// when the prefix list could not be loaded.
bool refresh(self_ptr self, bool force) {
  auto& st = self->state;
  auto outcome = st.files->refresh(st.enricher, force);
  for (auto& line : outcome.loaded)
    spdlog::info("{}: enricher loaded {}", st.opts.pipeline, line);
  for (auto& line : outcome.errors)
    spdlog::error("{}: enricher: {}", st.opts.pipeline, line);
  if (outcome.prefixes_failed && st.started)
    spdlog::error("{}: enricher keeps the {} prefixes of the previous prefix list",
                  st.opts.pipeline, st.files->prefix_count());
  return !outcome.prefixes_failed;
}

} // namespace

enricher_actor::behavior_type enricher(self_ptr self, enricher_actor_options opts,
                                       std::vector<flow_sink_actor> sinks,
                                       bgp_route_source_actor speaker) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.enricher = flow_enricher{st.opts.settings};
  st.files = std::make_unique<enrichment_files>(st.opts.files);
  st.sinks = std::move(sinks);
  st.sink_acks.assign(st.sinks.size(), 0);
  if (!refresh(self, true)) {
    // Without its prefix list every record would be tagged wrong: refuse to start.
    self->quit(make_error(ec::cannot_load, "prefix list " + st.opts.files.prefix_file));
    return enricher_actor::behavior_type::make_empty_behavior();
  }
  st.started = true;
  if (speaker)
    self->send(speaker, subscribe_atom::value, caf::actor_cast<bgp_replica_actor>(self));
  self->delayed_send(self, st.opts.watch_interval, tick_atom::value);
  return {
      [self](flow_batch& batch) {
        auto& st = self->state;
        st.enricher.enrich(batch);
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (st.sinks.empty()) {
          if (sender)
            self->send(caf::actor_cast<flow_producer_actor>(sender), ack_atom::value);
          return;
        }
        ++st.batches_out;
        st.owed_acks.push_back(sender);
        // Every sink gets a batch (maybe empty) so that credit counts stay simple.
        for (size_t i = 0; i < st.sinks.size(); ++i) {
          uint8_t mask = i < st.opts.sink_scopes.size() ? st.opts.sink_scopes[i] : all_scopes;
          if (mask != all_scopes) {
            auto selected = select_scopes(batch, mask);
            st.records_filtered += batch.records.size() - selected.records.size();
            self->send(st.sinks[i], std::move(selected));
          } else if (i + 1 == st.sinks.size()) {
            self->send(st.sinks[i], std::move(batch));
          } else {
            self->send(st.sinks[i], batch);
          }
        }
      },
      [self](ack_atom) {
        auto& st = self->state;
        auto sender = self->current_sender();
        for (size_t i = 0; i < st.sinks.size(); ++i)
          if (caf::actor_cast<caf::strong_actor_ptr>(st.sinks[i]) == sender)
            ++st.sink_acks[i];
        auto done = *std::min_element(st.sink_acks.begin(), st.sink_acks.end());
        for (; st.batches_done < done && !st.owed_acks.empty(); ++st.batches_done) {
          if (auto& upstream = st.owed_acks.front())
            self->send(caf::actor_cast<flow_producer_actor>(upstream), ack_atom::value);
          st.owed_acks.pop_front();
        }
      },
      [self](drain_atom, caf::actor coordinator) {
        for (auto& s : self->state.sinks)
          self->send(s, drain_atom::value, coordinator);
      },
      [self](tick_atom) {
        refresh(self, false);
        self->delayed_send(self, self->state.opts.watch_interval, tick_atom::value);
      },
      [self](reload_atom) { refresh(self, true); },
      [self](const bgp_route_batch& batch) { self->state.enricher.apply_routes(batch); },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = "enricher";
        s.counters = {{"enricher_batches_out_total", st.batches_out},
                      {"enricher_batches_in_flight", st.owed_acks.size()},
                      {"enricher_records_not_selected_total", st.records_filtered},
                      {"enricher_prefixes", st.files->prefix_count()},
                      {"enricher_reloads_total", st.files->reloads()},
                      {"enricher_reload_errors_total", st.files->reload_errors()}};
        st.enricher.collect(s.counters);
        return s;
      },
  };
}

} // namespace tidewatch
