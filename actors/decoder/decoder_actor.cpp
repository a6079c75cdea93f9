#include "actors/decoder/decoder_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/common/clock.hpp"

namespace tidewatch {

namespace {

using self_ptr = decoder_actor::stateful_pointer<decoder_state>;

bool sinks_behind(const decoder_state& st) {
  for (auto n : st.sink_in_flight)
    if (n >= st.opts.max_sink_in_flight)
      return true;
  return false;
}

} // namespace

void decoder_state::save() {
  auto& st = *this;
  if (st.opts.state_file.empty() || !st.decoder.state_dirty())
    return;
  std::string error;
  if (st.decoder.save_state_file(st.opts.state_file, &error)) {
    ++st.state_saves;
  } else {
    ++st.state_save_errors;
    spdlog::warn("{}: cannot save templates to {}: {}", st.opts.pipeline, st.opts.state_file,
                 error);
  }
}

namespace {

using error_array = std::array<uint64_t, netflow_error_count>;

error_array error_counts(const netflow_decoder& d) {
  error_array counts;
  for (size_t i = 0; i < netflow_error_count; ++i)
    counts[i] = d.error_count(static_cast<netflow_error>(i));
  return counts;
}

/// Names what a datagram had wrong, at a limited rate; the counters keep the totals.
void log_bad_input(decoder_state& st, const datagram_info& info, const error_array& before) {
  auto after = error_counts(st.decoder);
  if (after == before)
    return;
  std::string reasons;
  for (size_t i = 0; i < netflow_error_count; ++i)
    if (after[i] != before[i])
      reasons +=
          (reasons.empty() ? "" : ", ") + std::string(to_string(static_cast<netflow_error>(i)));
  st.bad_input_log.warn("{}: dropped malformed export data from {}:{} ({} bytes): {}",
                        st.opts.pipeline, info.exporter.to_string(), info.exporter_port,
                        info.length, reasons);
}

/// One line an operator reads at shutdown: what this decoder saw.
void log_summary(decoder_state& st) {
  std::vector<counter_value> counters;
  st.decoder.collect(counters);
  uint64_t datagrams = 0, records = 0, errors = 0, lost = 0;
  for (auto& c : counters) {
    if (c.name == "netflow_datagrams_total")
      datagrams = c.value;
    else if (c.name == "netflow_records_total")
      records = c.value;
    else if (c.name.starts_with("netflow_decode_errors_total{"))
      errors += c.value;
    else if (c.name.starts_with("netflow_sequence_lost_total{"))
      lost += c.value;
  }
  spdlog::info("{}: decoded {} records from {} datagrams; decode errors {}, sequence losses {}, "
               "templates {}",
               st.opts.pipeline, records, datagrams, errors, lost, st.decoder.template_count());
}

void release_acks(self_ptr self) {
  auto& st = self->state;
  while (!st.held_acks.empty() && !sinks_behind(st)) {
    self->send(caf::actor_cast<listener_actor>(st.held_acks.front()), ack_atom::value);
    st.held_acks.pop_front();
  }
}

} // namespace

decoder_actor::behavior_type decoder(self_ptr self, decoder_actor_options opts,
                                     std::vector<flow_sink_actor> sinks) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.decoder = netflow_decoder{st.opts.decoding};
  st.sinks = std::move(sinks);
  st.sink_in_flight.assign(st.sinks.size(), 0);
  if (!st.opts.state_file.empty()) {
    std::string error;
    if (st.decoder.load_state_file(st.opts.state_file, &error))
      spdlog::info("{}: templates restored from {}", st.opts.pipeline, st.opts.state_file);
    else
      spdlog::info("{}: no templates restored from {}: {}", st.opts.pipeline, st.opts.state_file,
                   error);
  }
  self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
  return {
      [self](const datagram_batch& batch) {
        auto& st = self->state;
        ++st.batches_in;
        flow_batch out;
        out.pipeline = st.opts.pipeline;
        out.records.reserve(batch.size() * 32);
        for (auto& info : batch.datagrams) {
          auto before = error_counts(st.decoder);
          st.decoder.decode(batch.data(info), info.length, info, out.records);
          log_bad_input(st, info, before);
        }
        if (!out.records.empty()) {
          ++st.batches_out;
          for (size_t i = 0; i < st.sinks.size(); ++i) {
            ++st.sink_in_flight[i];
            if (i + 1 == st.sinks.size())
              self->send(st.sinks[i], std::move(out));
            else
              self->send(st.sinks[i], out);
          }
        }
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender)
          return;
        if (sinks_behind(st) || !st.held_acks.empty())
          st.held_acks.push_back(sender);
        else
          self->send(caf::actor_cast<listener_actor>(sender), ack_atom::value);
      },
      [self](ack_atom) {
        auto& st = self->state;
        auto sender = self->current_sender();
        for (size_t i = 0; i < st.sinks.size(); ++i)
          if (caf::actor_cast<caf::strong_actor_ptr>(st.sinks[i]) == sender)
            st.sink_in_flight[i] = std::max<int64_t>(0, st.sink_in_flight[i] - 1);
        release_acks(self);
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        if (++st.drains_seen < st.opts.upstreams)
          return;
        self->state.save();
        log_summary(st);
        for (auto& s : st.sinks)
          self->send(s, drain_atom::value, coordinator);
      },
      [self](tick_atom) {
        auto& st = self->state;
        auto now = unix_now_us();
        st.decoder.expire(now);
        if (now - st.last_save_us >= st.opts.save_interval.count() * 1000) {
          st.last_save_us = now;
          self->state.save();
        }
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      },
      [](crash_atom) { throw std::runtime_error("decoder crash requested (test hook)"); },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = "decoder";
        s.counters = {{"decoder_batches_in_total", st.batches_in},
                      {"decoder_batches_out_total", st.batches_out},
                      {"decoder_state_saves_total", st.state_saves},
                      {"decoder_state_save_errors_total", st.state_save_errors},
                      {"decoder_held_acks", st.held_acks.size()}};
        st.decoder.collect(s.counters);
        return s;
      },
  };
}

} // namespace tidewatch
