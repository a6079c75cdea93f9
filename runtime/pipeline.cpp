#include "runtime/pipeline.hpp"

#include <caf/all.hpp>

#include "actors/decoder/decoder_actor.hpp"
#include "actors/enricher/enricher_actor.hpp"
#include "actors/listener/listener_actor.hpp"
#include "actors/sink/file_sink_actor.hpp"

namespace tidewatch {

restart_policy make_restart_policy(const tidewatch_config& cfg) {
  restart_policy p;
  p.max_restarts = cfg.supervision.max_restarts;
  p.window = cfg.supervision.window;
  p.backoff_initial = cfg.supervision.backoff_initial;
  p.backoff_max = cfg.supervision.backoff_max;
  p.drain_timeout = cfg.node.shutdown_timeout;
  return p;
}

namespace {

/// A prefix validated with the config.
ip_prefix parse_valid_prefix(const std::string& text) {
  ip_prefix prefix;
  ip_prefix::parse(text, prefix);
  return prefix;
}

enricher_actor_options enricher_options(const std::string& pipeline, const enrichment_config& c) {
  enricher_actor_options o;
  o.pipeline = pipeline;
  o.files = {c.prefix_file, c.country_database, c.asn_database};
  auto& s = o.settings;
  s.region = c.region;
  s.asn_fill = c.asn_fill == "never"    ? asn_fill_mode::never
               : c.asn_fill == "always" ? asn_fill_mode::always
                                        : asn_fill_mode::missing;
  s.sampling.precedence.clear();
  for (auto& name : c.sampling.precedence)
    s.sampling.precedence.push_back(name == "override" ? sampling_source::override
                                    : name == "export" ? sampling_source::exported
                                                       : sampling_source::fallback);
  for (auto& r : c.sampling.overrides)
    s.sampling.overrides.push_back({parse_valid_prefix(r.exporter), r.rate});
  for (auto& r : c.sampling.defaults)
    s.sampling.defaults.push_back({parse_valid_prefix(r.exporter), r.rate});
  s.sampling.default_rate = c.sampling.default_rate;
  return o;
}

/// Sinks, decoder (of `kind`), then listeners: the children every pipeline has.
std::vector<child_spec> pipeline_children(const std::string& name, const pipeline_config& p,
                                          decoder_kind kind) {
  std::vector<child_spec> specs;
  for (size_t i = 0; i < p.sinks.size(); ++i) {
    file_sink_options o;
    o.pipeline = name;
    o.to_stdout = p.sinks[i].type == "stdout";
    o.file.path = p.sinks[i].path;
    o.file.rotate_bytes = p.sinks[i].rotate_bytes;
    o.file.rotate_interval_us = p.sinks[i].rotate_interval.count() * 1000;
    o.json.unscaled_counters = p.sinks[i].unscaled_counters;
    specs.push_back({"sink[" + std::to_string(i) + "]",
                     [o](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                       return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(file_sink, o));
                     },
                     false, true});
  }
  size_t sink_count = p.sinks.size();
  specs.push_back(
      {"enricher",
       [e = enricher_options(name, p.enrichment),
        sink_count](caf::event_based_actor* sup, const std::vector<caf::actor>& earlier) {
         std::vector<flow_sink_actor> sinks;
         for (size_t i = 0; i < sink_count; ++i)
           sinks.push_back(caf::actor_cast<flow_sink_actor>(earlier[i]));
         return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(enricher, e, sinks));
       },
       false, false, true});
  size_t enricher_index = sink_count;
  decoder_actor_options d;
  d.pipeline = name;
  d.kind = kind;
  d.decoding.pending_max_datagrams = p.decoder.pending_max_datagrams;
  d.decoding.pending_max_age_us = p.decoder.pending_max_age.count() * 1000;
  if (kind == decoder_kind::netflow)
    d.state_file = p.decoder.template_file;
  d.save_interval = p.decoder.template_save_interval;
  d.upstreams = p.listeners.size() * p.receive_threads;
  specs.push_back(
      {"decoder",
       [d, enricher_index](caf::event_based_actor* sup, const std::vector<caf::actor>& earlier) {
         // The enricher takes the decoder's batches as a sink would.
         std::vector<flow_sink_actor> downstream{
             caf::actor_cast<flow_sink_actor>(earlier[enricher_index])};
         return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(decoder, d, downstream));
       },
       false, false});
  size_t decoder_index = enricher_index + 1;
  std::vector<ip_prefix> allowed;
  for (auto& text : p.allowed_exporters)
    allowed.push_back(parse_valid_prefix(text));
  for (auto& l : p.listeners) {
    for (uint32_t t = 0; t < p.receive_threads; ++t) {
      listener_options o;
      o.pipeline = name;
      o.socket.address = l.address;
      o.socket.port = l.port;
      o.socket.receive_buffer_bytes = p.receive_buffer_bytes;
      o.socket.batch = p.receive_batch;
      o.socket.allowed_exporters = allowed;
      specs.push_back(
          {"listener[" + l.address + "]:" + std::to_string(l.port) + "#" + std::to_string(t),
           [o, decoder_index](caf::event_based_actor* sup, const std::vector<caf::actor>& earlier) {
             auto dec = caf::actor_cast<decoder_actor>(earlier[decoder_index]);
             return caf::actor_cast<caf::actor>(
                 sup->spawn<caf::linked + caf::detached>(listener, o, dec));
           },
           true, false});
    }
  }
  return specs;
}

} // namespace

std::vector<child_spec> netflow_pipeline(const tidewatch_config& cfg) {
  return pipeline_children("netflow", cfg.pipelines.netflow, decoder_kind::netflow);
}

std::vector<child_spec> sflow_pipeline(const tidewatch_config& cfg) {
  return pipeline_children("sflow", cfg.pipelines.sflow, decoder_kind::sflow);
}

} // namespace tidewatch
