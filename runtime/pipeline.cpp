#include "runtime/pipeline.hpp"

#include <algorithm>
#include <optional>

#include <caf/all.hpp>

#include "actors/decoder/decoder_actor.hpp"
#include "actors/detector/detector_actor.hpp"
#include "actors/enricher/enricher_actor.hpp"
#include "actors/listener/listener_actor.hpp"
#include "actors/replicator/replicator_actor.hpp"
#include "actors/sink/aggregator_actor.hpp"
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

/// A prefix validated with the config.
ip_prefix parse_valid_prefix(const std::string& text) {
  ip_prefix prefix;
  ip_prefix::parse(text, prefix);
  return prefix;
}

/// Prefixes from config text (validated when the config was read).
std::vector<ip_prefix> parse_prefixes(const std::vector<std::string>& texts) {
  std::vector<ip_prefix> out;
  for (auto& text : texts)
    out.push_back(parse_valid_prefix(text));
  return out;
}

/// The BGP part of the enricher's settings: each neighbor's other exporters.
bgp_enrichment_settings bgp_settings(const bgp_config& bgp, const enrichment_config& c) {
  bgp_enrichment_settings s;
  s.as_mode = c.bgp_as == "prefer_export" ? bgp_as_mode::prefer_export : bgp_as_mode::prefer_bgp;
  for (auto& n : bgp.neighbors) {
    bgp_neighbor_binding b;
    ip_address::parse(n.address, b.neighbor); // validated with the config
    b.exporters = parse_prefixes(n.exporters);
    s.neighbors.push_back(std::move(b));
  }
  return s;
}

enricher_actor_options enricher_options(const std::string& pipeline, const enrichment_config& c) {
  enricher_actor_options o;
  o.pipeline = pipeline;
  o.files = {c.prefix_file, c.country_database, c.asn_database};
  auto& s = o.settings;
  s.region = c.region;
  s.address_cache_size = c.address_cache;
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

/// The receivers of a validated pipeline config.
std::vector<replica_receiver> replica_receivers(const pipeline_config& p) {
  std::vector<replica_receiver> out;
  for (auto& rc : p.replicators) {
    replica_receiver rr;
    ip_address::parse(rc.address, rr.address); // validated with the config
    rr.port = rc.port;
    rr.sample_one_in = rc.sample_one_in;
    rr.keep_source = rc.keep_source;
    rr.from_exporters = parse_prefixes(rc.from_exporters);
    out.push_back(std::move(rr));
  }
  return out;
}

replicator_options replicator_options_of(const std::string& name, const pipeline_config& p,
                                         size_t upstreams,
                                         std::shared_ptr<locked_replicator> shared) {
  replicator_options r;
  r.pipeline = name;
  r.upstreams = upstreams;
  r.shared = std::move(shared);
  r.receivers = replica_receivers(p);
  return r;
}

/// How a sink prints its flow records: the keys it chose (`fields`), or
/// every key less the optional groups it does not have.
json_encoder::options json_options(const sink_config& s, bool bgp_fields) {
  json_encoder::options o;
  o.unscaled_counters = s.unscaled_counters;
  o.bgp_fields = bgp_fields;
  for (auto& name : s.fields)
    o.fields.set(size_t(*json_field_by_name(name))); // validated with the config
  return o;
}

kafka_sink_options kafka_options(const std::string& pipeline, const sink_config& s,
                                 bool bgp_fields) {
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
  o.producer.json = json_options(s, bgp_fields);
  o.producer.records_per_message = s.records_per_message;
  return o;
}

/// Rate limits from the configured thresholds (0: off; megabits become bits).
std::vector<rate_limit> rate_limits(const threshold_config& t) {
  const uint64_t values[traffic_kinds][3] = {
      {t.pps, t.mbps, t.flows},                            //
      {t.tcp_pps, t.tcp_mbps, t.tcp_flows},                //
      {t.syn_pps, t.syn_mbps, t.syn_flows},                //
      {t.udp_pps, t.udp_mbps, t.udp_flows},                //
      {t.icmp_pps, t.icmp_mbps, t.icmp_flows},             //
      {t.fragment_pps, t.fragment_mbps, t.fragment_flows}, //
  };
  std::vector<rate_limit> out;
  for (size_t k = 0; k < traffic_kinds; ++k)
    for (size_t m = 0; m < 3; ++m)
      if (values[k][m] != 0)
        out.push_back(
            {traffic_kind(k), rate_metric(m),
             rate_metric(m) == rate_metric::bits ? values[k][m] * 1'000'000 : values[k][m]});
  return out;
}

detector_actor_options detector_options(const std::string& pipeline, const detector_config& c,
                                        const caf::actor& bgp_speaker) {
  detector_actor_options o;
  o.pipeline = pipeline;
  // Blackholes go to the node's BGP speaker; without one they are only logged.
  if (c.blackhole.enabled)
    o.bgp_speaker = bgp_speaker;
  auto& s = o.settings;
  s.bucket_us = c.bucket.count() * 1000;
  s.min_windows = c.min_windows;
  s.quiet_us = c.end_after.count() * 1000;
  s.ban_us = c.ban_time.count() * 1000;
  s.host_idle_us = c.host_idle_timeout.count() * 1000;
  s.max_hosts = c.max_hosts;
  s.outgoing = c.outgoing;
  s.bandwidth_min_flows = c.bandwidth_min_flows;
  s.limits = rate_limits(c.thresholds);
  for (auto& g : c.hostgroups)
    s.hostgroups.push_back({g.name, parse_prefixes(g.prefixes), rate_limits(g.thresholds),
                            rate_limits(g.group_thresholds)});
  s.whitelist = parse_prefixes(c.whitelist);
  s.recent_attacks = c.recent_attacks;
  auto& a = o.actions;
  if (c.details.enabled)
    a.details_directory = c.details.directory;
  a.notify_script = c.notify.path;
  a.notify_timeout = c.notify.timeout;
  a.details_delay = c.notify.details_delay;
  if (c.email.enabled)
    a.email_command = split_command(c.email.command);
  a.email_from = c.email.from;
  a.email_to = c.email.to;
  a.email_timeout = c.email.timeout;
  a.syslog = c.syslog;
  if (c.blackhole.enabled)
    for (auto& text : c.blackhole.communities) {
      uint32_t community = 0;
      parse_community(text, community); // validated with the config
      a.blackhole_communities.push_back(community);
    }
  return o;
}

/// Replicator, sinks, enricher, decoder (of `kind`), then listeners: the
/// children a pipeline has, downstream first.
std::vector<child_spec> pipeline_children(const std::string& name, const pipeline_config& p,
                                          decoder_kind kind,
                                          std::shared_ptr<exporter_allow_list> allowed,
                                          const bgp_config& bgp, bgp_route_source_actor speaker,
                                          pipeline_reloadables* reloadables) {
  std::vector<child_spec> specs;
  if (reloadables) {
    reloadables->pipeline = name;
    reloadables->speaker = caf::actor_cast<caf::actor>(speaker);
  }
  auto upstreams = p.listeners.size() * p.receive_threads;
  // Records carry BGP fields when a speaker feeds the enricher.
  const bool bgp_fields = bgp.enabled && speaker;
  // The replicator comes first, so that a failing decoder or sink never
  // restarts it (rest-for-one restarts what was started after the failure).
  std::optional<size_t> replicator_index;
  // A pipeline that only replicates (no sinks, no detector: no decoder)
  // replicates from its receive threads; the actor opens and reports.
  // Receivers that keep the source do too: their copies leave from bound
  // UDP sockets with GSO like the others (raw packets only where no such
  // socket could be bound).
  std::shared_ptr<locked_replicator> direct;
  if (!p.replicators.empty() && p.sinks.empty() && !p.detector.enabled)
    direct = std::make_shared<locked_replicator>();
  if (!p.replicators.empty()) {
    replicator_index = specs.size();
    auto r = replicator_options_of(name, p, upstreams, direct);
    if (reloadables)
      r.reloaded_receivers = reloadables->receivers =
          std::make_shared<shared_value<std::vector<replica_receiver>>>(r.receivers);
    specs.push_back({"replicator",
                     [r](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                       return caf::actor_cast<caf::actor>(
                           sup->spawn<caf::linked + caf::detached>(replicator, r));
                     },
                     false, true, true});
  }
  // Children indexes of the sinks the enricher feeds (flows) and of those
  // the decoder feeds directly (sFlow counter records).
  std::vector<size_t> flow_sinks;
  std::vector<size_t> counter_sinks;
  for (size_t i = 0; i < p.sinks.size(); ++i) {
    const auto& sink = p.sinks[i];
    (sink.records == "counters" ? counter_sinks : flow_sinks).push_back(specs.size());
    std::function<flow_sink_actor(caf::local_actor*)> spawn_sink;
    if (sink.type == "kafka") {
      spawn_sink = [o = kafka_options(name, sink, bgp_fields)](caf::local_actor* parent) {
        return parent->spawn<caf::linked>(kafka_sink, o);
      };
    } else {
      file_sink_options o;
      o.pipeline = name;
      o.to_stdout = sink.type == "stdout";
      o.file.path = sink.path;
      o.file.rotate_bytes = sink.rotate_bytes;
      o.file.rotate_interval_us = sink.rotate_interval.count() * 1000;
      o.json = json_options(sink, bgp_fields);
      spawn_sink = [o](caf::local_actor* parent) {
        return parent->spawn<caf::linked>(file_sink, o);
      };
    }
    std::function<caf::actor(caf::event_based_actor*, const std::vector<caf::actor>&)> start;
    if (sink.aggregate.empty()) {
      start = [spawn_sink](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
        return caf::actor_cast<caf::actor>(spawn_sink(sup));
      };
    } else {
      aggregator_options a;
      a.pipeline = name;
      a.settings.interval_us = sink.aggregate_interval.count() * 1000;
      a.settings.grace_us = std::min<int64_t>(2'000'000, a.settings.interval_us);
      for (auto& primitive : sink.aggregate)
        a.settings.primitives |= bit(*parse_aggregate_primitive(primitive));
      a.spawn_sink = spawn_sink;
      start = [a](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
        return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(aggregating_sink, a));
      };
    }
    specs.push_back({"sink[" + std::to_string(i) + "]", start, false, true});
  }
  // The detector takes the enricher's batches as one more sink, only the
  // traffic of our hosts.
  if (p.detector.enabled) {
    flow_sinks.push_back(specs.size());
    auto o = detector_options(name, p.detector, caf::actor_cast<caf::actor>(speaker));
    if (reloadables)
      o.reloaded = reloadables->detector =
          std::make_shared<shared_value<detector_actor_options>>(o);
    specs.push_back({"detector",
                     [o](caf::event_based_actor* sup, const std::vector<caf::actor>&) {
                       return caf::actor_cast<caf::actor>(sup->spawn<caf::linked>(detector, o));
                     },
                     false, true, true});
  }
  // Without sinks nothing would read decoded flows: no enricher or decoder either.
  std::optional<size_t> decoder_index;
  if (!flow_sinks.empty() || !counter_sinks.empty()) {
    std::optional<size_t> enricher_index;
    if (!flow_sinks.empty()) {
      enricher_index = specs.size();
      auto e = enricher_options(name, p.enrichment);
      e.settings.bgp = bgp_settings(bgp, p.enrichment);
      e.settings.bgp.enabled = bgp_fields;
      for (auto& s : p.sinks)
        if (s.records == "flows")
          e.sink_scopes.push_back(scope_mask(s.scopes));
      if (p.detector.enabled)
        e.sink_scopes.push_back(scope_bit(traffic_scope::inbound) |
                                scope_bit(traffic_scope::outbound) |
                                scope_bit(traffic_scope::internal));
      specs.push_back({"enricher",
                       [e, flow_sinks, speaker](caf::event_based_actor* sup,
                                                const std::vector<caf::actor>& earlier) {
                         std::vector<flow_sink_actor> sinks;
                         for (auto i : flow_sinks)
                           sinks.push_back(caf::actor_cast<flow_sink_actor>(earlier[i]));
                         return caf::actor_cast<caf::actor>(
                             sup->spawn<caf::linked>(enricher, e, sinks, speaker));
                       },
                       false, false, true});
    }
    decoder_actor_options d;
    d.pipeline = name;
    d.kind = kind;
    d.decoding.pending_max_datagrams = p.decoder.pending_max_datagrams;
    d.decoding.pending_max_age_us = p.decoder.pending_max_age.count() * 1000;
    if (kind == decoder_kind::netflow)
      d.state_file = p.decoder.template_file;
    d.save_interval = p.decoder.template_save_interval;
    d.upstreams = upstreams;
    decoder_index = specs.size();
    specs.push_back({"decoder",
                     [d, enricher_index, counter_sinks](caf::event_based_actor* sup,
                                                        const std::vector<caf::actor>& earlier) {
                       // The enricher takes the decoder's batches as a sink would.
                       std::vector<flow_sink_actor> downstream;
                       if (enricher_index)
                         downstream.push_back(
                             caf::actor_cast<flow_sink_actor>(earlier[*enricher_index]));
                       std::vector<counter_sink_actor> counters;
                       for (auto i : counter_sinks)
                         counters.push_back(caf::actor_cast<counter_sink_actor>(earlier[i]));
                       return caf::actor_cast<caf::actor>(
                           sup->spawn<caf::linked>(decoder, d, downstream, counters));
                     },
                     false, false});
  }
  if (!allowed)
    allowed = std::make_shared<exporter_allow_list>(allowed_exporter_prefixes(p));
  for (auto& l : p.listeners) {
    for (uint32_t t = 0; t < p.receive_threads; ++t) {
      listener_options o;
      o.pipeline = name;
      o.socket.address = l.address;
      o.socket.port = l.port;
      o.socket.receive_buffer_bytes = p.receive_buffer_bytes;
      o.socket.batch = p.receive_batch;
      o.socket.linger = p.receive_linger;
      o.socket.allowed_exporters = allowed;
      o.direct_replicator = direct;
      // Only the replicator reads what a direct listener receives, and it
      // passes coalesced runs on whole (GSO) or takes them apart itself.
      o.socket.coalesce = direct != nullptr;
      specs.push_back(
          {"listener[" + l.address + "]:" + std::to_string(l.port) + "#" + std::to_string(t),
           [o, decoder_index, replicator_index](caf::event_based_actor* sup,
                                                const std::vector<caf::actor>& earlier) {
             decoder_actor dec;
             replicator_actor rep;
             if (decoder_index)
               dec = caf::actor_cast<decoder_actor>(earlier[*decoder_index]);
             if (replicator_index)
               rep = caf::actor_cast<replicator_actor>(earlier[*replicator_index]);
             return caf::actor_cast<caf::actor>(
                 sup->spawn<caf::linked + caf::detached>(listener, o, dec, rep));
           },
           true, false});
    }
  }
  return specs;
}

} // namespace

std::vector<child_spec> netflow_pipeline(const tidewatch_config& cfg,
                                         std::shared_ptr<exporter_allow_list> allowed,
                                         bgp_route_source_actor speaker,
                                         std::shared_ptr<pipeline_reloadables> reloadables) {
  return pipeline_children("netflow", cfg.pipelines.netflow, decoder_kind::netflow,
                           std::move(allowed), cfg.bgp, speaker, reloadables.get());
}

std::vector<child_spec> sflow_pipeline(const tidewatch_config& cfg,
                                       std::shared_ptr<exporter_allow_list> allowed,
                                       bgp_route_source_actor speaker,
                                       std::shared_ptr<pipeline_reloadables> reloadables) {
  return pipeline_children("sflow", cfg.pipelines.sflow, decoder_kind::sflow, std::move(allowed),
                           cfg.bgp, speaker, reloadables.get());
}

void update_reloadables(pipeline_reloadables& r, const pipeline_config& p) {
  if (r.detector && p.detector.enabled)
    r.detector->set(detector_options(r.pipeline, p.detector, r.speaker));
  if (r.receivers && !p.replicators.empty())
    r.receivers->set(replica_receivers(p));
}

std::vector<ip_prefix> allowed_exporter_prefixes(const pipeline_config& p) {
  return parse_prefixes(p.allowed_exporters);
}

} // namespace tidewatch
