#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace tidewatch {

/// tidewatch's error codes. They travel between nodes inside caf::error, so
/// their numbers are pinned: never renumber, only append.
enum class ec : uint8_t {
  /// A supervisor saw more restarts within its window than allowed.
  restart_limit = 1,
  /// A listener could not open or bind its socket.
  cannot_listen = 2,
  /// A sink could not open or write its output.
  sink_failed = 3,
  /// A file a stage cannot run without (e.g. the prefix list) could not be loaded.
  cannot_load = 4,
  /// A replicator could not open a receiver's socket (e.g. no CAP_NET_RAW).
  cannot_replicate = 5,
  /// No actor is registered under the role an inspector was asked to locate.
  unknown_role = 6,
};

inline constexpr caf::atom_value error_category = caf::atom("tidewatch");

inline const char* to_string(ec x) {
  switch (x) {
  case ec::restart_limit:
    return "restart_limit";
  case ec::cannot_listen:
    return "cannot_listen";
  case ec::sink_failed:
    return "sink_failed";
  case ec::cannot_load:
    return "cannot_load";
  case ec::cannot_replicate:
    return "cannot_replicate";
  case ec::unknown_role:
    return "unknown_role";
  }
  return "unknown";
}

/// An error of our category with a human-readable context.
inline caf::error make_error(ec code, std::string context) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(context))};
}

} // namespace tidewatch
