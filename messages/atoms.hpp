#pragma once

#include <caf/atom.hpp>

namespace tidewatch {

// Atoms name the control messages; each text is at most 10 characters.

/// Ask an actor for its stats_snapshot.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
/// Travels down a pipeline behind the last data message: each stage finishes
/// its in-flight work, flushes, and passes it on; the last stage acknowledges.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
/// A stage has drained and flushed.
using drained_atom = caf::atom_constant<caf::atom("drained")>;
/// Supervisor: restart a child after its backoff delay.
using restart_atom = caf::atom_constant<caf::atom("restart")>;
/// Credit returned by a downstream stage: it finished one batch.
using ack_atom = caf::atom_constant<caf::atom("ack")>;
/// Test hook: make an actor fail as a bug would.
using crash_atom = caf::atom_constant<caf::atom("crash")>;
/// Re-read files that can change at run time (prefix lists, databases).
using reload_atom = caf::atom_constant<caf::atom("reload")>;
/// Periodic internal timer.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Ask the BGP speaker for the status of every configured neighbor.
using neighbors_atom = caf::atom_constant<caf::atom("neighbors")>;
/// Ask the BGP speaker for the longest match of an address in a neighbor's routes.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
/// Subscribe a RIB replica to the BGP speaker's route changes.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// BGP: a TCP connection from a neighbor was accepted (acceptor to speaker).
using accept_atom = caf::atom_constant<caf::atom("accept")>;
/// BGP: a session ended (session to speaker).
using session_end_atom = caf::atom_constant<caf::atom("sess_end")>;
/// BGP: a gracefully restarting neighbor's restart time ran out.
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
/// Ask the detector for its active and recent attacks (an attack_list).
using attacks_atom = caf::atom_constant<caf::atom("attacks")>;
/// `(top, metric, direction, count)`: ask the detector for its top hosts.
using top_atom = caf::atom_constant<caf::atom("top")>;

/// Inspector: register a role's actor handle.
using register_atom = caf::atom_constant<caf::atom("register")>;
/// Inspector: the actor handle of a role.
using locate_atom = caf::atom_constant<caf::atom("locate")>;
/// Ask for a status (the node's, or a supervisor's children).
using status_atom = caf::atom_constant<caf::atom("status")>;
/// Ask a decoder for the templates it holds.
using templates_atom = caf::atom_constant<caf::atom("templates")>;
/// Liveness probe: answered by the actor at once.
using ping_atom = caf::atom_constant<caf::atom("ping")>;

} // namespace tidewatch
