#pragma once

#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "runtime/supervisor.hpp"

namespace tidewatch {

/// The supervised children of the netflow pipeline, downstream first: the
/// replicator (when there are replicators), sinks and the decoder (when there
/// are sinks), then one listener per address and receive thread. Only
/// runtime/ knows this topology. With a BGP speaker (null: none), the
/// enricher subscribes to its routes.
std::vector<child_spec> netflow_pipeline(const tidewatch_config& cfg,
                                         bgp_speaker_actor speaker = {});

/// The supervised children of the sFlow pipeline, in the same order: its own
/// sinks, an sFlow decoder and its own listeners (UDP 6343 by default).
std::vector<child_spec> sflow_pipeline(const tidewatch_config& cfg, bgp_speaker_actor speaker = {});

/// The supervisor's restart policy from the config.
restart_policy make_restart_policy(const tidewatch_config& cfg);

} // namespace tidewatch
