#include "runtime/logging.hpp"

#include <syslog.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>

#include "config/config.hpp"

namespace tidewatch {

void setup_logging(const logging_config& cfg, const std::string& default_ident) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (cfg.syslog) {
    auto ident = cfg.syslog_ident.empty() ? default_ident : cfg.syslog_ident;
    sinks.push_back(std::make_shared<spdlog::sinks::syslog_sink_mt>(
        ident, LOG_PID, syslog_facility_code(cfg.syslog_facility), false));
  }
  auto logger = std::make_shared<spdlog::logger>("tidewatch", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::from_str(cfg.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

bool rate_limited_log::admit(uint64_t& suppressed) {
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  auto start = window_start_us_.load(std::memory_order_relaxed);
  if (now - start >= period_us_ &&
      window_start_us_.compare_exchange_strong(start, now, std::memory_order_relaxed))
    in_window_.store(0, std::memory_order_relaxed);
  if (in_window_.fetch_add(1, std::memory_order_relaxed) < burst_) {
    suppressed = suppressed_since_.exchange(0, std::memory_order_relaxed);
    return true;
  }
  suppressed_since_.fetch_add(1, std::memory_order_relaxed);
  suppressed_total_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

} // namespace tidewatch
