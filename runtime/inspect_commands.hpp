#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/interfaces.hpp"

namespace tidewatch {

/// The options every inspection subcommand takes.
struct inspect_options {
  std::string node = "127.0.0.1:7790"; ///< --node host:port
  /// --config FILE: every node of its cluster (or its one node's inspector),
  /// with its TLS files unless --tls-* are given.
  std::string config;
  bool json = false; ///< --json
  /// --interval: time between the two snapshots rates are computed from.
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{5000}; ///< per request
  std::string certificate;                 ///< --tls-cert, --tls-key, --tls-ca: TLS
  std::string key;
  std::string ca_file;
  bool watch = false;            ///< --watch: `top` refreshes every interval until interrupted
  std::string neighbor;          ///< --neighbor: `bgp lookup` in this neighbor's routes only
  std::vector<std::string> args; ///< what the subcommand takes besides the options
};

/// A connection to one node's inspector, for the subcommands.
struct inspect_session {
  caf::actor_system& sys;
  caf::scoped_actor& self;
  inspector_actor inspector;
  const inspect_options& opts;

  /// Sends `request` to `whom` (the inspector, or an actor it located) and
  /// waits up to opts.timeout for a T; false (reason on `err`) on failure.
  template <class T, class Handle, class... Ts>
  bool ask(const Handle& whom, std::ostream& err, T& out, Ts... request) {
    bool ok = false;
    self->request(whom, opts.timeout, request...)
        .receive(
            [&](T& x) {
              out = std::move(x);
              ok = true;
            },
            [&](caf::error& e) {
              err << "tidewatch: " << opts.node << ": " << sys.render(e) << "\n";
            });
    return ok;
  }

  /// The actor registered under `role` (e.g. "netflow", "bgp"), to send
  /// requests to directly; false (reason on `err`) when there is none.
  bool locate(const std::string& role, caf::actor& out, std::ostream& err);

  /// Every role's stats snapshots; false (reason on `err`) on failure.
  bool stats(std::vector<stats_snapshot>& out, std::ostream& err);
  /// The node's status; false (reason on `err`) on failure.
  bool status(node_status& out, std::ostream& err);
};

/// One `tidewatch` subcommand that inspects a running node. Adding one (top,
/// attacks, bgp ...) is one entry in inspect_commands(): a name, a line of
/// help and a function that asks the session's inspector (or an actor it
/// locates) and prints the answer with a renderer.
struct inspect_command {
  const char* name;
  const char* help;
  int (*run)(inspect_session& session, std::ostream& out, std::ostream& err);
};

/// The table of inspection subcommands.
const std::vector<inspect_command>& inspect_commands();

/// Runs subcommand `name` (from inspect_commands()) with its arguments
/// (options first parsed from `args`) against the node: 0 on success, 1 when
/// the node cannot be reached or answers with an error, 2 on bad usage. With
/// --config, against every node of the file's cluster in turn, each answer
/// under its node's name (JSON: {"nodes": [...]}); a node that cannot be
/// reached is shown as unreachable and the others still answer (exit 1).
int run_inspect_command(const inspect_command& command, const std::vector<std::string>& args,
                        std::ostream& out, std::ostream& err);

} // namespace tidewatch
