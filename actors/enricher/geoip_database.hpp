#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/common/huge_pages.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

/// What one MaxMind-format database says about an address; empty fields are
/// what the database does not have.
struct geo_info {
  uint16_t country = 0; ///< ISO 3166 alpha-2, first char in the high byte
  uint32_t asn = 0;     ///< autonomous system number
  uint32_t as_name = 0; ///< AS organisation: index into the database's names(); 0: none

  friend bool operator==(const geo_info&, const geo_info&) = default;
};

/// A MaxMind DB file (libmaxminddb) read for countries, AS numbers and AS
/// organisations. Both layouts are understood: MaxMind's
/// (`country.iso_code`, `autonomous_system_number`,
/// `autonomous_system_organization`) and the flat `country_code` of free
/// databases, so one class serves Country, City, ASN and combined files.
///
/// open() flattens the database: it walks the whole search tree once,
/// decodes each distinct data record once, and keeps sorted address ranges
/// per family with a 64 Ki-entry index on the first 16 bits. A lookup is then
/// an index read and a binary search over the few ranges that share those
/// bits, with no bit-by-bit tree walk (about 1 µs per address with
/// libmaxminddb here: one dependent memory read per address bit).
/// Immutable after open(): a reload opens a new instance.
class geoip_database {
public:
  geoip_database() = default;
  geoip_database(const geoip_database&) = delete;
  geoip_database& operator=(const geoip_database&) = delete;

  /// Opens and flattens path; on failure says why (missing file, not a
  /// MaxMind DB, a search tree that cannot be read, ...).
  bool open(const std::string& path, std::string& error);

  /// What the database says about a; all fields empty when it has nothing.
  geo_info lookup(const ip_address& a) const {
    uint32_t value = a.is_v4() ? v4_.find(a.v4_host_order()) : find_v6(a);
    return value == 0 ? geo_info{} : infos_[value - 1];
  }

  /// lookup() of n addresses (out[i] for in[i]), side by side: each step's
  /// memory reads (index, ranges, data) are prefetched for a group of
  /// addresses before any is read, so that they overlap. Faster than n
  /// lookup() calls for addresses whose ranges are not in the CPU cache.
  void lookup(const ip_address* in, size_t n, geo_info* out) const;

  const std::string& path() const { return path_; }
  /// The database's own type name, e.g. "GeoLite2-Country".
  const std::string& database_type() const { return database_type_; }
  /// The AS organisations that geo_info::as_name indexes, each stored once:
  /// batches refer to them through label_table::shared instead of copying.
  const label_table& names() const { return names_; }
  /// Data records that could not be decoded while flattening (their
  /// addresses find nothing); 0 for a sound database.
  uint64_t lookup_errors() const { return lookup_errors_; }
  /// Address ranges kept (both families), after merging neighbours with the same data.
  size_t ranges() const { return v4_.starts.size() + v6_.starts.size(); }
  /// Bytes the flattened tables take.
  size_t memory_bytes() const;
  /// Index nodes that split crowded buckets (both families).
  size_t index_nodes() const { return v4_.nodes.size() + v6_.nodes.size(); }

private:
  /// An IPv6 address as two host-order halves, ordered as the address is.
  struct v6_key {
    uint64_t high = 0;
    uint64_t low = 0;
    static v6_key of(const ip_address& a);
    friend auto operator<=>(const v6_key&, const v6_key&) = default;
  };

  /// Sorted ranges that partition a family's address space (the first starts
  /// at address 0); values are 1-based indexes into infos_, 0 for nothing,
  /// or an IPv4 alias (alias_flag).
  ///
  /// An index on the first 16 bits narrows a lookup to the ranges of one
  /// bucket. Where a bucket holds more than max_scan ranges (IPv6 space is
  /// allocated in a few /16s, 2001::/16 or 2a00::/16 each holding tens of
  /// thousands of networks), a node splits it by the next 8 bits, and so on,
  /// so that the final search reads a cache line or two, not the 17
  /// dependent ones of a binary search over 100 k ranges.
  template <class Key> struct range_table {
    /// Where a bucket's (or sub-bucket's) search begins: the last range
    /// starting at or before its first address; the next slot's `first`
    /// ends it. child: 1-based index into nodes that splits it further, 0: none.
    struct slot {
      uint32_t first = 0;
      uint32_t child = 0;
    };
    /// 256 sub-buckets, and a last slot whose `first` is the parent's end.
    using node = std::array<slot, 257>;
    /// A (sub-)bucket with more ranges than fit in 256 bytes of starts (4
    /// cache lines) gets a node (2 KiB): fewer would cost memory for a step
    /// that saves little.
    static constexpr uint32_t max_scan = 256 / sizeof(Key);

    huge_vector<Key> starts;
    huge_vector<uint32_t> values;
    huge_vector<slot> index; ///< per value of the first 16 bits, then the last range
    huge_vector<node> nodes;

    void append(const Key& start, uint32_t value);
    void build_index();
    /// For the (sub-)bucket starting at base whose search covers ranges
    /// first..end: a node splitting it by the 8 bits below level (1-based
    /// index into nodes, and nodes below it as needed), or 0 when it has few
    /// enough ranges or no bits left.
    uint32_t split(uint32_t first, uint32_t end, const Key& base, unsigned level);

    /// The slot whose ranges hold key: the bucket's, then each node's on the way down.
    const slot* leaf(const Key& key) const {
      const slot* s = &index[top16(key)];
      for (unsigned level = 0; s->child != 0; ++level)
        s = &nodes[s->child - 1][sub_byte(key, level)];
      return s;
    }
    /// The value of the last range starting at or before key among those of
    /// its leaf slot s: a binary search whose steps are selects, not
    /// branches the CPU would mispredict about half the time.
    uint32_t search(const slot* s, const Key& key) const {
      size_t at = s[0].first;
      for (size_t count = s[1].first - at + 1; count > 1;) {
        size_t half = count / 2;
        at = starts[at + half] <= key ? at + half : at;
        count -= half;
      }
      return values[at];
    }
    uint32_t find(const Key& key) const { return starts.empty() ? 0 : search(leaf(key), key); }
    /// Starts loading the ranges that search(s, key) reads.
    void prefetch_ranges(const slot* s) const {
      for (uint32_t at : {s[0].first, s[1].first}) {
        __builtin_prefetch(&starts[at]);
        __builtin_prefetch(&values[at]);
      }
    }
  };
  /// The 8 bits of key below the first 16 + 8 * level.
  static unsigned sub_byte(uint32_t key, unsigned level) { return key >> (8 - 8 * level) & 0xff; }
  static unsigned sub_byte(const v6_key& key, unsigned level) {
    unsigned bit = 16 + 8 * level;
    return unsigned(bit < 64 ? key.high >> (56 - bit) : key.low >> (120 - bit)) & 0xff;
  }
  /// key with those 8 bits set to byte (they were 0).
  static uint32_t with_sub_byte(uint32_t key, unsigned level, unsigned byte) {
    return key | byte << (8 - 8 * level);
  }
  static v6_key with_sub_byte(v6_key key, unsigned level, unsigned byte) {
    unsigned bit = 16 + 8 * level;
    (bit < 64 ? key.high : key.low) |= uint64_t(byte) << (bit < 64 ? 56 - bit : 120 - bit);
    return key;
  }
  static constexpr unsigned sub_levels(uint32_t) { return 2; }
  static constexpr unsigned sub_levels(const v6_key&) { return 14; }
  static size_t top16(uint32_t key) { return key >> 16; }
  static size_t top16(const v6_key& key) { return size_t(key.high >> 48); }
  static bool starts_bucket(uint32_t key) { return (key & 0xffff) == 0; }
  static bool starts_bucket(const v6_key& key) {
    return (key.high & 0xffff'ffff'ffffull) == 0 && key.low == 0;
  }

  /// An IPv6 range value that stands for the IPv4 tree: the low 7 bits say
  /// where in the address the IPv4 address starts.
  static constexpr uint32_t alias_flag = 0x8000'0000u;
  uint32_t find_v6(const ip_address& a) const;
  /// value as found for key in v6_, or for an alias range the IPv4 tree's
  /// value of the IPv4 address embedded in key.
  uint32_t resolve_v6(uint32_t value, const v6_key& key) const;

  struct walk_state;
  bool flatten(std::string& error);

  std::string path_;
  std::string database_type_;
  range_table<uint32_t> v4_;
  range_table<v6_key> v6_;
  huge_vector<geo_info> infos_;
  label_table names_;
  uint64_t lookup_errors_ = 0;
};

} // namespace tidewatch
