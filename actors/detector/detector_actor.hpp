#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/common/shared_value.hpp"
#include "actors/detector/attack_actions.hpp"
#include "actors/detector/flow_detector.hpp"
#include "actors/interfaces.hpp"

namespace tidewatch {

/// What the detector does when an attack starts and ends.
struct detector_actions {
  std::string details_directory; ///< empty: no details files
  std::string notify_script;     ///< empty: none
  std::chrono::milliseconds notify_timeout{30'000};
  std::chrono::milliseconds details_delay{5'000}; ///< ban, then attack_details after this
  std::vector<std::string> email_command;         ///< empty: no mail
  std::string email_from;
  std::vector<std::string> email_to;
  std::chrono::milliseconds email_timeout{30'000};
  bool syslog = false;
  /// Standard communities for the blackhole route; the route is sent only
  /// when the detector has a BGP speaker.
  std::vector<uint32_t> blackhole_communities;
};

struct detector_actor_options {
  std::string pipeline;
  detector_settings settings;
  detector_actions actions;
  std::chrono::milliseconds tick_interval{100};
  /// Receives blackhole_route messages (the BGP speaker); none: no blackholing.
  caf::actor bgp_speaker;
  /// Where SIGHUP puts re-read options (null: none). The detector starts
  /// with them and takes them again at each `reload`: its settings, actions
  /// and speaker change, its tracked hosts and active attacks stay.
  std::shared_ptr<shared_value<detector_actor_options>> reloaded;
};

struct detector_state {
  detector_actor_options opts;
  std::unique_ptr<flow_detector> detector;
  child_processes children;
  std::vector<attack_event> events; ///< reused across batches
  /// Attacks whose attack_details notification is due at a time.
  std::vector<std::pair<uint64_t, int64_t>> details_due;
  uint64_t batches = 0;
  uint64_t bans = 0;
  uint64_t unbans = 0;
  uint64_t action_errors = 0;
  uint64_t blackholes_sent = 0;
  static inline const char* name = "detector";
};

/// Finds DoS attacks in the enriched flow batches it receives as a sink
/// (acknowledging each), runs the configured actions at ban and unban
/// without blocking, and answers `attacks` and `top` queries. `reload`
/// applies the options in opts.reloaded between two batches.
detector_actor::behavior_type detector(detector_actor::stateful_pointer<detector_state> self,
                                       detector_actor_options opts);

} // namespace tidewatch
