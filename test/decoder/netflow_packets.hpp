#pragma once

// Hand-assembled NetFlow v5/v9 and IPFIX datagrams for the decoder tests.

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "messages/address.hpp"
#include "messages/datagram.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

// Printers for Boost.Test failure messages.
inline std::ostream& operator<<(std::ostream& os, const ip_address& a) {
  return os << a.to_string();
}
inline std::ostream& operator<<(std::ostream& os, export_protocol p) {
  return os << "export_protocol(" << int(p) << ")";
}
inline std::ostream& operator<<(std::ostream& os, flow_direction d) {
  return os << "flow_direction(" << int(d) << ")";
}

} // namespace tidewatch

namespace tidewatch::test {

/// Appends big-endian values and patches set and message lengths.
struct packet {
  std::vector<uint8_t> b;
  size_t set_start = 0;

  packet& u8(uint64_t v) {
    b.push_back(uint8_t(v));
    return *this;
  }
  packet& u16(uint64_t v) { return u8(v >> 8).u8(v); }
  packet& u32(uint64_t v) { return u16(v >> 16).u16(v); }
  packet& u64(uint64_t v) { return u32(v >> 32).u32(v); }
  packet& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
  packet& v4(const char* text) {
    ip_address a;
    ip_address::parse(text, a);
    b.insert(b.end(), a.bytes.begin() + 12, a.bytes.end());
    return *this;
  }
  packet& v6(const char* text) {
    ip_address a;
    ip_address::parse(text, a);
    b.insert(b.end(), a.bytes.begin(), a.bytes.end());
    return *this;
  }
  packet& mac(uint64_t v) { return u16(v >> 32).u32(v); }
  packet& append(const packet& other) {
    b.insert(b.end(), other.b.begin(), other.b.end());
    return *this;
  }

  // -- headers --
  static packet v9(uint32_t sequence, uint32_t source_id, uint32_t uptime_ms = 10'000'000,
                   uint32_t secs = 1'700'000'000) {
    packet p;
    p.u16(9).u16(0).u32(uptime_ms).u32(secs).u32(sequence).u32(source_id);
    return p;
  }
  static packet ipfix(uint32_t sequence, uint32_t domain, uint32_t secs = 1'700'000'000) {
    packet p;
    p.u16(10).u16(0).u32(secs).u32(sequence).u32(domain);
    return p;
  }

  // -- sets --
  packet& begin_set(uint16_t id) {
    set_start = b.size();
    return u16(id).u16(0);
  }
  packet& end_set() {
    size_t len = b.size() - set_start;
    b[set_start + 2] = uint8_t(len >> 8);
    b[set_start + 3] = uint8_t(len);
    return *this;
  }
  /// One template record: ID, count, then (type, length) pairs.
  packet& template_record(uint16_t id, std::initializer_list<std::pair<uint16_t, uint16_t>> f) {
    u16(id).u16(f.size());
    for (auto [type, length] : f)
      u16(type).u16(length);
    return *this;
  }
  /// A whole template set (v9: id 0, IPFIX: id 2) holding one template.
  packet& template_set(uint16_t set_id, uint16_t id,
                       std::initializer_list<std::pair<uint16_t, uint16_t>> f) {
    return begin_set(set_id).template_record(id, f).end_set();
  }
  /// Fixes the IPFIX message length (and the v9 count, unused by the decoder).
  packet& done() {
    if (b.size() >= 4 && b[1] == 10) {
      b[2] = uint8_t(b.size() >> 8);
      b[3] = uint8_t(b.size());
    }
    return *this;
  }
};

inline datagram_info from(const char* exporter, int64_t received_us = 1'700'000'000'500'000,
                          uint16_t port = 40000) {
  datagram_info m;
  ip_address::parse(exporter, m.exporter);
  m.exporter_port = port;
  m.local_port = 2055;
  m.received_us = received_us;
  return m;
}

inline ip_address addr(const char* text) {
  ip_address a;
  ip_address::parse(text, a);
  return a;
}

} // namespace tidewatch::test
