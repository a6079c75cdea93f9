#include "runtime/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

namespace tidewatch {

bool notify_service_manager(const std::string& text) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || (path[0] != '/' && path[0] != '@'))
    return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  auto len = std::strlen(path);
  if (len >= sizeof(sa.sun_path))
    return false;
  std::memcpy(sa.sun_path, path, len);
  if (path[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  auto sent =
      ::sendto(fd, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&sa),
               socklen_t(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
  return sent == ssize_t(text.size());
}

std::chrono::microseconds watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec == nullptr || (pid != nullptr && std::strtol(pid, nullptr, 10) != ::getpid()))
    return {};
  return std::chrono::microseconds(std::strtoll(usec, nullptr, 10));
}

service_watchdog::service_watchdog(std::chrono::microseconds interval, std::function<bool()> alive)
    : alive_(std::move(alive)) {
  thread_ = std::thread([this, interval] { run(interval); });
}

service_watchdog::~service_watchdog() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void service_watchdog::run(std::chrono::microseconds interval) {
  auto last_alive = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock{mutex_};
  while (!wake_.wait_for(lock, interval / 2, [this] { return stop_; })) {
    lock.unlock();
    bool ok = alive_();
    auto now = std::chrono::steady_clock::now();
    lock.lock();
    if (stop_)
      return;
    if (ok) {
      last_alive = now;
      notify_service_manager("WATCHDOG=1");
    } else if (now - last_alive >= interval) {
      spdlog::critical(
          "watchdog: the actor system has not answered for {} ms; exiting",
          std::chrono::duration_cast<std::chrono::milliseconds>(now - last_alive).count());
      spdlog::default_logger()->flush();
      ::_exit(3);
    } else {
      spdlog::warn("watchdog: liveness probe failed; no ping this time");
    }
  }
}

} // namespace tidewatch
