#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

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
  template <class Key> struct range_table {
    std::vector<Key> starts;
    std::vector<uint32_t> values;
    /// Per value of the first 16 bits: the last range starting at or before
    /// that /16's first address; entry 65536 is the last range.
    std::vector<uint32_t> index;

    void append(const Key& start, uint32_t value);
    void build_index();
    uint32_t find(const Key& key) const {
      if (starts.empty())
        return 0;
      // The last range starting at or before key among the bucket's few:
      // a binary search whose steps are selects, not branches the CPU
      // would mispredict about half the time.
      size_t bucket = top16(key);
      size_t at = index[bucket];
      for (size_t count = index[bucket + 1] - at + 1; count > 1;) {
        size_t half = count / 2;
        at = starts[at + half] <= key ? at + half : at;
        count -= half;
      }
      return values[at];
    }
    /// Starts loading the index entries that find(key) reads first.
    void prefetch_index(const Key& key) const {
      if (!starts.empty())
        __builtin_prefetch(&index[top16(key)]);
    }
    /// Starts loading the ranges find(key) searches (index entries loaded).
    void prefetch_ranges(const Key& key) const {
      if (starts.empty())
        return;
      size_t bucket = top16(key);
      for (uint32_t at : {index[bucket], index[bucket + 1]}) {
        __builtin_prefetch(&starts[at]);
        __builtin_prefetch(&values[at]);
      }
    }
  };
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

  struct walk_state;
  bool flatten(std::string& error);

  std::string path_;
  std::string database_type_;
  range_table<uint32_t> v4_;
  range_table<v6_key> v6_;
  std::vector<geo_info> infos_;
  label_table names_;
  uint64_t lookup_errors_ = 0;
};

} // namespace tidewatch
