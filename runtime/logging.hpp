#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

namespace tidewatch {

struct logging_config;

/// Sets up the default spdlog logger: stderr always, syslog when configured.
void setup_logging(const logging_config& cfg, const std::string& default_ident);

/// Lets through at most `burst` messages per `period` and counts the rest, so
/// that a flood of bad datagrams cannot flood the log. The next message that
/// passes says how many were suppressed. Thread-safe.
class rate_limited_log {
public:
  explicit rate_limited_log(uint32_t burst = 10,
                            std::chrono::milliseconds period = std::chrono::seconds(10))
      : burst_(burst), period_us_(period.count() * 1000) {}

  template <class... Ts> void warn(spdlog::format_string_t<Ts...> fmt, Ts&&... xs) {
    uint64_t suppressed = 0;
    if (admit(suppressed)) {
      auto text = fmt::format(fmt, std::forward<Ts>(xs)...);
      if (suppressed > 0)
        spdlog::warn("{} ({} similar messages suppressed)", text, suppressed);
      else
        spdlog::warn("{}", text);
    }
  }

  /// True when a message may be logged now; `suppressed` is then the count
  /// dropped since the last admitted one.
  bool admit(uint64_t& suppressed);
  uint64_t suppressed_total() const { return suppressed_total_.load(); }

private:
  uint32_t burst_;
  int64_t period_us_;
  std::atomic<int64_t> window_start_us_{0};
  std::atomic<uint32_t> in_window_{0};
  std::atomic<uint64_t> suppressed_since_{0};
  std::atomic<uint64_t> suppressed_total_{0};
};

} // namespace tidewatch
