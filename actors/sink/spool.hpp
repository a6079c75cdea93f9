#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidewatch {

/// A bounded, ordered on-disk queue of keyed messages: where the Kafka sink
/// puts what the broker cannot take now, and what is read back first on the
/// next start.
///
/// The spool is a directory of segment files `<20-digit id>.spool`, oldest id
/// first. A segment starts with the 8-byte magic "TWSPOOL1"; each message is a
/// little-endian u32 payload length, a u32 CRC-32 of the payload, and the
/// payload (u16 key length, key, value). A segment is read back whole and
/// deleted only once the caller says every message in it was delivered, so a
/// crash in between sends them again (at-least-once). A bad magic, a CRC
/// mismatch or a truncated message ends what is read from that segment; the
/// messages before it are returned, the rest is counted as corrupt, never
/// thrown.
class spool {
public:
  struct options {
    std::string directory;
    uint64_t max_bytes = 1ull << 30;     ///< all segments plus buffered data
    uint64_t segment_bytes = 8ull << 20; ///< a segment is closed once it holds this much
  };

  /// One message of a loaded segment: views into segment::data.
  struct message {
    std::string_view key;
    std::string_view value;
  };

  /// The messages of one closed segment, in the order they were appended.
  struct segment {
    uint64_t id = 0;
    std::string data;
    std::vector<message> messages;
  };

  /// Bytes a message of this key and value takes on disk.
  static constexpr uint64_t record_size(size_t key_length, size_t value_length) {
    return 8 + 2 + key_length + value_length;
  }

  spool() = default;
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;
  ~spool();

  /// Opens (creating) the directory and takes stock of the segments a
  /// previous run left there. False with a text in error when the directory
  /// cannot be created or read.
  bool open(const options& o, std::string* error);

  /// Appends one message; false when it does not fit within max_bytes or
  /// cannot be written (the caller counts the drop). Keys longer than 65535
  /// bytes are cut.
  bool append(std::string_view key, std::string_view value);

  /// Hands buffered messages to the kernel and, when sync is set, waits until
  /// they are on disk. False (and counted) on a write error.
  bool flush(bool sync = false);

  /// Closes the oldest segment for writing if needed and reads it into out;
  /// false when the spool is empty. The segment stays on disk (and counted in
  /// bytes()) until release(out.id).
  bool load_oldest(segment& out);

  /// Deletes a loaded segment once every message in it was delivered.
  void release(uint64_t id);

  /// True when no segment is on disk or being written.
  bool empty() const { return segments_.empty(); }
  /// Bytes on disk plus buffered, towards max_bytes.
  uint64_t bytes() const { return bytes_; }
  /// Segments on disk, loaded ones included.
  size_t segment_count() const { return segments_.size(); }
  uint64_t appended() const { return appended_; }
  /// Messages refused because the spool was full.
  uint64_t rejected() const { return rejected_; }
  /// Segments whose tail (or all) was unreadable, and the bytes lost there.
  uint64_t corrupt_segments() const { return corrupt_segments_; }
  uint64_t corrupt_bytes() const { return corrupt_bytes_; }
  uint64_t write_errors() const { return write_errors_; }

private:
  struct segment_file {
    uint64_t id = 0;
    uint64_t bytes = 0;
    bool loaded = false;
  };

  std::string path_of(uint64_t id) const;
  bool start_segment();
  void close_writer();
  bool parse(segment& out);

  options opts_;
  std::vector<segment_file> segments_; ///< oldest first; the last one may be open for writing
  std::string buffer_;                 ///< appended, not yet written
  int fd_ = -1;                        ///< the segment being written, when open
  uint64_t next_id_ = 1;
  uint64_t bytes_ = 0;
  uint64_t appended_ = 0;
  uint64_t rejected_ = 0;
  uint64_t corrupt_segments_ = 0;
  uint64_t corrupt_bytes_ = 0;
  uint64_t write_errors_ = 0;
};

} // namespace tidewatch
