#include "messages/address.hpp"

#include <arpa/inet.h>

namespace tidewatch {

bool ip_address::parse(std::string_view text, ip_address& out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf))
    return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t raw[16];
  if (::inet_pton(AF_INET, buf, raw) == 1) {
    out = from_v4_bytes(raw);
    return true;
  }
  if (::inet_pton(AF_INET6, buf, raw) == 1) {
    out = from_v6_bytes(raw);
    return true;
  }
  return false;
}

size_t ip_address::format(char* out) const {
  if (is_v4()) {
    // Hand-rolled: inet_ntop costs several times more and this runs per field.
    char* p = out;
    for (int i = 12; i < 16; ++i) {
      unsigned v = bytes[i];
      if (v >= 100) {
        *p++ = char('0' + v / 100);
        *p++ = char('0' + v / 10 % 10);
      } else if (v >= 10) {
        *p++ = char('0' + v / 10);
      }
      *p++ = char('0' + v % 10);
      if (i != 15)
        *p++ = '.';
    }
    return size_t(p - out);
  }
  ::inet_ntop(AF_INET6, bytes.data(), out, INET6_ADDRSTRLEN);
  return std::strlen(out);
}

std::string ip_address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  return std::string(buf, format(buf));
}

} // namespace tidewatch
