#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/common/huge_pages.hpp"
#include "actors/common/ip_prefix.hpp"

namespace tidewatch {

/// Longest-prefix match over IPv4 and IPv6 prefixes, built once and then
/// only read (a reload builds a new table and swaps it in).
///
/// Each family is a trie with 8-bit strides and prefix expansion: a slot holds
/// either a child node or the value of the longest prefix covering it, so a
/// lookup is at most 4 (IPv4) or 16 (IPv6) dependent array reads and no
/// comparisons. Values are 1-based indexes into the caller's own data.
class prefix_table {
public:
  /// Value of lookup() when no prefix matches.
  static constexpr uint32_t no_match = 0;

  /// Adds prefix -> value (value >= 1, < 2^31). Prefixes may come in any
  /// order; for the same prefix added twice, the later value wins.
  void add(const ip_prefix& prefix, uint32_t value);

  /// Builds the tries from everything added. Lookups before build() find nothing.
  void build();

  /// The value of the longest prefix containing a, or no_match.
  uint32_t lookup(const ip_address& a) const {
    if (a.is_v4()) {
      uint32_t v = a.v4_host_order();
      return walk(v4_, [v](unsigned depth) { return (v >> (24 - 8 * depth)) & 0xff; });
    }
    return walk(v6_, [&a](unsigned depth) { return a.bytes[depth]; });
  }

  /// lookup() of n addresses (out[i] for in[i]), walked side by side so that
  /// the memory reads of different addresses overlap: faster than n
  /// lookup() calls when the tries do not fit the CPU cache.
  void lookup(const ip_address* in, size_t n, uint32_t* out) const;

  size_t size() const { return pending_.size(); }
  /// Bytes the tries take (what a prefix list costs in memory).
  size_t memory_bytes() const { return (v4_.size() + v6_.size()) * sizeof(node); }

private:
  /// Slot content: child index | child_flag, or a value (0: none).
  static constexpr uint32_t child_flag = 0x8000'0000u;
  using node = std::array<uint32_t, 256>;

  template <class ByteAt> static uint32_t walk(const huge_vector<node>& nodes, ByteAt byte_at) {
    if (nodes.empty())
      return no_match;
    uint32_t index = 0;
    for (unsigned depth = 0;; ++depth) {
      uint32_t slot = nodes[index][byte_at(depth)];
      if (!(slot & child_flag))
        return slot;
      index = slot & ~child_flag;
    }
  }

  /// Inserts a prefix of `length` bits given as network bytes (most significant first).
  static void insert(huge_vector<node>& nodes, const uint8_t* network, unsigned length,
                     uint32_t value);

  struct pending_prefix {
    ip_prefix prefix;
    uint32_t value;
  };
  std::vector<pending_prefix> pending_;
  huge_vector<node> v4_;
  huge_vector<node> v6_;
};

} // namespace tidewatch
