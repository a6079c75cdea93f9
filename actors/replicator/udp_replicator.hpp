#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
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
  bool keep_source = false;              ///< send from the exporter's address and port
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
  /// keep_source: the exporter endpoints (address and port) known now whose
  /// copies leave from a UDP socket bound to them (IP_TRANSPARENT), and
  /// those whose copies go as raw packets because no such socket could be
  /// bound (e.g. the address and port are in use on this host).
  uint64_t source_sockets = 0;
  uint64_t raw_sources = 0;
  /// Endpoints forgotten (their socket closed) to make room for a new one,
  /// the one unused longest first.
  uint64_t source_evictions = 0;
};

/// Sends copies of received datagrams to a list of receivers, each with its
/// own socket, sampling and exporter filter, optionally keeping the
/// exporter's address and port as the source. Sends are batched (sendmmsg)
/// and never wait: a receiver that is down or slow loses its own datagrams
/// (counted) and holds up no other. Plain class without actors, so that it
/// can be tested and benchmarked alone.
class udp_replicator {
public:
  /// `max_source_sockets`: the most exporter endpoints one keep_source
  /// receiver keeps a socket (one file descriptor) for; a new endpoint
  /// beyond it takes the place of the one unused longest.
  explicit udp_replicator(size_t max_source_sockets = 4096)
      : max_source_sockets_(max_source_sockets) {}
  udp_replicator(const udp_replicator&) = delete;
  udp_replicator& operator=(const udp_replicator&) = delete;
  ~udp_replicator();

  /// Opens one socket per receiver: a connected UDP socket, or for
  /// keep_source a raw socket (which needs CAP_NET_RAW), closing those of an
  /// earlier open. keep_source copies go from a UDP socket per exporter
  /// endpoint, bound to the exporter's address and port with IP_TRANSPARENT
  /// (opened at the endpoint's first datagram; the kernel builds, fragments
  /// and GSO-segments them like any UDP send), and as raw packets built here
  /// where such a socket cannot be had. On failure returns false with a
  /// reason that names the receiver.
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
  bool segmenting(size_t i) const { return receivers_[i].plain.gso; }

private:
  /// A UDP socket that copies leave from: a plain receiver's, or one bound
  /// to an exporter's address and port for a keep_source receiver.
  struct send_socket {
    int fd = -1;
    bool connected = false; ///< to the receiver; retried before each send until it is
    bool gso = false;       ///< the kernel takes UDP_SEGMENT on it
    uint32_t mtu = 1500;    ///< of the route to the receiver
  };

  /// An exporter's address and port, as a keep_source receiver's copies
  /// leave from it.
  struct source_key {
    ip_address address;
    uint16_t port = 0;
    bool operator==(const source_key&) const = default;
  };
  struct source_key_hash {
    size_t operator()(const source_key& k) const;
  };

  /// A keep_source datagram waiting for its source socket's sendmmsg.
  struct source_datagram {
    uint32_t source; ///< into target::sources
    uint32_t length;
    const uint8_t* payload;
  };

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
    send_socket plain; ///< plain receivers
    // -- keep_source --
    int raw_fd = -1;   ///< raw socket (IP_HDRINCL / IPv6 IPPROTO_RAW)
    int route_fd = -1; ///< a connected UDP socket that tells the raw packets' MTU
    sockaddr_storage address{};
    socklen_t address_length = 0;
    uint32_t mtu = 1500; ///< of the route to the receiver
    /// Whether IP_TRANSPARENT could be set on a socket of the receiver's
    /// family at open; without it every copy goes as a raw packet.
    bool transparent = false;
    /// Per exporter endpoint: a bound socket, or fd -1 for raw packets;
    /// its address and port, and the last batch that used it.
    std::vector<send_socket> sources;
    std::vector<source_key> source_keys;
    std::vector<uint64_t> source_last_batch;
    std::unordered_map<source_key, uint32_t, source_key_hash> source_index;
    uint64_t sample_counter = 0;
    replica_counters counters;
  };

  void close_sockets();
  void update_mtu(target& t);
  /// The index into t.sources of an exporter endpoint's socket, opened (or
  /// found unopenable) at its first datagram; no_source when every slot is
  /// in use by this batch (the copies then go as raw packets).
  uint32_t source_socket(target& t, const ip_address& exporter, uint16_t port);
  void build_messages(target& t, const datagram_batch& batch);
  /// Adds a raw-packet copy (keep_source without a bound socket) of one
  /// datagram, fragmented to the receiver's MTU.
  void add_raw_datagram(target& t, const datagram_batch& batch, size_t i, const uint8_t* payload,
                        uint32_t length);
  /// Adds a datagram sent from a UDP socket to the last message when it may
  /// extend that message's GSO run, else starts a message of its own.
  void add_udp_datagram(const send_socket& s, bool v4, const uint8_t* payload, uint32_t length);
  /// Points messages_ at the pieces built; raw packets carry the receiver's address.
  void finish_messages(const target& t, bool raw);
  void clear_messages();
  /// Sends messages_ from a UDP socket (s) or, with s null, from t's raw socket.
  void send_messages(target& t, send_socket* s);
  /// Sends t's bound-socket copies in source_datagrams_, one sendmmsg run per socket.
  void send_from_sources(target& t);
  uint64_t payload_sum(const datagram_batch& batch, size_t i);

  std::vector<target> receivers_;
  uint64_t batches_ = 0;
  uint64_t send_buffer_bytes_ = 4ull << 20; ///< for the source sockets opened later
  size_t max_source_sockets_;
  static constexpr uint32_t no_source = UINT32_MAX;
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
  std::vector<source_datagram> source_datagrams_;
  std::vector<source_datagram> sorted_source_datagrams_;
  std::vector<uint32_t> source_starts_;
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
