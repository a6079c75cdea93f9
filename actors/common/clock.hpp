#pragma once

#include <chrono>
#include <cstdint>

namespace tidewatch {

/// Wall-clock time in µs since the Unix epoch, the unit of every timestamp
/// in a flow_record.
inline int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace tidewatch
