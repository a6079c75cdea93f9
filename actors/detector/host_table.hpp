#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "actors/detector/traffic_counts.hpp"
#include "messages/address.hpp"

namespace tidewatch {

/// What the detector keeps per tracked host.
struct host_entry {
  ip_address address;
  rate_window window;
  uint16_t group = 0; ///< hostgroup index + 1; 0: none
  bool whitelisted = false;
};

/// The tracked hosts: a dense array of entries (so that expiry and top-N
/// scans walk contiguous memory) behind an open-addressing index with linear
/// probing. An index slot holds a 32-bit fingerprint of the hash and the
/// entry's position, so that a probe compares keys only on a likely hit. The
/// index has at least twice as many slots as the capacity; entries are
/// reserved up front, so inserting never reallocates and the memory of a
/// tracked host is fixed (bytes_per_host()).
class host_table {
public:
  /// A table for at most `capacity` hosts.
  explicit host_table(size_t capacity);

  /// The entry of `a`, or nullptr.
  host_entry* find(const ip_address& a) { return find_hashed(a, hash(a)); }

  /// The entry of `a`, inserted (with `fresh` set) if missing; nullptr when
  /// the table is full.
  host_entry* find_or_insert(const ip_address& a, bool& fresh);

  /// Removes the entries for which `expired(entry)` holds; returns how many.
  template <class Predicate> size_t remove_if(Predicate expired) {
    size_t removed = 0;
    for (size_t i = 0; i < entries_.size();) {
      if (expired(entries_[i])) {
        erase_at(i);
        ++removed;
      } else {
        ++i;
      }
    }
    return removed;
  }

  /// Hints the CPU to load the index slot of `a`: the first of two steps
  /// that hide a lookup's memory latency behind the records before it.
  void prefetch_slot(const ip_address& a) const { __builtin_prefetch(&slots_[hash(a) & mask_]); }

  /// Hints the CPU to load the entry the home slot of `a` points at (once
  /// prefetch_slot has brought the slot in): its key and the counters of
  /// direction `dir`.
  void prefetch_entry(const ip_address& a, size_t dir) const {
    uint64_t slot = slots_[hash(a) & mask_];
    if (slot == 0)
      return;
    auto* e = &entries_[index_of(slot)];
    __builtin_prefetch(e, 1);
    __builtin_prefetch(&e->window.current[dir], 1);
    __builtin_prefetch(reinterpret_cast<const char*>(&e->window.current[dir]) + 64, 1);
    __builtin_prefetch(&e->window.previous[dir]);
  }

  const std::vector<host_entry>& entries() const { return entries_; }
  std::vector<host_entry>& entries() { return entries_; }
  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

  /// Memory a full table takes per host: an entry plus its share of the index.
  size_t bytes_per_host() const {
    return sizeof(host_entry) + slots_.size() * sizeof(uint64_t) / capacity_;
  }
  /// Memory in use now: the index and the entries held.
  size_t memory_bytes() const {
    return slots_.size() * sizeof(uint64_t) + entries_.size() * sizeof(host_entry);
  }

  static uint64_t hash(const ip_address& a) {
    uint64_t hi = 0;
    uint64_t lo = 0;
    std::memcpy(&hi, a.bytes.data(), 8);
    std::memcpy(&lo, a.bytes.data() + 8, 8);
    // Both halves folded, then a full 64-bit finalizer (murmur3's fmix64):
    // IPv4 keys differ only in their last four bytes, and both the low bits
    // (slot) and the high bits (fingerprint) must depend on all of them.
    uint64_t h = hi * 0x9e3779b97f4a7c15ull ^ lo;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
  }

  /// Key equality as two 8-byte compares (ip_address's == calls memcmp).
  static bool same(const ip_address& a, const ip_address& b) {
    uint64_t x[2];
    uint64_t y[2];
    std::memcpy(x, a.bytes.data(), 16);
    std::memcpy(y, b.bytes.data(), 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }

private:
  static uint64_t slot_of(uint64_t h, size_t index) { return (h >> 32) << 32 | (index + 1); }
  static size_t index_of(uint64_t slot) { return size_t(uint32_t(slot)) - 1; }

  host_entry* find_hashed(const ip_address& a, uint64_t h);
  /// The index slot that points at entry `index`.
  size_t slot_pointing_at(size_t index) const;
  void erase_at(size_t index);

  size_t capacity_;
  size_t mask_;
  std::vector<uint64_t> slots_; ///< 0: empty
  std::vector<host_entry> entries_;
};

} // namespace tidewatch
