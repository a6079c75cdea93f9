#include "runtime/pipeline.hpp"

#include <caf/all.hpp>

#include "actors/decoder/decoder_actor.hpp"
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
    specs.push_back({"sink[" + std::to_string(i) + "]",
                     [o](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                       return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(file_sink, o));
                     },
                     false, true});
  }
  size_t sink_count = p.sinks.size();
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
       [d, sink_count](caf::event_based_actor* sup, const std::vector<caf::actor>& earlier) {
         std::vector<flow_sink_actor> sinks;
         for (size_t i = 0; i < sink_count; ++i)
           sinks.push_back(caf::actor_cast<flow_sink_actor>(earlier[i]));
         return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(decoder, d, sinks));
       },
       false, false});
  size_t decoder_index = sink_count;
  std::vector<ip_prefix> allowed;
  for (auto& text : p.allowed_exporters) {
    ip_prefix prefix;
    ip_prefix::parse(text, prefix); // validated with the config
    allowed.push_back(prefix);
  }
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
