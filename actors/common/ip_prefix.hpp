#pragma once

#include <cstdint>
#include <string>

#include "messages/address.hpp"

namespace tidewatch {

/// An address or prefix: exporter allow-lists, our prefix list, replication filters.
struct ip_prefix {
  ip_address network;
  uint8_t length = 128; ///< in IPv6 terms: IPv4 /24 is stored as /120

  /// "192.0.2.0/24", "2001:db8::/32" or a plain address.
  static bool parse(const std::string& text, ip_prefix& out);
  bool contains(const ip_address& a) const;
};

} // namespace tidewatch
