#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tidewatch::detail {

// Big-endian (network order) reads and writes of wire formats: export
// datagrams, capture files, packet headers.

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
/// Reads an unsigned big-endian integer of 1 to 8 bytes (IPFIX reduced-size
/// encoding makes any of these lengths legal for counters).
[[gnu::always_inline]] inline uint64_t load_be(const uint8_t* p, size_t n) {
  switch (n) {
  case 1:
    return p[0];
  case 2:
    return load_be16(p);
  case 4:
    return load_be32(p);
  case 8:
    return load_be64(p);
  default: {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v = v << 8 | p[i];
    return v;
  }
  }
}

/// Writes v big-endian at p; returns the end, for chained writes.
inline uint8_t* store_be16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
  return p + 2;
}
inline uint8_t* store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
  return p + 4;
}
inline uint8_t* store_be64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
  return p + 8;
}

} // namespace tidewatch::detail
