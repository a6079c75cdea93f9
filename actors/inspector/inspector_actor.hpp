#pragma once

#include <map>
#include <string>

#include "actors/interfaces.hpp"

namespace tidewatch {

struct inspector_state {
  std::string node;
  int64_t started_us = 0;
  std::map<std::string, caf::actor> roles;
  static inline const char* name = "inspector";
};

/// The node's directory: keeps role -> actor handle (an actor that goes down
/// leaves the directory), locates roles for remote clients and gathers the
/// node's status and every role's stats. Each role's actor answers
/// `status` with a role_status and `stats` with a std::vector<stats_snapshot>
/// (as a supervisor does); a role that does not answer within `timeout` is
/// listed without children or stats.
inspector_actor::behavior_type inspector(inspector_actor::stateful_pointer<inspector_state> self,
                                         std::string node, caf::timespan timeout);

} // namespace tidewatch
