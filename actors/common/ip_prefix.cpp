#include "actors/common/ip_prefix.hpp"

#include <charconv>
#include <cstring>

namespace tidewatch {

bool ip_prefix::parse(const std::string& text, ip_prefix& out) {
  auto slash = text.find('/');
  ip_address a;
  if (!ip_address::parse(std::string_view(text).substr(0, slash), a))
    return false;
  unsigned len = a.is_v4() ? 32 : 128;
  if (slash != std::string::npos) {
    auto* first = text.data() + slash + 1;
    auto* last = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(first, last, len);
    if (ec != std::errc{} || ptr != last || first == last || len > (a.is_v4() ? 32u : 128u))
      return false;
  }
  out.length = uint8_t(a.is_v4() ? len + 96 : len);
  out.network = a;
  // Clear host bits so that contains() compares only the network part.
  for (unsigned bit = out.length; bit < 128; ++bit)
    out.network.bytes[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
  return true;
}

bool ip_prefix::contains(const ip_address& a) const {
  unsigned full = length / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0)
    return false;
  if (length % 8 == 0)
    return true;
  uint8_t mask = uint8_t(0xff00u >> (length % 8));
  return (a.bytes[full] & mask) == network.bytes[full];
}

} // namespace tidewatch
