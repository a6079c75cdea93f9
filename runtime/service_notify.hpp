#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace tidewatch {

/// Sends one sd_notify(3) message ("READY=1", "WATCHDOG=1", "STOPPING=1" ...)
/// as a datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading
/// '@' names an abstract socket), the protocol systemd documents; false when
/// the variable is unset or the datagram cannot be sent.
bool notify_service_manager(const std::string& text);

/// The watchdog interval systemd asks for ($WATCHDOG_USEC, for this process
/// when $WATCHDOG_PID is set); zero when none.
std::chrono::microseconds watchdog_interval();

/// Pings the service manager's watchdog (WATCHDOG=1) every half interval,
/// but only after `alive` (a liveness probe of the actor system) returned
/// true: a wedged scheduler stops the pings and systemd kills and restarts
/// the process. When probes keep failing for a whole interval the process
/// also exits by itself (status 3, `_exit` since a wedged system cannot shut
/// down), so that any supervisor that restarts failed services sees it.
class service_watchdog {
public:
  service_watchdog(std::chrono::microseconds interval, std::function<bool()> alive);
  ~service_watchdog();

  service_watchdog(const service_watchdog&) = delete;
  service_watchdog& operator=(const service_watchdog&) = delete;

private:
  void run(std::chrono::microseconds interval);

  std::function<bool()> alive_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace tidewatch
