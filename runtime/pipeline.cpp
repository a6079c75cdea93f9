#include "runtime/pipeline.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/decoder/decoder_actor.hpp"
#include "actors/listener/listener_actor.hpp"
#include "actors/sink/file_sink_actor.hpp"
#include "actors/sink/kafka_sink_actor.hpp"

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

kafka_sink_options kafka_options(const std::string& pipeline, const sink_config& s) {
  kafka_sink_options o;
  o.pipeline = pipeline;
  o.producer.brokers = s.brokers;
  o.producer.topic = s.topic;
  parse_kafka_key(s.key, o.producer.key); // validated with the config
  o.producer.properties = s.properties;
  o.producer.queue_max_messages = s.queue_max_messages;
  o.producer.queue_max_bytes = s.queue_max_bytes;
  o.producer.spool.directory = s.spool_dir;
  o.producer.spool.max_bytes = s.spool_max_bytes;
  o.producer.spool.segment_bytes = std::clamp<uint64_t>(s.spool_max_bytes / 8, 64 << 10, 64 << 20);
  o.producer.flush_timeout = s.flush_timeout;
  return o;
}

} // namespace

std::vector<child_spec> netflow_pipeline(const tidewatch_config& cfg) {
  const std::string name = "netflow";
  const auto& p = cfg.pipelines.netflow;
  std::vector<child_spec> specs;
  for (size_t i = 0; i < p.sinks.size(); ++i) {
    if (p.sinks[i].type == "kafka") {
      specs.push_back({"sink[" + std::to_string(i) + "]",
                       [o = kafka_options(name, p.sinks[i])](caf::event_based_actor* sup,
                                                             const std::vector<caf::actor>&) {
                         return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(kafka_sink, o));
                       },
                       false, true});
      continue;
    }
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
  d.decoding.pending_max_datagrams = p.decoder.pending_max_datagrams;
  d.decoding.pending_max_age_us = p.decoder.pending_max_age.count() * 1000;
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

} // namespace tidewatch
