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

template <class Error, size_t Count> using error_array = std::array<uint64_t, Count>;

template <class Error, size_t Count, class Decoder>
error_array<Error, Count> error_counts(const Decoder& d) {
  error_array<Error, Count> counts;
  for (size_t i = 0; i < Count; ++i)
    counts[i] = d.error_count(static_cast<Error>(i));
  return counts;
}

/// Decodes one datagram with `d`; names what it had wrong, at a limited rate
/// (the counters keep the totals).
template <class Error, size_t Count, class Decoder, class... Rest>
void decode_logged(decoder_state& st, Decoder& d, const uint8_t* data, const datagram_info& info,
                   std::vector<flow_record>& out, Rest... rest) {
  auto before = error_counts<Error, Count>(d);
  d.decode(data, info.length, info, out, rest...);
  auto after = error_counts<Error, Count>(d);
  if (after == before)
    return;
  std::string reasons;
  for (size_t i = 0; i < Count; ++i)
    if (after[i] != before[i])
      reasons += (reasons.empty() ? "" : ", ") + std::string(to_string(static_cast<Error>(i)));
  st.bad_input_log.warn("{}: dropped malformed export data from {}:{} ({} bytes): {}",
                        st.opts.pipeline, info.exporter.to_string(), info.exporter_port,
                        info.length, reasons);
}

/// Sum of the counters whose name starts with `prefix`.
uint64_t sum_of(const std::vector<counter_value>& counters, std::string_view prefix) {
  uint64_t sum = 0;
  for (auto& c : counters)
    if (std::string_view(c.name).starts_with(prefix))
      sum += c.value;
  return sum;
}

/// One line an operator reads at shutdown: what this decoder saw.
void log_summary(decoder_state& st) {
  std::vector<counter_value> counters;
  if (st.opts.kind == decoder_kind::sflow) {
    st.sflow.collect(counters);
    spdlog::info("{}: decoded {} records from {} datagrams ({} flow samples, {} counter "
                 "samples); decode errors {}, sequence losses {} (datagrams {}, samples {})",
                 st.opts.pipeline, st.sflow.flow_samples(), st.sflow.datagrams(),
                 st.sflow.flow_samples(), st.sflow.counter_samples(),
                 sum_of(counters, "sflow_decode_errors_total{"),
                 st.sflow.datagrams_lost() + st.sflow.samples_lost(), st.sflow.datagrams_lost(),
                 st.sflow.samples_lost());
    return;
  }
  st.decoder.collect(counters);
  spdlog::info("{}: decoded {} records from {} datagrams; decode errors {}, sequence losses {}, "
               "templates {}",
               st.opts.pipeline, sum_of(counters, "netflow_records_total"),
               sum_of(counters, "netflow_datagrams_total"),
               sum_of(counters, "netflow_decode_errors_total{"),
               sum_of(counters, "netflow_sequence_lost_total{"), st.decoder.template_count());
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
                                     std::vector<flow_sink_actor> sinks,
                                     std::vector<counter_sink_actor> counter_sinks) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.counter_sinks = std::move(counter_sinks);
  st.decoder = netflow_decoder{st.opts.decoding};
  st.sflow = sflow_decoder{st.opts.sflow_decoding};
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
        counter_batch counters;
        auto* counters_out = st.counter_sinks.empty() ? nullptr : &counters.counters;
        for (auto& info : batch.datagrams) {
          if (st.opts.kind == decoder_kind::sflow)
            decode_logged<sflow_error, sflow_error_count>(st, st.sflow, batch.data(info), info,
                                                          out.records, counters_out);
          else
            decode_logged<netflow_error, netflow_error_count>(st, st.decoder, batch.data(info),
                                                              info, out.records);
        }
        if (!counters.counters.empty()) {
          counters.pipeline = st.opts.pipeline;
          for (auto& sink : st.counter_sinks)
            self->send(sink, counters);
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
        for (auto& s : st.counter_sinks)
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
      [self](templates_atom) { return self->state.decoder.templates(); },
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
        if (st.opts.kind == decoder_kind::sflow)
          st.sflow.collect(s.counters);
        else
          st.decoder.collect(s.counters);
        return s;
      },
  };
}

} // namespace tidewatch
