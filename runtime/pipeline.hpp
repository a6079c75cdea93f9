#pragma once

#include <string>
#include <vector>

#include "actors/detector/detector_actor.hpp"
#include "actors/interfaces.hpp"
#include "actors/listener/udp_receiver.hpp"
#include "actors/replicator/replicator_actor.hpp"
#include "config/config.hpp"
#include "runtime/supervisor.hpp"

namespace tidewatch {

/// The settings of a running pipeline that SIGHUP replaces: the node keeps
/// one per pipeline and passes it to netflow_pipeline or sflow_pipeline,
/// which fill it; at SIGHUP the node calls update_reloadables() with the
/// re-read config, then sends `reload` to the pipeline's supervisor, whose
/// detector and replicator take their new settings from here.
struct pipeline_reloadables {
  std::string pipeline;
  caf::actor speaker; ///< the node's BGP speaker (for the detector's blackholes)
  std::shared_ptr<shared_value<detector_actor_options>> detector;         ///< null: no detector
  std::shared_ptr<shared_value<std::vector<replica_receiver>>> receivers; ///< null: no replicator
};

/// Puts the detector options and replication receivers of a re-read
/// (validated) pipeline config in place for the pipeline's next `reload`.
void update_reloadables(pipeline_reloadables& r, const pipeline_config& p);

/// The supervised children of the netflow pipeline, downstream first: the
/// replicator (when there are replicators), sinks and the decoder (when there
/// are sinks), then one listener per address and receive thread. Only
/// runtime/ knows this topology. The listeners read `allowed` (SIGHUP
/// replaces its content); null: a list of the config's allowed_exporters.
/// `speaker`: the node's BGP speaker, or its link to another node's (null:
/// none); the enricher subscribes to its routes and the detector asks it to
/// announce blackholes.
std::vector<child_spec>
netflow_pipeline(const tidewatch_config& cfg,
                 std::shared_ptr<exporter_allow_list> allowed = nullptr,
                 bgp_route_source_actor speaker = {},
                 std::shared_ptr<pipeline_reloadables> reloadables = nullptr);

/// The supervised children of the sFlow pipeline, in the same order: its own
/// sinks, an sFlow decoder and its own listeners (UDP 6343 by default).
std::vector<child_spec> sflow_pipeline(const tidewatch_config& cfg,
                                       std::shared_ptr<exporter_allow_list> allowed = nullptr,
                                       bgp_route_source_actor speaker = {},
                                       std::shared_ptr<pipeline_reloadables> reloadables = nullptr);

/// The prefixes of a validated config's allowed_exporters.
std::vector<ip_prefix> allowed_exporter_prefixes(const pipeline_config& p);

/// The supervisor's restart policy from the config.
restart_policy make_restart_policy(const tidewatch_config& cfg);

} // namespace tidewatch
