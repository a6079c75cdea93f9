#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewatch {

/// An append-only output file that rotates itself by size and by age: the
/// full file is renamed to <stem>-YYYYmmdd-HHMMSS[-N]<ext> (the UTC time of its
/// first write; N counts up so no older file is ever overwritten) and writing
/// continues in a fresh file at the configured path. Writes are buffered and
/// reach the kernel on flush(), on rotation, or when the buffer is full.
class rotating_file {
public:
  struct options {
    std::string path;
    uint64_t rotate_bytes = 0;      ///< rotate before a file would exceed this; 0 = never
    int64_t rotate_interval_us = 0; ///< rotate once a file is this old; 0 = never
  };

  rotating_file() = default;
  rotating_file(const rotating_file&) = delete;
  rotating_file& operator=(const rotating_file&) = delete;
  ~rotating_file();

  /// Opens (creating parent directories) o.path for appending; on failure
  /// returns false and, when error is given, a text naming the path and cause.
  bool open(const options& o, std::string* error);

  /// Appends data at time now_us (µs since the epoch). Rotates first when the
  /// file's age has reached rotate_interval_us or when data would push it past
  /// rotate_bytes (a file always takes at least one write, however large).
  /// False when handing data to the kernel failed; what failed is dropped and
  /// counted in write_errors().
  bool write(std::string_view data, int64_t now_us);

  /// Hands buffered data to the kernel and, when sync is set, waits until it
  /// is on disk. False (and counted) on a write error.
  bool flush(bool sync = false);

  /// Flushes and closes the file. A later write() opens it again, as it does
  /// after a failed open() or rotation.
  void close();

  bool is_open() const { return fd_ >= 0; }
  /// Bytes that reached the kernel, over all files since construction.
  uint64_t bytes_written() const { return bytes_written_; }
  /// Completed rotations.
  uint64_t rotations() const { return rotations_; }
  /// Failed writes, flushes, renames and re-opens.
  uint64_t write_errors() const { return write_errors_; }
  /// The last error's text, empty when none happened.
  const std::string& last_error() const { return last_error_; }

private:
  bool open_current();
  bool write_out(const char* data, size_t length);
  bool rotate(int64_t now_us);
  void fail(std::string text);

  static constexpr size_t buffer_capacity = 256 * 1024;

  options opts_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t file_size_ = 0;              ///< on disk plus buffered
  int64_t file_started_us_ = INT64_MIN; ///< time of the current file's first write
  uint64_t bytes_written_ = 0;
  uint64_t rotations_ = 0;
  uint64_t write_errors_ = 0;
  std::string last_error_;
};

} // namespace tidewatch
