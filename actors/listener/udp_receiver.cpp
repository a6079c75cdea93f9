#include "actors/listener/udp_receiver.hpp"

#include "actors/common/clock.hpp"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

namespace tidewatch {

udp_receiver::~udp_receiver() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool udp_receiver::open(const options& opts, std::string& error) {
  opts_ = opts;
  ip_address addr;
  if (!ip_address::parse(opts.address, addr)) {
    error = "'" + opts.address + "' is not an IP address";
    return false;
  }
  bool v4 = addr.is_v4();
  fd_ = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  int zero = 0;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  ::setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
  ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one));
  if (!v4)
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  // Before Linux 5.0 the kernel refuses UDP_GRO: datagrams then come one by one.
  coalescing_ = opts.coalesce && ::setsockopt(fd_, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
  // SO_RCVBUFFORCE passes net.core.rmem_max when we are root; else the
  // kernel caps SO_RCVBUF there.
  int want = int(std::min<uint64_t>(opts.receive_buffer_bytes, INT32_MAX / 2));
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
  int got = 0;
  socklen_t got_len = sizeof(got);
  ::getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &got, &got_len);
  rcvbuf_ = uint64_t(got);
  sockaddr_storage ss{};
  socklen_t ss_len = 0;
  if (v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(opts.port);
    std::memcpy(&sin->sin_addr, addr.bytes.data() + 12, 4);
    ss_len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(opts.port);
    std::memcpy(&sin6->sin6_addr, addr.bytes.data(), 16);
    ss_len = sizeof(sockaddr_in6);
  }
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0) {
    error =
        "bind " + opts.address + " port " + std::to_string(opts.port) + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  socklen_t len = sizeof(ss);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  bound_port_ = ntohs(v4 ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                         : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  auto n = std::max<uint32_t>(1, opts.batch);
  buffers_.resize(size_t(n) * slot_size);
  addrs_.resize(n);
  iovs_.resize(n);
  msgs_.resize(n);
  controls_.resize(n);
  return true;
}

void udp_receiver::read_socket_drops() {
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t length = sizeof(meminfo);
  if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, meminfo, &length) == 0 &&
      length > SK_MEMINFO_DROPS * sizeof(uint32_t))
    observe_drops(meminfo[SK_MEMINFO_DROPS]);
}

void udp_receiver::observe_drops(uint32_t raw) {
  uint32_t delta = raw - last_drops_raw_; // the kernel's counter wraps
  if (delta == 0 || delta >= 0x8000'0000u)
    return;
  kernel_drops_ += delta;
  last_drops_raw_ = raw;
}

size_t udp_receiver::receive_batch(datagram_batch& out, int timeout_ms) {
  read_socket_drops();
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0)
    return 0;
  auto before = out.size();
  auto room = unsigned(msgs_.size());
  auto received = take(out, room);
  if (timeout_ms != 0 && opts_.linger.count() > 0 && received > 0 && received < room) {
    std::this_thread::sleep_for(opts_.linger);
    take(out, room - received);
  }
  return out.size() - before;
}

unsigned udp_receiver::take(datagram_batch& out, unsigned max) {
  auto n = std::min(max, unsigned(msgs_.size()));
  for (unsigned i = 0; i < n; ++i) {
    iovs_[i] = {buffers_.data() + size_t(i) * slot_size, slot_size};
    auto& h = msgs_[i].msg_hdr;
    h = {};
    h.msg_name = &addrs_[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    h.msg_control = controls_[i].data();
    h.msg_controllen = controls_[i].size();
  }
  int got = ::recvmmsg(fd_, msgs_.data(), n, MSG_DONTWAIT, nullptr);
  if (got <= 0) {
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      ++errors_;
    return 0;
  }
  auto now_us = unix_now_us();
  // One look at the allow-list per batch: it may be replaced meanwhile.
  std::shared_ptr<const std::vector<ip_prefix>> allowed_exporters;
  if (opts_.allowed_exporters)
    allowed_exporters = opts_.allowed_exporters->current();
  for (int i = 0; i < got; ++i) {
    auto& h = msgs_[i].msg_hdr;
    datagram_info meta;
    meta.local_port = bound_port_;
    meta.received_us = now_us;
    auto len = msgs_[i].msg_len;
    for (auto* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
        int segment = 0;
        std::memcpy(&segment, CMSG_DATA(c), sizeof(segment));
        if (segment > 0 && uint32_t(segment) < len)
          meta.segment = uint16_t(segment);
        continue;
      }
      if (c->cmsg_level != SOL_SOCKET)
        continue;
      if (c->cmsg_type == SO_RXQ_OVFL) {
        uint32_t ovfl = 0;
        std::memcpy(&ovfl, CMSG_DATA(c), sizeof(ovfl));
        observe_drops(ovfl);
      } else if (c->cmsg_type == SO_TIMESTAMP) {
        timeval tv;
        std::memcpy(&tv, CMSG_DATA(c), sizeof(tv));
        meta.received_us = int64_t(tv.tv_sec) * 1'000'000 + tv.tv_usec;
      }
    }
    auto& sa = addrs_[i];
    if (sa.ss_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&sa);
      meta.exporter = ip_address::from_v4_bytes(reinterpret_cast<uint8_t*>(&sin->sin_addr));
      meta.exporter_port = ntohs(sin->sin_port);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sa);
      meta.exporter = ip_address::from_v6_bytes(reinterpret_cast<uint8_t*>(&sin6->sin6_addr));
      meta.exporter_port = ntohs(sin6->sin6_port);
    }
    meta.length = len;
    auto count = meta.datagram_count();
    if (h.msg_flags & MSG_TRUNC) {
      truncated_ += count;
      continue;
    }
    if (allowed_exporters && !allowed_exporters->empty()) {
      bool allowed = false;
      for (auto& p : *allowed_exporters)
        allowed = allowed || p.contains(meta.exporter);
      if (!allowed) {
        denied_ += count; // a run comes from one exporter
        continue;
      }
    }
    datagrams_ += count;
    bytes_ += len;
    out.add(static_cast<const uint8_t*>(iovs_[i].iov_base), len, meta);
  }
  return unsigned(got);
}

} // namespace tidewatch
