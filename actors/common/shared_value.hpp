#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace tidewatch {

/// A value that one thread replaces while others read it: readers take a
/// snapshot (a shared pointer that stays valid while they hold it), a writer
/// swaps in a whole new value. The node puts re-read settings here at SIGHUP
/// and the actors that use them take them at their next `reload`.
template <class T> class shared_value {
public:
  explicit shared_value(T value) : value_(std::make_shared<const T>(std::move(value))) {}

  /// The current value.
  std::shared_ptr<const T> get() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return value_;
  }

  /// Replaces the value; snapshots taken before keep the old one.
  void set(T value) {
    auto fresh = std::make_shared<const T>(std::move(value));
    std::lock_guard<std::mutex> guard(mutex_);
    value_ = std::move(fresh);
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

} // namespace tidewatch
