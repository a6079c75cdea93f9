#pragma once

#include <cstdint>
#include <vector>

#include "messages/address.hpp"

namespace tidewatch {

// -- building UDP packets with a chosen source address ---------------------------
// For raw sockets that write the IP header themselves (IP_HDRINCL, IPv6
// IPPROTO_RAW): the kernel neither fragments such packets nor fills in the
// UDP checksum, so both happen here. Payloads are never copied: a packet is a
// header written into a buffer plus a slice of the original payload.

/// Ones-complement partial sum (RFC 1071) of `length` bytes, added to `sum`.
/// Sums taken piecewise add up to the sum of the whole as long as every piece
/// but the last starts and ends on an even offset.
uint64_t checksum_add(uint64_t sum, const uint8_t* data, size_t length);

/// Folds a partial sum into the 16-bit checksum, in network byte order as it
/// is stored in a header (i.e. write it with memcpy).
uint16_t checksum_fold(uint64_t sum);

/// The UDP checksum of a datagram (RFC 768 / RFC 8200 pseudo-header) given
/// the partial sum of its payload; never 0 (0 means "no checksum" on IPv4).
uint16_t udp_checksum(const ip_address& source, uint16_t source_port, const ip_address& destination,
                      uint16_t destination_port, uint64_t payload_sum, uint32_t payload_length);

/// One packet (a whole datagram or one fragment): a header in the caller's
/// header buffer followed by a slice of the payload.
struct packet_piece {
  uint32_t header_offset = 0;  ///< into the header buffer
  uint32_t header_length = 0;  ///< IP (+ fragment) (+ UDP) header bytes
  uint32_t payload_offset = 0; ///< into the datagram's payload
  uint32_t payload_length = 0;
};

/// What a spoofed UDP datagram is sent as.
struct udp_packet_spec {
  ip_address source;
  uint16_t source_port = 0;
  ip_address destination;
  uint16_t destination_port = 0;
  uint32_t mtu = 1500;         ///< link MTU toward the destination (IP header included)
  uint32_t identification = 0; ///< IPv4 ID (16 bits used) or IPv6 fragment ID
  uint8_t ttl = 64;
};

/// Largest header a piece can have: IPv6 (40) + fragment header (8) + UDP (8).
inline constexpr uint32_t max_packet_header = 56;

/// Appends the packets carrying one UDP datagram with `spec`'s addresses: one
/// packet when it fits the MTU, else fragments (IPv4 fragments without DF,
/// IPv6 fragment headers) of at most `mtu` bytes each. Both addresses must be
/// of one family. `payload_sum` is checksum_add(0, payload, payload_length).
/// Returns the number of pieces appended.
size_t build_udp_packets(const udp_packet_spec& spec, uint32_t payload_length, uint64_t payload_sum,
                         std::vector<uint8_t>& headers, std::vector<packet_piece>& pieces);

} // namespace tidewatch
