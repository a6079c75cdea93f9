#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "messages/address.hpp"

namespace tidewatch {

/// One end of a UDP exchange.
struct udp_endpoint {
  ip_address address;
  uint16_t port = 0;
};

/// Writes UDP datagrams into a classic libpcap file (microsecond timestamps,
/// Ethernet link type) with full IPv4 or IPv6 and UDP headers and valid
/// checksums, so that tshark, scapy and replay tools read the export datagrams
/// flowgen produces exactly as if they had been captured on the wire.
class pcap_writer {
public:
  /// Creates (truncates) `path` and writes the file header; throws
  /// std::runtime_error when the file cannot be created.
  explicit pcap_writer(const std::string& path);
  ~pcap_writer();
  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;

  /// Appends one datagram from `src` to `dst` (both of the same address family)
  /// captured at `time_us` (µs since the Unix epoch).
  void write(const udp_endpoint& src, const udp_endpoint& dst, std::span<const uint8_t> payload,
             int64_t time_us);

  /// Flushes and closes the file; throws std::runtime_error on a write error.
  void close();

  uint64_t packets() const { return packets_; }

private:
  std::FILE* file_ = nullptr;
  std::string path_;
  uint16_t ip_id_ = 0;
  uint64_t packets_ = 0;
};

} // namespace tidewatch
