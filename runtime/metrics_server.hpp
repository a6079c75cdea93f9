#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"

namespace tidewatch {

/// The Prometheus endpoint: serves GET /metrics (text format 0.0.4) on its own
/// thread with Boost.Beast; each scrape asks the inspector for every stage's
/// snapshot and renders it with render_prometheus. Other paths answer 404,
/// other methods 405; a node that does not answer in time gives 503.
/// Connections are served one at a time, each bounded by a 5 s socket timeout.
class metrics_server {
public:
  /// Listens on host:port (port 0: the kernel picks one); nullptr, with the
  /// reason in `error`, when it cannot.
  static std::unique_ptr<metrics_server> start(caf::actor_system& sys, inspector_actor inspector,
                                               const std::string& host, uint16_t port,
                                               std::string& error);

  /// Stops serving and joins the thread.
  ~metrics_server();

  /// The port it listens on.
  uint16_t port() const;

  struct impl;

private:
  explicit metrics_server(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace tidewatch
