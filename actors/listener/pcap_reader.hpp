#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/datagram.hpp"

struct pcap;

namespace tidewatch {

/// Reads a pcap or pcapng capture offline and yields the UDP payloads in it,
/// so recorded exports can be replayed through the decoders without a network.
/// Understands Ethernet (with 802.1Q/802.1ad tags), Linux cooked SLL and SLL2,
/// raw IPv4/IPv6 and BSD loopback (DLT_NULL, DLT_LOOP) captures. IPv4 and IPv6
/// fragments are not reassembled: they are skipped and counted, as are non-UDP,
/// truncated and filtered packets.
class pcap_reader {
public:
  pcap_reader() = default;
  pcap_reader(const pcap_reader&) = delete;
  pcap_reader& operator=(const pcap_reader&) = delete;
  ~pcap_reader();

  /// Opens the capture at path; false plus a reason in error (when given) if
  /// the file cannot be read or its link type is not one listed above.
  bool open(const std::string& path, std::string* error);

  /// Only yields datagrams sent to this UDP port; 0 (the default) yields all.
  void set_destination_port(uint16_t port) { destination_port_ = port; }

  /// Advances to the next UDP datagram. data/length point at its payload and
  /// stay valid until the next call; meta gets exporter (source address),
  /// exporter_port (source port), local_port (destination port), received_us
  /// (capture time, µs since the epoch), offset 0 and length. False at the end
  /// of the capture or on a read error (then error() says which).
  bool next(const uint8_t*& data, size_t& length, datagram_info& meta);

  /// Why reading stopped early; empty at a clean end of file.
  const std::string& error() const { return error_; }

  // -- what was read and what was skipped, by reason --
  uint64_t packets() const { return packets_; }
  uint64_t datagrams() const { return datagrams_; }
  uint64_t skipped_non_udp() const { return skipped_non_udp_; }
  uint64_t skipped_fragments() const { return skipped_fragments_; }
  uint64_t skipped_truncated() const { return skipped_truncated_; }
  uint64_t skipped_filtered() const { return skipped_filtered_; }

private:
  enum class verdict { datagram, non_udp, fragment, truncated, filtered };

  verdict parse_link(const uint8_t* p, size_t n, const uint8_t*& data, size_t& length,
                     datagram_info& meta) const;
  verdict parse_ethertype(uint16_t type, const uint8_t* p, size_t n, const uint8_t*& data,
                          size_t& length, datagram_info& meta) const;
  verdict parse_ipv4(const uint8_t* p, size_t n, const uint8_t*& data, size_t& length,
                     datagram_info& meta) const;
  verdict parse_ipv6(const uint8_t* p, size_t n, const uint8_t*& data, size_t& length,
                     datagram_info& meta) const;
  verdict parse_udp(const uint8_t* p, size_t n, const uint8_t*& data, size_t& length,
                    datagram_info& meta) const;
  void close();

  pcap* handle_ = nullptr;
  int link_type_ = 0;
  uint16_t destination_port_ = 0;
  std::string error_;
  uint64_t packets_ = 0;
  uint64_t datagrams_ = 0;
  uint64_t skipped_non_udp_ = 0;
  uint64_t skipped_fragments_ = 0;
  uint64_t skipped_truncated_ = 0;
  uint64_t skipped_filtered_ = 0;
};

} // namespace tidewatch
