#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "actors/common/huge_pages.hpp"
#include "actors/detector/traffic_counts.hpp"
#include "messages/address.hpp"

namespace tidewatch {

/// What a record of one direction below its host's thresholds reads and
/// writes: the host's key (a copy per direction, so that the lookup compares
/// it on this line), its hostgroup and the direction's fast window. One
/// cache line: with a million hosts looked up at random, the lines a record
/// touches are what bounds the detector's rate.
struct alignas(64) host_line {
  ip_address address;
  uint16_t group = 0; ///< hostgroup index + 1; 0: none
  bool whitelisted = false;
  fast_window fast;
};
static_assert(sizeof(host_line) == 64);

/// A tracked host's lines, one per direction (0 incoming, 1 outgoing).
using host_lines = std::array<host_line, 2>;
/// A tracked host's windows, whose state line and counts only records that
/// the headroom does not take touch (one per bucket and host, fragments,
/// and those near a threshold).
using host_windows = std::array<rate_window, 2>;

/// The tracked hosts: dense arrays of lines and of windows (so that expiry
/// and top-N scans walk contiguous memory) behind an open-addressing index
/// with linear probing. The lines are apart from the windows so that what
/// most records touch (128 bytes per host) spans as few pages as possible:
/// random lookups over a million hosts pay for page walks as much as for
/// cache misses. An index slot is 32 bits: the host's position + 1 in the
/// low bits (as many as the capacity needs), a fingerprint of the hash in
/// the rest, so that a probe compares keys only on a likely hit, and so
/// that the index (which every lookup reads at a random place) is half the
/// size it would be with 64-bit slots. The index has at least twice as
/// many slots as the capacity; the arrays are reserved up front, so
/// inserting never reallocates and the memory of a tracked host is fixed
/// (bytes_per_host()). Hosts are named by their position, which erasing
/// another host may change.
class host_table {
public:
  static constexpr size_t npos = SIZE_MAX;

  /// A table for at most `capacity` hosts.
  explicit host_table(size_t capacity);

  /// The position of `a`, or npos.
  size_t find(const ip_address& a) const {
    return probe(hash(a), [&](size_t i) { return same(lines_[i][0].address, a); });
  }

  /// The position of `a`, inserted (with `fresh` set) if missing; npos when
  /// the table is full.
  size_t find_or_insert(const ip_address& a, bool& fresh) {
    return find_or_insert_hashed(a, hash(a), 0, fresh);
  }

  /// The same for `a` with hash(a) == `h`, computed by the caller (which
  /// prefetched with it), comparing keys on the line of direction `dir`.
  size_t find_or_insert_hashed(const ip_address& a, uint64_t h, size_t dir, bool& fresh);

  /// Removes the hosts for which `expired(lines, windows)` holds; returns how many.
  template <class Predicate> size_t remove_if(Predicate expired) {
    size_t removed = 0;
    for (size_t i = 0; i < lines_.size();) {
      if (expired(lines_[i], windows_[i])) {
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

  /// The position a host with hash `h` most likely has: the first on its
  /// probe sequence with the same fingerprint (the caller compares the key),
  /// or npos. Reads the index (prefetch_slot it first) and hints the CPU to
  /// load the host's line of direction `dir`.
  size_t candidate(uint64_t h, size_t dir) const {
    size_t i = probe(h, [](size_t) { return true; });
    if (i != npos)
      __builtin_prefetch(&lines_[i][dir]);
    return i;
  }

  host_lines& lines(size_t i) { return lines_[i]; }
  const host_lines& lines(size_t i) const { return lines_[i]; }
  host_windows& windows(size_t i) { return windows_[i]; }
  const host_windows& windows(size_t i) const { return windows_[i]; }
  const ip_address& address(size_t i) const { return lines_[i][0].address; }
  size_t size() const { return lines_.size(); }
  size_t capacity() const { return capacity_; }

  /// Memory a full table takes per host: its lines and windows plus its
  /// share of the index.
  size_t bytes_per_host() const {
    return sizeof(host_lines) + sizeof(host_windows) + slots_.size() * sizeof(uint32_t) / capacity_;
  }
  /// Memory in use now: the index and the hosts held.
  size_t memory_bytes() const {
    return slots_.size() * sizeof(uint32_t) +
           lines_.size() * (sizeof(host_lines) + sizeof(host_windows));
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

  /// The first position on the probe sequence of hash `h` whose fingerprint
  /// matches and that `accept`s, or npos at the first empty slot.
  template <class Accept> size_t probe(uint64_t h, Accept accept) const {
    uint32_t fingerprint = fingerprint_of(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint32_t slot = slots_[i];
      if (slot == 0)
        return npos;
      if ((slot & ~position_mask_) == fingerprint && accept(index_of(slot)))
        return index_of(slot);
    }
  }
  /// The index slot that points at position `index`.
  size_t slot_pointing_at(size_t index) const;
  void erase_at(size_t index);

  size_t capacity_;
  size_t mask_;
  uint32_t position_mask_;      ///< the bits of a slot that hold the position + 1
  huge_vector<uint32_t> slots_; ///< 0: empty
  huge_vector<host_lines> lines_;
  huge_vector<host_windows> windows_;
};

} // namespace tidewatch
