#include "actors/replicator/udp_replicator.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tidewatch {

namespace {

/// The most datagrams one GSO send may carry (the kernel's UDP_MAX_SEGMENTS
/// was 64 before Linux 6.7).
constexpr uint32_t max_gso_datagrams = 64;
/// The most payload bytes one GSO send may carry: one IPv4 packet's worth.
constexpr uint32_t max_gso_bytes = 65535 - 20 - 8;

replication_error classify(int error) {
  switch (error) {
  case ECONNREFUSED:
    return replication_error::refused;
  case EHOSTUNREACH:
  case ENETUNREACH:
  case EHOSTDOWN:
  case ENETDOWN:
    return replication_error::unreachable;
  case ENOBUFS:
  case ENOMEM:
    return replication_error::no_buffer;
  case EAGAIN:
    return replication_error::would_block;
  case EMSGSIZE:
    return replication_error::too_big;
  default:
    return replication_error::other;
  }
}

socklen_t to_sockaddr(const ip_address& a, uint16_t port, sockaddr_storage& out) {
  out = {};
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data() + 12, 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  return sizeof(sockaddr_in6);
}

void set_send_buffer(int fd, uint64_t bytes) {
  // SO_SNDBUFFORCE passes net.core.wmem_max when we are root.
  int want = int(std::min<uint64_t>(bytes, INT32_MAX / 2));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

/// A UDP socket of the receiver's family; connected to it, it sends (and
/// reports ICMP errors) for plain receivers and tells the route MTU for
/// spoofing ones.
int udp_socket(const replica_receiver& r, std::string& error) {
  int fd = ::socket(r.address.is_v4() ? AF_INET : AF_INET6,
                    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  return fd;
}

bool try_connect(int fd, const replica_receiver& r) {
  sockaddr_storage ss;
  auto len = to_sockaddr(r.address, r.port, ss);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

/// The route MTU of a connected UDP socket, when the kernel tells it.
void read_mtu(int fd, bool v4, uint32_t& mtu) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &value, &len) == 0 &&
      value > 0)
    mtu = uint32_t(value);
}

/// Whether the kernel takes UDP_SEGMENT (Linux 4.18 and later); setting 0
/// asks without changing how the socket sends.
bool supports_gso(int fd) {
  int zero = 0;
  return ::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
}

} // namespace

const char* to_string(replication_error x) {
  switch (x) {
  case replication_error::refused:
    return "refused";
  case replication_error::unreachable:
    return "unreachable";
  case replication_error::no_buffer:
    return "no_buffer";
  case replication_error::would_block:
    return "would_block";
  case replication_error::too_big:
    return "too_big";
  case replication_error::address_family:
    return "address_family";
  case replication_error::other:
    return "other";
  }
  return "unknown";
}

udp_replicator::~udp_replicator() {
  close_sockets();
}

size_t udp_replicator::source_key_hash::operator()(const source_key& k) const {
  uint64_t a, b;
  std::memcpy(&a, k.address.bytes.data(), 8);
  std::memcpy(&b, k.address.bytes.data() + 8, 8);
  return size_t((a * 0x9E3779B97F4A7C15ull) ^ (b + k.port) * 0xC2B2AE3D27D4EB4Full);
}

void udp_replicator::close_sockets() {
  for (auto& t : receivers_) {
    for (int fd : {t.plain.fd, t.raw_fd, t.route_fd})
      if (fd >= 0)
        ::close(fd);
    for (auto& s : t.sources)
      if (s.fd >= 0)
        ::close(s.fd);
  }
  receivers_.clear();
}

std::string udp_replicator::receiver_name(size_t i) const {
  auto& r = receivers_[i].config;
  auto text = r.address.to_string();
  return (r.address.is_v4() ? text : "[" + text + "]") + ":" + std::to_string(r.port);
}

namespace {

/// IP_TRANSPARENT lets a UDP socket bind to an address that is not this
/// host's (and send from it); it needs CAP_NET_RAW or CAP_NET_ADMIN.
bool set_transparent(int fd, bool v4) {
  int one = 1;
  return v4 ? ::setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) == 0
            : ::setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == 0;
}

void open_plain(int fd, const replica_receiver& r, uint64_t send_buffer_bytes, bool& gso,
                bool& connected, uint32_t& mtu) {
  set_send_buffer(fd, send_buffer_bytes);
  gso = supports_gso(fd);
  // A receiver without a route yet is no error: connecting is retried.
  connected = try_connect(fd, r);
  if (connected)
    read_mtu(fd, r.address.is_v4(), mtu);
}

} // namespace

bool udp_replicator::open(std::vector<replica_receiver> receivers, std::string& error,
                          uint64_t send_buffer_bytes) {
  close_sockets();
  send_buffer_bytes_ = send_buffer_bytes;
  receivers_.resize(receivers.size());
  for (size_t i = 0; i < receivers.size(); ++i) {
    auto& t = receivers_[i];
    t.config = std::move(receivers[i]);
    if (t.config.sample_one_in == 0)
      t.config.sample_one_in = 1;
    std::string why;
    int udp = udp_socket(t.config, why);
    if (udp < 0) {
      error = "receiver " + receiver_name(i) + ": " + why;
      close_sockets(); // none half-open: a shared replicator may still be used
      return false;
    }
    if (!t.config.keep_source) {
      t.plain.fd = udp;
      open_plain(udp, t.config, send_buffer_bytes, t.plain.gso, t.plain.connected, t.plain.mtu);
      continue;
    }
    t.route_fd = udp;
    bool v4 = t.config.address.is_v4();
    // IPPROTO_RAW implies that we write the IP header (IP_HDRINCL; for IPv6
    // likewise), which is what lets the exporter's address be the source.
    t.raw_fd =
        ::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
    if (t.raw_fd < 0) {
      auto e = errno;
      error =
          "receiver " + receiver_name(i) + ": keep_source needs a raw socket: " + std::strerror(e);
      if (e == EPERM || e == EACCES)
        error += " (it needs CAP_NET_RAW: run tidewatchd as root, give it AmbientCapabilities="
                 "CAP_NET_RAW in its systemd unit, or `setcap cap_net_raw+ep` the binary)";
      close_sockets();
      return false;
    }
    set_send_buffer(t.raw_fd, send_buffer_bytes);
    // Raw sockets take the destination without a port (IPv6 refuses any other).
    t.address_length = to_sockaddr(t.config.address, 0, t.address);
    update_mtu(t);
    // Kernels before 5.8 want CAP_NET_ADMIN for IP_TRANSPARENT; without it
    // every copy goes as a raw packet, as it would without the option.
    t.transparent = set_transparent(udp, v4);
  }
  return true;
}

uint32_t udp_replicator::source_socket(target& t, const ip_address& exporter, uint16_t port) {
  source_key key{exporter, port};
  auto found = t.source_index.find(key);
  if (found != t.source_index.end()) {
    t.source_last_batch[found->second] = batches_;
    return found->second;
  }
  // A slot of its own, or the one unused longest (exporters that went away,
  // or that send from a new port after each restart) when all are taken.
  uint32_t slot = uint32_t(t.sources.size());
  if (t.sources.size() >= max_source_sockets_) {
    slot = no_source;
    for (uint32_t i = 0; i < t.sources.size(); ++i)
      if (t.source_last_batch[i] < batches_ &&
          (slot == no_source || t.source_last_batch[i] < t.source_last_batch[slot]))
        slot = i;
    if (slot == no_source)
      return no_source; // every slot has copies waiting in this batch
    auto& old = t.sources[slot];
    if (old.fd >= 0)
      ::close(old.fd);
    --(old.fd >= 0 ? t.counters.source_sockets : t.counters.raw_sources);
    ++t.counters.source_evictions;
    t.source_index.erase(t.source_keys[slot]);
  }
  send_socket s;
  bool v4 = exporter.is_v4();
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_storage ss;
  auto len = to_sockaddr(exporter, port, ss);
  int one = 1;
  // SO_REUSEADDR lets an exporter on this host that set it too keep its own
  // socket on the same address and port.
  if (fd >= 0 && set_transparent(fd, v4) &&
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
      ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    s.fd = fd;
    open_plain(fd, t.config, send_buffer_bytes_, s.gso, s.connected, s.mtu);
  } else if (fd >= 0) {
    ::close(fd);
  }
  ++(s.fd >= 0 ? t.counters.source_sockets : t.counters.raw_sources);
  if (slot == t.sources.size()) {
    t.sources.push_back(s);
    t.source_keys.push_back(key);
    t.source_last_batch.push_back(batches_);
  } else {
    t.sources[slot] = s;
    t.source_keys[slot] = key;
    t.source_last_batch[slot] = batches_;
  }
  t.source_index.emplace(key, slot);
  return slot;
}

namespace {

bool same_receiver(const replica_receiver& a, const replica_receiver& b) {
  auto same_prefix = [](const ip_prefix& x, const ip_prefix& y) {
    return x.network == y.network && x.length == y.length;
  };
  return a.address == b.address && a.port == b.port &&
         std::max<uint32_t>(a.sample_one_in, 1) == std::max<uint32_t>(b.sample_one_in, 1) &&
         a.keep_source == b.keep_source &&
         std::equal(a.from_exporters.begin(), a.from_exporters.end(), b.from_exporters.begin(),
                    b.from_exporters.end(), same_prefix);
}

} // namespace

bool udp_replicator::replace(std::vector<replica_receiver> receivers, std::string& error,
                             uint64_t send_buffer_bytes) {
  udp_replicator fresh(max_source_sockets_);
  if (!fresh.open(std::move(receivers), error, send_buffer_bytes))
    return false;
  std::vector<bool> taken(receivers_.size(), false);
  for (auto& t : fresh.receivers_)
    for (size_t i = 0; i < receivers_.size(); ++i)
      if (!taken[i] && same_receiver(t.config, receivers_[i].config)) {
        taken[i] = true;
        t.counters = receivers_[i].counters;
        t.sample_counter = receivers_[i].sample_counter;
        // Its exporters' bound sockets go on sending to the same receiver.
        std::swap(t.sources, receivers_[i].sources);
        std::swap(t.source_keys, receivers_[i].source_keys);
        std::swap(t.source_last_batch, receivers_[i].source_last_batch);
        std::swap(t.source_index, receivers_[i].source_index);
        break;
      }
  // The old sockets close with `fresh`.
  std::swap(receivers_, fresh.receivers_);
  return true;
}

void udp_replicator::update_mtu(target& t) {
  // Raw packets are fragmented here, to the MTU of the receiver's route.
  if (try_connect(t.route_fd, t.config))
    read_mtu(t.route_fd, t.config.address.is_v4(), t.mtu);
}

uint64_t udp_replicator::payload_sum(const datagram_batch& batch, size_t i) {
  if (!sum_known_[i]) {
    auto& info = batch.datagrams[i];
    payload_sums_[i] = checksum_add(0, batch.data(info), info.length);
    sum_known_[i] = 1;
  }
  return payload_sums_[i];
}

void udp_replicator::replicate(const datagram_batch& batch) {
  ++batches_;
  payload_sums_.resize(batch.size());
  sum_known_.assign(batch.size(), 0);
  for (auto& t : receivers_) {
    build_messages(t, batch);
    finish_messages(t, t.config.keep_source);
    send_messages(t, t.config.keep_source ? nullptr : &t.plain);
    if (!source_datagrams_.empty())
      send_from_sources(t);
  }
}

void udp_replicator::clear_messages() {
  headers_.clear();
  pieces_.clear();
  piece_payloads_.clear();
  message_info_.clear();
}

void udp_replicator::add_udp_datagram(const send_socket& s, bool v4, const uint8_t* payload,
                                      uint32_t length) {
  if (s.gso && !message_info_.empty()) {
    // A GSO send is cut into segments of the first datagram's size: every
    // datagram of a run but the last has that size, the last at most that.
    auto& m = message_info_.back();
    auto segment = m.first_length;
    auto ip_and_udp = uint32_t(v4 ? 28 : 48);
    if (m.datagrams < max_gso_datagrams && m.bytes == m.datagrams * segment && length > 0 &&
        length <= segment && segment + ip_and_udp <= s.mtu && m.bytes + length <= max_gso_bytes) {
      ++m.datagrams;
      m.bytes += length;
      m.segment = uint16_t(segment);
      // Datagrams that lie back to back in the batch (as those of one
      // receive call do) share one iovec.
      auto last = m.first_piece + m.pieces - 1;
      auto& piece = pieces_[last];
      if (piece_payloads_[last] + piece.payload_offset + piece.payload_length == payload) {
        piece.payload_length += length;
        return;
      }
      ++m.pieces;
      pieces_.push_back({0, 0, 0, length});
      piece_payloads_.push_back(payload);
      return;
    }
  }
  auto piece = uint32_t(pieces_.size());
  pieces_.push_back({0, 0, 0, length});
  piece_payloads_.push_back(payload);
  auto index = uint32_t(message_info_.size());
  message_info_.push_back({piece, 1, index + 1, 1, length, length, 0});
}

void udp_replicator::add_raw_datagram(target& t, const datagram_batch& batch, size_t i,
                                      const uint8_t* payload, uint32_t length) {
  auto& info = batch.datagrams[i];
  udp_packet_spec spec;
  spec.source = info.exporter;
  spec.source_port = info.exporter_port;
  spec.destination = t.config.address;
  spec.destination_port = t.config.port;
  spec.mtu = t.mtu;
  if ((next_identification_ & 0xffff) == 0)
    ++next_identification_; // an IPv4 ID of 0 would be replaced by the kernel's
  spec.identification = next_identification_++;
  auto first = uint32_t(pieces_.size());
  // The sum of a whole datagram is shared by the receivers; that of a
  // run's datagram is taken for each.
  auto sum = info.segment == 0 ? payload_sum(batch, i) : checksum_add(0, payload, length);
  auto pieces = build_udp_packets(spec, length, sum, headers_, pieces_);
  auto end = uint32_t(message_info_.size() + pieces);
  for (size_t k = 0; k < pieces; ++k) {
    piece_payloads_.push_back(payload);
    message_info_.push_back({first + uint32_t(k), 1, end, 1, length, length, 0});
  }
}

void udp_replicator::build_messages(target& t, const datagram_batch& batch) {
  clear_messages();
  source_datagrams_.clear();
  auto& c = t.counters;
  bool v4 = t.config.address.is_v4();
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& info = batch.datagrams[i];
    if (!t.config.from_exporters.empty()) {
      bool wanted = false;
      for (auto& p : t.config.from_exporters)
        wanted = wanted || p.contains(info.exporter);
      if (!wanted) {
        c.filtered_out += info.datagram_count(); // a coalesced run has one exporter
        continue;
      }
    }
    if (t.config.keep_source && info.exporter.is_v4() != v4) {
      for (uint32_t k = 0; k < info.datagram_count(); ++k)
        if (t.sample_counter++ % t.config.sample_one_in != 0)
          ++c.sampled_out;
        else
          ++c.errors[size_t(replication_error::address_family)];
      continue;
    }
    // The exporter endpoint's bound socket, looked up once per datagram or
    // coalesced run (which has one exporter and port).
    uint32_t source = 0;
    bool bound = false;
    if (t.config.keep_source && t.transparent) {
      source = source_socket(t, info.exporter, info.exporter_port);
      bound = source != no_source && t.sources[source].fd >= 0;
    }
    // A coalesced run (UDP_GRO) is taken apart here, datagram by datagram,
    // for sampling; consecutive ones go back together into GSO sends.
    auto* data = batch.data(info);
    uint32_t step = info.segment == 0 ? info.length : info.segment;
    uint32_t offset = 0;
    do {
      auto* payload = data + offset;
      auto length = std::min(step, info.length - offset);
      offset += length;
      if (t.sample_counter++ % t.config.sample_one_in != 0) {
        ++c.sampled_out;
        continue;
      }
      if (!t.config.keep_source)
        add_udp_datagram(t.plain, v4, payload, length);
      else if (bound)
        source_datagrams_.push_back({source, length, payload});
      else
        add_raw_datagram(t, batch, i, payload, length);
    } while (offset < info.length);
  }
}

void udp_replicator::finish_messages(const target& t, bool raw) {
  // Pointers last: the vectors built may have moved while growing.
  auto n = message_info_.size();
  iovecs_.resize(2 * pieces_.size());
  messages_.resize(n);
  controls_.resize(n);
  size_t next_iov = 0;
  for (size_t j = 0; j < n; ++j) {
    auto& m = message_info_[j];
    auto first_iov = next_iov;
    for (auto k = m.first_piece; k < m.first_piece + m.pieces; ++k) {
      auto& piece = pieces_[k];
      if (piece.header_length > 0)
        iovecs_[next_iov++] = {headers_.data() + piece.header_offset, piece.header_length};
      iovecs_[next_iov++] = {const_cast<uint8_t*>(piece_payloads_[k] + piece.payload_offset),
                             piece.payload_length};
    }
    auto& h = messages_[j].msg_hdr;
    h = {};
    h.msg_iov = iovecs_.data() + first_iov;
    h.msg_iovlen = next_iov - first_iov;
    if (raw) {
      h.msg_name = const_cast<sockaddr_storage*>(&t.address);
      h.msg_namelen = t.address_length;
    }
    if (m.segment != 0) {
      h.msg_control = controls_[j].data;
      h.msg_controllen = sizeof(controls_[j].data);
      auto* cmsg = CMSG_FIRSTHDR(&h);
      cmsg->cmsg_level = IPPROTO_UDP;
      cmsg->cmsg_type = UDP_SEGMENT;
      cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      std::memcpy(CMSG_DATA(cmsg), &m.segment, sizeof(uint16_t));
    }
  }
}

void udp_replicator::send_from_sources(target& t) {
  // Stable counting sort by source socket: one sendmmsg run per socket, each
  // exporter's datagrams in the order they came.
  source_starts_.assign(t.sources.size() + 1, 0);
  for (auto& d : source_datagrams_)
    ++source_starts_[d.source + 1];
  for (size_t s = 1; s < source_starts_.size(); ++s)
    source_starts_[s] += source_starts_[s - 1];
  sorted_source_datagrams_.resize(source_datagrams_.size());
  for (auto& d : source_datagrams_)
    sorted_source_datagrams_[source_starts_[d.source]++] = d;
  bool v4 = t.config.address.is_v4();
  size_t i = 0;
  while (i < sorted_source_datagrams_.size()) {
    auto source = sorted_source_datagrams_[i].source;
    clear_messages();
    for (; i < sorted_source_datagrams_.size() && sorted_source_datagrams_[i].source == source; ++i)
      add_udp_datagram(t.sources[source], v4, sorted_source_datagrams_[i].payload,
                       sorted_source_datagrams_[i].length);
    finish_messages(t, false);
    send_messages(t, &t.sources[source]);
  }
}

void udp_replicator::send_messages(target& t, send_socket* s) {
  auto n = messages_.size();
  auto& c = t.counters;
  auto fail_all_from = [&](size_t i, replication_error why) {
    for (; i < n; i = message_info_[i].datagram_end)
      c.errors[size_t(why)] += message_info_[i].datagrams;
  };
  if (n == 0)
    return;
  if (s && !s->connected) {
    s->connected = try_connect(s->fd, t.config);
    if (!s->connected) {
      fail_all_from(0, classify(errno));
      return;
    }
    read_mtu(s->fd, t.config.address.is_v4(), s->mtu);
  }
  int fd = s ? s->fd : t.raw_fd;
  size_t i = 0;
  while (i < n) {
    int sent = ::sendmmsg(fd, &messages_[i], unsigned(n - i), MSG_DONTWAIT);
    if (sent > 0) {
      for (size_t j = i; j < i + size_t(sent); ++j)
        if (message_info_[j].datagram_end == j + 1) {
          c.datagrams += message_info_[j].datagrams;
          c.bytes += message_info_[j].bytes;
        }
      i += size_t(sent);
      continue;
    }
    int e = errno;
    if (e == EINTR)
      continue;
    auto why = classify(e);
    if (why == replication_error::would_block) {
      // The send buffer is full: the rest of this batch is lost for this
      // receiver alone rather than waited for.
      fail_all_from(i, why);
      return;
    }
    c.errors[size_t(why)] += message_info_[i].datagrams;
    if (why == replication_error::too_big && !s)
      update_mtu(t);
    // EIO: the route's device cannot segment (no checksum offload, IPsec);
    // EINVAL: the segment size no longer fits the route's MTU. Either way
    // this socket's copies go one by one from now on.
    if (s && message_info_[i].segment != 0 && (e == EIO || e == EINVAL))
      s->gso = false;
    i = message_info_[i].datagram_end; // the rest of a fragmented datagram is useless
  }
}

} // namespace tidewatch
