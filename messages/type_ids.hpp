#pragma once

#include <caf/fwd.hpp>

namespace tidewatch {

/// Registers every message type that may cross a node. Every node calls this
/// on its actor_system_config before the system starts; a type missing here
/// fails only at run time, so it is the one place to add new ones.
void register_message_types(caf::actor_system_config& cfg);

} // namespace tidewatch
