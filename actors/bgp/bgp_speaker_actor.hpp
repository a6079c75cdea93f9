#pragma once

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "config/config.hpp"

namespace tidewatch {

/// Spawns the node's BGP speaker: listens on bgp.address:bgp.port (port 0:
/// any free one) and runs one session actor, with its own socket thread, per
/// connected neighbor, linked to the speaker, which keeps their routes. A
/// listen failure ends the speaker with an error.
bgp_speaker_actor spawn_bgp_speaker(caf::actor_system& sys, const bgp_config& cfg);

} // namespace tidewatch
