#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <caf/meta/type_name.hpp>

namespace tidewatch {

/// An IPv4 or IPv6 address held by value (IPv4 as ::ffff:a.b.c.d), so that a
/// flow record carries its addresses without any allocation.
struct ip_address {
  std::array<uint8_t, 16> bytes{};

  static constexpr std::array<uint8_t, 12> v4_prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

  /// From four bytes in network order.
  static ip_address from_v4_bytes(const uint8_t* p) {
    ip_address a;
    std::memcpy(a.bytes.data(), v4_prefix.data(), 12);
    std::memcpy(a.bytes.data() + 12, p, 4);
    return a;
  }
  /// From a host-order IPv4 value.
  static ip_address from_v4(uint32_t host_order) {
    uint8_t b[4] = {uint8_t(host_order >> 24), uint8_t(host_order >> 16), uint8_t(host_order >> 8),
                    uint8_t(host_order)};
    return from_v4_bytes(b);
  }
  /// From sixteen bytes in network order.
  static ip_address from_v6_bytes(const uint8_t* p) {
    ip_address a;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
  }
  /// Parses dotted-quad or RFC 5952 text; false on malformed input.
  static bool parse(std::string_view text, ip_address& out);

  bool is_v4() const {
    uint64_t head;
    uint32_t mid;
    std::memcpy(&head, bytes.data(), 8);
    std::memcpy(&mid, bytes.data() + 8, 4);
    uint32_t mapped;
    std::memcpy(&mapped, v4_prefix.data() + 8, 4);
    return head == 0 && mid == mapped;
  }
  bool is_unspecified() const { return *this == ip_address{} || (is_v4() && v4_host_order() == 0); }
  uint32_t v4_host_order() const {
    return uint32_t(bytes[12]) << 24 | uint32_t(bytes[13]) << 16 | uint32_t(bytes[14]) << 8 |
           bytes[15];
  }

  /// Writes the text form (dotted quad for IPv4, RFC 5952 for IPv6) into out,
  /// which must hold 46 bytes; returns the length. Allocation-free for encoders.
  size_t format(char* out) const;
  std::string to_string() const;

  /// Two word compares: the defaulted one called memcmp, which showed in
  /// the enricher's profile (an exporter compare per record).
  friend bool operator==(const ip_address& a, const ip_address& b) {
    uint64_t x[2], y[2];
    std::memcpy(x, a.bytes.data(), 16);
    std::memcpy(y, b.bytes.data(), 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  friend auto operator<=>(const ip_address&, const ip_address&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, ip_address& x) {
  return f(caf::meta::type_name("tidewatch::ip_address"), x.bytes);
}

} // namespace tidewatch
