#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <sys/socket.h>

#include "actors/listener/udp_receiver.hpp"
#include "actors/replicator/udp_packet.hpp"
#include "messages/datagram.hpp"

namespace tidewatch {

/// One receiver of replicated datagrams (samplicator's "-S addr/port/N").
struct replica_receiver {
  ip_address address;
  uint16_t port = 0;
  uint32_t sample_one_in = 1;            ///< 1: every datagram; N: the 1st, N+1st, ...
  std::vector<ip_prefix> from_exporters; ///< empty: datagrams of every exporter
  bool keep_source = false;              ///< send from the exporter's address and port (raw socket)
};

/// Why a datagram did not reach a receiver's socket.
enum class replication_error : uint8_t {
  refused,        ///< ECONNREFUSED: the receiver's port was closed (ICMP)
  unreachable,    ///< EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN
  no_buffer,      ///< ENOBUFS, ENOMEM: a device or qdisc queue was full
  would_block,    ///< EAGAIN: the socket's send buffer was full
  too_big,        ///< EMSGSIZE
  address_family, ///< keep_source with an IPv6 exporter and an IPv4 receiver (or the reverse)
  other,
};
inline constexpr size_t replication_error_count = 7;

const char* to_string(replication_error x);

/// What happened to the datagrams meant for one receiver.
struct replica_counters {
  uint64_t datagrams = 0; ///< handed to the kernel whole
  uint64_t bytes = 0;     ///< UDP payload bytes of those
  uint64_t sampled_out = 0;
  uint64_t filtered_out = 0; ///< from an exporter outside from_exporters
  std::array<uint64_t, replication_error_count> errors{};
};

/// Sends copies of received datagrams to a list of receivers, each with its
/// own socket, sampling and exporter filter, optionally keeping the
/// exporter's address and port as the source. Sends are batched (sendmmsg)
/// and never wait: a receiver that is down or slow loses its own datagrams
/// (counted) and holds up no other. Plain class without actors, so that it
/// can be tested and benchmarked alone.
class udp_replicator {
public:
  udp_replicator() = default;
  udp_replicator(const udp_replicator&) = delete;
  udp_replicator& operator=(const udp_replicator&) = delete;
  ~udp_replicator();

  /// Opens one socket per receiver: a connected UDP socket, or a raw socket
  /// for keep_source (which needs CAP_NET_RAW), closing those of an earlier
  /// open. On failure returns false with a reason that names the receiver.
  bool open(std::vector<replica_receiver> receivers, std::string& error,
            uint64_t send_buffer_bytes = 4ull << 20);

  /// Replaces the receivers (SIGHUP): opens the new set's sockets first and
  /// swaps it in only when all opened; otherwise keeps the current set and
  /// returns false with a reason. A receiver in both sets (same address,
  /// port, sampling, exporters and keep_source) keeps its counters and its
  /// place in the sampling sequence.
  bool replace(std::vector<replica_receiver> receivers, std::string& error,
               uint64_t send_buffer_bytes = 4ull << 20);

  /// Sends every datagram of the batch to every receiver that wants it; a
  /// coalesced run (datagram_info::segment) counts, samples and goes out as
  /// the datagrams it holds, as one GSO send where it can.
  void replicate(const datagram_batch& batch);

  size_t receiver_count() const { return receivers_.size(); }
  /// Batches replicate() was given.
  uint64_t batches() const { return batches_; }
  const replica_receiver& receiver(size_t i) const { return receivers_[i].config; }
  const replica_counters& counters(size_t i) const { return receivers_[i].counters; }
  /// "[2001:db8::1]:2055" or "192.0.2.1:2055", for logs and counter labels.
  std::string receiver_name(size_t i) const;
  /// The MTU spoofed packets to receiver i are fragmented for.
  uint32_t mtu(size_t i) const { return receivers_[i].mtu; }

  /// Whether copies to receiver i leave as UDP GSO sends (UDP_SEGMENT): runs
  /// of equal-sized datagrams in one sendmsg, which the kernel (or the NIC)
  /// cuts into datagrams. Plain receivers only; off where the kernel refused it.
  bool segmenting(size_t i) const { return receivers_[i].gso; }

private:
  /// One sendmmsg message: a datagram, a fragment of one (keep_source), or a
  /// GSO run of datagrams.
  struct per_message {
    uint32_t first_piece;  ///< into pieces_
    uint32_t pieces;       ///< pieces_ the message is made of
    uint32_t datagram_end; ///< index of the first message of the next datagram (or run)
    uint32_t datagrams;    ///< counted when the message that ends them was sent
    uint32_t bytes;        ///< payload bytes of those datagrams
    uint32_t first_length; ///< of the first datagram: a GSO run's segment size
    uint16_t segment = 0;  ///< GSO segment size; 0: one datagram (or fragment)
  };

  struct target {
    replica_receiver config;
    int fd = -1;       ///< connected UDP socket, or raw socket for keep_source
    int route_fd = -1; ///< keep_source: a connected UDP socket that tells the MTU
    bool connected = false;
    sockaddr_storage address{};
    socklen_t address_length = 0;
    uint32_t mtu = 1500;
    bool gso = false; ///< plain receiver, and the kernel takes UDP_SEGMENT
    uint64_t sample_counter = 0;
    replica_counters counters;
  };

  void close_sockets();
  void update_mtu(target& t);
  void build_messages(target& t, const datagram_batch& batch);
  /// Adds a plain receiver's datagram to the last message when it may extend
  /// that message's GSO run, else starts a message of its own.
  void add_plain_datagram(const target& t, const uint8_t* payload, uint32_t length);
  void send_messages(target& t);
  uint64_t payload_sum(const datagram_batch& batch, size_t i);

  std::vector<target> receivers_;
  uint64_t batches_ = 0;
  uint32_t next_identification_ = 1;
  // -- scratch reused across batches, so that sending allocates nothing once warm --
  std::vector<uint64_t> payload_sums_;
  std::vector<uint8_t> sum_known_;
  std::vector<uint8_t> headers_;
  std::vector<packet_piece> pieces_;
  std::vector<const uint8_t*> piece_payloads_;
  std::vector<per_message> message_info_;
  std::vector<iovec> iovecs_;
  std::vector<mmsghdr> messages_;
  /// UDP_SEGMENT control messages, one per sendmmsg message.
  struct segment_control {
    alignas(cmsghdr) uint8_t data[CMSG_SPACE(sizeof(uint16_t))];
  };
  std::vector<segment_control> controls_;
};

/// A udp_replicator that several threads use: the receive threads that
/// replicate straight from themselves (a pipeline that only replicates has
/// nothing else to hand batches to) and the actor that opens it and reports
/// its counters. One lock per batch, none per datagram.
class locked_replicator {
public:
  /// Calls f(udp_replicator&) under the lock and returns what it returns.
  template <class F> decltype(auto) with(F&& f) {
    std::lock_guard<std::mutex> guard(mutex_);
    return f(replicator_);
  }

private:
  std::mutex mutex_;
  udp_replicator replicator_;
};

} // namespace tidewatch
