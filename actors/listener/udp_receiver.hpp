#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

#include "actors/common/ip_prefix.hpp"
#include "messages/datagram.hpp"

namespace tidewatch {

/// The exporters a pipeline's listeners accept (empty: everyone), shared by
/// its receive threads and replaced as a whole on SIGHUP while they read it.
class exporter_allow_list {
public:
  explicit exporter_allow_list(std::vector<ip_prefix> prefixes = {}) {
    replace(std::move(prefixes));
  }

  /// Takes effect with each receiver's next batch.
  void replace(std::vector<ip_prefix> prefixes) {
    list_.store(std::make_shared<const std::vector<ip_prefix>>(std::move(prefixes)));
  }

  /// The list as it is now.
  std::shared_ptr<const std::vector<ip_prefix>> current() const { return list_.load(); }

private:
  std::atomic<std::shared_ptr<const std::vector<ip_prefix>>> list_;
};

/// A UDP socket tuned for flow export: big receive buffer, SO_REUSEPORT so
/// that several threads share one port, kernel drop counting (SO_RXQ_OVFL),
/// receive timestamps, and batch receive with recvmmsg. Plain class, no
/// actors, so it can be tested and benchmarked alone.
class udp_receiver {
public:
  struct options {
    std::string address = "::";
    uint16_t port = 0; ///< 0 picks a free port (tests)
    uint64_t receive_buffer_bytes = 32ull << 20;
    uint32_t batch = 64;
    std::shared_ptr<const exporter_allow_list> allowed_exporters; ///< null: everyone
    int timeout_ms = 100; ///< receive_batch returns at least this often
    /// After the first datagrams of a batch, wait this long once and take
    /// what arrived meanwhile, unless the batch is already full. Each batch
    /// costs the pipeline the same three actor hops (and thread wake-ups)
    /// however few datagrams it holds, so below the pipeline's capacity
    /// lingering about halves the collector's CPU for at most this much
    /// latency. At high rates batches fill at once and never wait.
    std::chrono::microseconds linger{0};
    /// UDP_GRO: the kernel may hand over a run of datagrams of one size from
    /// one exporter as one entry (datagram_info::segment says where they
    /// split). For consumers that pass runs on whole (a replicator sending
    /// them as GSO sends), not for those that need each datagram.
    bool coalesce = false;
  };

  udp_receiver() = default;
  udp_receiver(const udp_receiver&) = delete;
  udp_receiver& operator=(const udp_receiver&) = delete;
  ~udp_receiver();

  /// Opens and binds the socket; on failure returns false with the reason.
  bool open(const options& opts, std::string& error);

  /// Waits up to timeout_ms for datagrams, appends what one recvmmsg call
  /// returns to `out` and, when that was less than `batch` datagrams, lingers
  /// (options::linger) and appends what arrived meanwhile, up to `batch` in
  /// all. Returns the number appended.
  size_t receive_batch(datagram_batch& out) { return receive_batch(out, opts_.timeout_ms); }
  /// The same with another wait; 0 only takes what is already queued, at
  /// once (no lingering).
  size_t receive_batch(datagram_batch& out, int timeout_ms);

  uint16_t bound_port() const { return bound_port_; }
  /// Effective kernel receive buffer (the kernel doubles what was asked).
  uint64_t receive_buffer_bytes() const { return rcvbuf_; }
  /// Whether coalescing was asked for and the kernel took UDP_GRO.
  bool coalescing() const { return coalescing_; }

  // -- counters (a coalesced run counts as the datagrams it holds) --
  uint64_t datagrams() const { return datagrams_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t denied() const { return denied_; }       ///< from exporters not allowed
  uint64_t truncated() const { return truncated_; } ///< larger than the receive slot (64 KiB)
  /// Datagrams the kernel dropped on this socket (its buffer was full).
  /// SO_RXQ_OVFL reports the count with each received datagram; drops after
  /// the last datagram that arrived (a burst that ends with a full buffer)
  /// would go unseen that way, so every receive call also reads the
  /// socket's own counter (SO_MEMINFO) and the larger value counts.
  uint64_t kernel_drops() const { return kernel_drops_; }
  uint64_t receive_errors() const { return errors_; }

private:
  static constexpr size_t slot_size = 65536;

  /// One recvmmsg call of at most `max` datagrams, without waiting; appends
  /// the accepted ones to `out` and returns how many the kernel handed over
  /// (accepted or not).
  unsigned take(datagram_batch& out, unsigned max);

  int fd_ = -1;
  uint16_t bound_port_ = 0;
  uint64_t rcvbuf_ = 0;
  bool coalescing_ = false;
  options opts_;
  std::vector<uint8_t> buffers_;
  std::vector<sockaddr_storage> addrs_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> msgs_;
  std::vector<std::array<char, 128>> controls_;
  uint64_t datagrams_ = 0;
  uint64_t bytes_ = 0;
  uint64_t denied_ = 0;
  uint64_t truncated_ = 0;
  uint64_t kernel_drops_ = 0;
  uint32_t last_drops_raw_ = 0; ///< the kernel's 32-bit counter, last seen
  /// Takes a reading of the socket's drop counter (from either source; an
  /// older reading than one already seen is ignored, wrap-around is handled).
  void observe_drops(uint32_t raw);
  /// Reads the socket's drop counter with SO_MEMINFO.
  void read_socket_drops();
  uint64_t errors_ = 0;
};

} // namespace tidewatch
