#pragma once

#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// The detector asks the BGP speaker to announce (at ban) or withdraw (at
/// unban) a host route for an attacked address to the neighbors configured to
/// receive blackholes: a /32 for IPv4, a /128 for IPv6.
struct blackhole_route {
  ip_address address;
  /// Standard communities (RFC 1997) as (AS << 16) | value, e.g. 65535:666.
  std::vector<uint32_t> communities;
  /// true: announce; false: withdraw.
  bool announce = true;

  friend bool operator==(const blackhole_route&, const blackhole_route&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, blackhole_route& x) {
  return f(caf::meta::type_name("tidewatch::blackhole_route"), x.address, x.communities,
           x.announce);
}

} // namespace tidewatch
