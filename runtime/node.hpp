#pragma once

#include <string>

#include <caf/actor_system_config.hpp>

#include "config/config.hpp"

namespace tidewatch {

/// CAF settings every tidewatch process uses: message types, middleman,
/// scheduler threads from the node config.
struct node_system_config : caf::actor_system_config {
  explicit node_system_config(const tidewatch_config& cfg);
};

/// Renders tidewatch's errors (ec) as "tidewatch:<code>: <context>".
void add_error_rendering(caf::actor_system_config& cfg);

/// Loads CAF's openssl module with this certificate, key and CA file: every
/// connection the system then publishes or opens with caf::openssl is TLS,
/// and each side must present a certificate signed by a CA in `ca_file`.
void enable_tls(caf::actor_system_config& cfg, const std::string& certificate,
                const std::string& key, const std::string& ca_file);

/// Runs a node until SIGTERM/SIGINT (drain, flush, exit 0) or until a
/// pipeline gives up (non-zero). SIGHUP re-reads `config_path` and applies
/// what can change without a restart. Block SIGTERM, SIGINT and SIGHUP in
/// every thread before calling (block_signals), so that no CAF thread takes them.
int run_node(const tidewatch_config& cfg, const std::string& config_path);

/// Blocks the signals run_node waits for, in the calling thread and all
/// threads started after.
void block_signals();

} // namespace tidewatch
