#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/stats.hpp"

namespace tidewatch {

/// How a supervisor reacts to failures.
struct restart_policy {
  uint32_t max_restarts = 5; ///< restarts allowed within `window`; one more and it gives up
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{10'000};
  /// Give up when draining takes longer than this.
  std::chrono::milliseconds drain_timeout{10'000};
};

/// One supervised child. `start` spawns it linked to the supervisor, given the
/// handles of the children started before it (its downstream stages).
struct child_spec {
  std::string name;
  std::function<caf::actor(caf::event_based_actor* supervisor,
                           const std::vector<caf::actor>& earlier)>
      start;
  bool drain_entry = false; ///< receives `(drain, coordinator)` from the supervisor
  bool drain_exit = false;  ///< reports `(drained, name)` when flushed
  bool reloadable = false;  ///< receives `reload` when the node is asked to re-read files
};

/// The backoff before the n-th consecutive restart (n >= 1): initial * 2^(n-1), capped.
std::chrono::milliseconds restart_backoff(const restart_policy& p, uint32_t n);

struct supervisor_state {
  std::string pipeline;
  restart_policy policy;
  std::vector<child_spec> specs;
  std::vector<caf::actor> children; ///< same order as specs; invalid while restarting
  std::vector<uint64_t> restarts;   ///< per child
  std::deque<caf::actor_clock::time_point> recent_restarts;
  bool restarting = false;
  bool draining = false;
  size_t drained = 0;
  caf::actor drain_requester;
  static inline const char* name = "supervisor";
};

/// A rest-for-one supervisor: children start in order (downstream first);
/// when one fails, it and every child started after it (those holding its
/// handle) are stopped and started again after an exponential backoff. Past
/// `max_restarts` within `window` it gives up and exits with ec::restart_limit,
/// which ends the process with a non-zero status so that systemd restarts it.
///
/// Messages: `stats` -> std::vector<stats_snapshot> (its own + every child's);
/// `drain` -> drains the pipeline from its entries to its exits, then quits
/// normally and replies `drained`; `reload` -> passed to every reloadable
/// child; `status` -> role_status (each child's name, handle and restarts);
/// `restart, index` (internal).
caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self, std::string pipeline,
                         restart_policy policy, std::vector<child_spec> specs);

} // namespace tidewatch
