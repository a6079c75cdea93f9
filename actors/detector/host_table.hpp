#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "actors/common/huge_pages.hpp"
#include "actors/detector/traffic_counts.hpp"
#include "messages/address.hpp"

namespace tidewatch {

/// What the detector keeps per tracked host. Aligned to cache lines: the
/// key, the flags and the window's header (bucket, headroom) fill the first
/// line, each direction's counts the next three, and the state of crossings
/// and attacks the last, so that a TCP or UDP record below its host's
/// thresholds touches two lines (see rate_window).
struct alignas(64) host_entry {
  ip_address address;
  uint16_t group = 0; ///< hostgroup index + 1; 0: none
  bool whitelisted = false;
  rate_window window;
};
static_assert(offsetof(host_entry, window) + offsetof(rate_window, counts) == 64);
static_assert(offsetof(direction_counts, rare) == 128 && sizeof(direction_counts) == 192);
static_assert(sizeof(host_entry) == 512);

/// The tracked hosts: a dense array of entries (so that expiry and top-N
/// scans walk contiguous memory) behind an open-addressing index with linear
/// probing. An index slot is 32 bits: the entry's position + 1 in the low
/// bits (as many as the capacity needs), a fingerprint of the hash in the
/// rest, so that a probe compares keys only on a likely hit, and so that the
/// index (which every lookup reads at a random place) is half the size it
/// would be with 64-bit slots. The index has at least twice as many slots as
/// the capacity; entries are
/// reserved up front, so inserting never reallocates and the memory of a
/// tracked host is fixed (bytes_per_host()).
class host_table {
public:
  /// A table for at most `capacity` hosts.
  explicit host_table(size_t capacity);

  /// The entry of `a`, or nullptr.
  host_entry* find(const ip_address& a) {
    return probe(hash(a), [&](const host_entry& e) { return same(e.address, a); });
  }

  /// The entry of `a`, inserted (with `fresh` set) if missing; nullptr when
  /// the table is full.
  host_entry* find_or_insert(const ip_address& a, bool& fresh) {
    return find_or_insert_hashed(a, hash(a), fresh);
  }

  /// The same for `a` with hash(a) == `h`, computed by the caller (which
  /// prefetched with it).
  host_entry* find_or_insert_hashed(const ip_address& a, uint64_t h, bool& fresh);

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

  /// Hints the CPU to load the index slot of a host with hash `h`: the first
  /// of two steps that overlap the memory latency of many lookups.
  void prefetch_slot(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }

  /// The entry a host with hash `h` most likely has: the first on its probe
  /// sequence with the same fingerprint (the caller compares the key), or
  /// nullptr. Reads the index (prefetch_slot it first) and hints the CPU to
  /// load the entry's first line and the line of counts that a record of
  /// direction `dir` in a bucket of parity `parity` adds to, and the rare
  /// kinds' line if `rare`.
  host_entry* candidate(uint64_t h, size_t dir, size_t parity, bool rare) {
    auto* e = probe(h, [](const host_entry&) { return true; });
    if (e != nullptr) {
      auto& counts = e->window.counts[dir];
      __builtin_prefetch(e);
      __builtin_prefetch(&counts.common[parity]);
      if (rare)
        __builtin_prefetch(&counts.rare);
    }
    return e;
  }

  const huge_vector<host_entry>& entries() const { return entries_; }
  huge_vector<host_entry>& entries() { return entries_; }
  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

  /// Memory a full table takes per host: an entry plus its share of the index.
  size_t bytes_per_host() const {
    return sizeof(host_entry) + slots_.size() * sizeof(uint32_t) / capacity_;
  }
  /// Memory in use now: the index and the entries held.
  size_t memory_bytes() const {
    return slots_.size() * sizeof(uint32_t) + entries_.size() * sizeof(host_entry);
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
  /// The fingerprint of hash `h`, in the bits of a slot above the position.
  uint32_t fingerprint_of(uint64_t h) const { return uint32_t(h >> 32) & ~position_mask_; }
  uint32_t slot_of(uint64_t h, size_t index) const {
    return fingerprint_of(h) | uint32_t(index + 1);
  }
  size_t index_of(uint32_t slot) const { return size_t(slot & position_mask_) - 1; }

  /// The first entry on the probe sequence of hash `h` whose fingerprint
  /// matches and that `accept`s, or nullptr at the first empty slot.
  template <class Accept> host_entry* probe(uint64_t h, Accept accept) {
    uint32_t fingerprint = fingerprint_of(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint32_t slot = slots_[i];
      if (slot == 0)
        return nullptr;
      if ((slot & ~position_mask_) == fingerprint && accept(entries_[index_of(slot)]))
        return &entries_[index_of(slot)];
    }
  }
  /// The index slot that points at entry `index`.
  size_t slot_pointing_at(size_t index) const;
  void erase_at(size_t index);

  size_t capacity_;
  size_t mask_;
  uint32_t position_mask_;      ///< the bits of a slot that hold the entry's position + 1
  huge_vector<uint32_t> slots_; ///< 0: empty
  huge_vector<host_entry> entries_;
};

} // namespace tidewatch
