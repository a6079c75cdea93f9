#pragma once

#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// Where one datagram of a batch lies and where it came from.
struct datagram_info {
  uint32_t offset = 0; ///< into datagram_batch::payload
  uint32_t length = 0;
  ip_address exporter;
  uint16_t exporter_port = 0;
  uint16_t local_port = 0; ///< the port it arrived on
  int64_t received_us = 0; ///< µs since the Unix epoch
  /// 0: one datagram. Else a run of datagrams of this size (the last may be
  /// shorter) that the kernel coalesced (UDP_GRO), as a listener that only
  /// replicates receives them.
  uint16_t segment = 0;

  /// How many datagrams the entry holds.
  uint32_t datagram_count() const { return segment == 0 ? 1 : (length + segment - 1) / segment; }

  friend bool operator==(const datagram_info&, const datagram_info&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, datagram_info& x) {
  return f(caf::meta::type_name("tidewatch::datagram_info"), x.offset, x.length, x.exporter,
           x.exporter_port, x.local_port, x.received_us, x.segment);
}

/// Raw UDP datagrams as the listener received them: all payloads in one
/// buffer (one allocation per batch, not per datagram) plus their metadata.
struct datagram_batch {
  std::vector<uint8_t> payload;
  std::vector<datagram_info> datagrams;

  void add(const uint8_t* data, uint32_t length, const datagram_info& meta) {
    auto& info = datagrams.emplace_back(meta);
    info.offset = static_cast<uint32_t>(payload.size());
    info.length = length;
    payload.insert(payload.end(), data, data + length);
  }
  const uint8_t* data(const datagram_info& info) const { return payload.data() + info.offset; }
  /// Empties the batch, keeping its memory for the next.
  void clear() {
    payload.clear();
    datagrams.clear();
  }
  size_t size() const { return datagrams.size(); }
  bool empty() const { return datagrams.empty(); }

  friend bool operator==(const datagram_batch&, const datagram_batch&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, datagram_batch& x) {
  return f(caf::meta::type_name("tidewatch::datagram_batch"), x.payload, x.datagrams);
}

} // namespace tidewatch
