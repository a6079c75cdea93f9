#pragma once

// The RIB of tidewatch before its compressed trie (uncompressed 256-slot
// nodes), kept only so that bgp_rib_bench prints before and after in one run.

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <vector>

#include "messages/address.hpp"

namespace tidewatch::bench {

/// The routes one neighbor sent (RFC 4271 Adj-RIB-In), IPv4 and IPv6, with
/// longest-prefix match. Routes refer to interned attribute sets by id; this
/// class only stores the ids (the caller keeps the references).
///
/// Each family is a trie of 256-slot nodes (8-bit strides). A prefix lives in
/// the node of its last stride (its "own" list) and is expanded into the slots
/// it covers, a longer prefix overwriting a shorter one. A slot holds either a
/// route or a child node; a child node remembers the route of the slot it
/// replaced, so a lookup is one array read per stride and no comparisons.
/// Several ADD-PATH paths of one prefix: the lowest path id is the match.
class stride8_rib {
public:
  /// A longest-prefix match; attributes 0: no route.
  struct match {
    uint32_t attributes = 0;
    uint8_t length = 0; ///< in bits of the address family
    uint32_t path_id = 0;
  };

  /// A stored route, as for_each reports it.
  struct route {
    ip_address network;
    uint8_t length = 0;
    uint32_t path_id = 0;
    uint32_t attributes = 0;
    bool stale = false;
  };

  stride8_rib();

  /// Adds or replaces a route (length in bits of the address's family);
  /// returns the attribute id it replaced, 0 when new. Clears its stale mark.
  uint32_t insert(const ip_address& network, uint8_t length, uint32_t path_id, uint32_t attributes);
  /// Removes a route; returns its attribute id, 0 when it was not there.
  uint32_t remove(const ip_address& network, uint8_t length, uint32_t path_id);
  /// The longest prefix holding a.
  match lookup(const ip_address& a) const {
    uint32_t slot = a.is_v4() ? walk(v4_, a.bytes.data() + 12) : walk(v6_, a.bytes.data());
    if (slot == 0)
      return {};
    const entry& e = entries_[slot - 1];
    return {e.attributes, uint8_t(e.depth * 8 + e.bits), e.path_id};
  }

  /// Marks every route stale (a neighbor restarting gracefully).
  void mark_stale();
  /// Calls f(const route&) for every route.
  template <class F> void for_each(F f) const {
    std::array<uint8_t, 16> path{};
    for_each_in(v4_, 0, 0, true, path, f);
    for_each_in(v6_, 0, 0, false, path, f);
  }

  /// Routes held (each ADD-PATH path counts).
  size_t size() const { return size_; }
  /// Heap bytes used.
  size_t memory_bytes() const;

private:
  static constexpr uint32_t child_flag = 0x8000'0000u;
  static constexpr uint32_t nodes_per_chunk = 64;

  struct entry {
    uint32_t attributes = 0; ///< 0: free
    uint32_t path_id = 0;
    uint8_t key = 0;   ///< the prefix's bits within its node's stride (byte at `depth`, masked)
    uint8_t bits = 0;  ///< prefix length minus 8 * depth (0 to 8)
    uint8_t depth = 0; ///< stride of its node
    bool stale = false;
  };

  struct node {
    std::array<uint32_t, 256> slots{}; ///< entry index + 1, child | child_flag, or 0
    uint32_t covering = 0;             ///< the route of the parent slot this node replaced
    std::vector<uint32_t> own;         ///< entries whose last stride is this node
  };

  /// One family's nodes in fixed chunks (growth never copies nodes); node 0 is the root.
  struct trie {
    std::vector<std::unique_ptr<node[]>> chunks;
    uint32_t count = 0;
    node& operator[](uint32_t i) const { return chunks[i / nodes_per_chunk][i % nodes_per_chunk]; }
    uint32_t add();
  };

  static uint32_t walk(const trie& t, const uint8_t* key) {
    uint32_t best = t[0].covering;
    uint32_t index = 0;
    for (unsigned depth = 0;; ++depth) {
      uint32_t slot = t[index].slots[key[depth]];
      if (!(slot & child_flag))
        return slot ? slot : best;
      index = slot & ~child_flag;
      if (uint32_t c = t[index].covering)
        best = c;
    }
  }

  /// The node at `depth` on the path of key, created when missing (create)
  /// or UINT32_MAX when missing (!create).
  uint32_t find_node(trie& t, const uint8_t* key, unsigned depth, bool create);
  /// Rewrites node n's slots [lo, hi) from its own entries.
  void rebuild(trie& t, uint32_t n, unsigned lo, unsigned hi);
  /// Index of the own entry (key, bits, path_id) of node n, or UINT32_MAX.
  uint32_t find_own(const node& n, uint8_t key, uint8_t bits, uint32_t path_id) const;

  template <class F>
  void for_each_in(const trie& t, uint32_t n, unsigned depth, bool v4,
                   std::array<uint8_t, 16>& path, F& f) const {
    const node& x = t[n];
    for (uint32_t i : x.own) {
      const entry& e = entries_[i];
      path[depth] = e.key;
      route r;
      r.network =
          v4 ? ip_address::from_v4_bytes(path.data()) : ip_address::from_v6_bytes(path.data());
      r.length = uint8_t(depth * 8 + e.bits);
      r.path_id = e.path_id;
      r.attributes = e.attributes;
      r.stale = e.stale;
      f(static_cast<const route&>(r));
    }
    for (unsigned s = 0; s < 256; ++s)
      if (x.slots[s] & child_flag) {
        path[depth] = uint8_t(s);
        for_each_in(t, x.slots[s] & ~child_flag, depth + 1, v4, path, f);
        std::fill(path.begin() + depth + 1, path.end(), 0);
      }
    path[depth] = 0;
  }

  trie v4_;
  trie v6_;
  std::vector<entry> entries_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
};

namespace detail_stride8 {

inline constexpr uint32_t none = UINT32_MAX;

/// The key bytes of an address in its family (4 for IPv4, 16 for IPv6).
inline const uint8_t* key_of(const ip_address& a) {
  return a.is_v4() ? a.bytes.data() + 12 : a.bytes.data();
}

} // namespace detail_stride8

inline uint32_t stride8_rib::trie::add() {
  if (count % nodes_per_chunk == 0)
    chunks.push_back(std::make_unique<node[]>(nodes_per_chunk));
  return count++;
}

inline stride8_rib::stride8_rib() {
  v4_.add();
  v6_.add();
}

inline uint32_t stride8_rib::find_node(trie& t, const uint8_t* key, unsigned depth, bool create) {
  uint32_t n = 0;
  for (unsigned d = 0; d < depth; ++d) {
    uint32_t& slot = t[n].slots[key[d]];
    if (!(slot & child_flag)) {
      if (!create)
        return detail_stride8::none;
      uint32_t child = t.add(); // adds a chunk at most: `slot` stays valid
      t[child].covering = slot;
      slot = child | child_flag;
      n = child;
      continue;
    }
    n = slot & ~child_flag;
  }
  return n;
}

inline uint32_t stride8_rib::find_own(const node& n, uint8_t key, uint8_t bits,
                                      uint32_t path_id) const {
  for (size_t i = 0; i < n.own.size(); ++i) {
    const entry& e = entries_[n.own[i]];
    if (e.key == key && e.bits == bits && e.path_id == path_id)
      return uint32_t(i);
  }
  return detail_stride8::none;
}

inline void stride8_rib::rebuild(trie& t, uint32_t n, unsigned lo, unsigned hi) {
  node& x = t[n];
  // Entries overlapping [lo, hi), written shortest first so longer ones win;
  // among paths of one prefix the lowest path id is written last.
  thread_local std::vector<uint32_t> overlapping;
  overlapping.clear();
  for (uint32_t i : x.own) {
    const entry& e = entries_[i];
    unsigned begin = e.key;
    unsigned end = begin + (256u >> e.bits);
    if (begin < hi && end > lo)
      overlapping.push_back(i);
  }
  std::sort(overlapping.begin(), overlapping.end(), [this](uint32_t a, uint32_t b) {
    const entry& x = entries_[a];
    const entry& y = entries_[b];
    return x.bits != y.bits ? x.bits < y.bits : x.path_id > y.path_id;
  });
  auto set = [&](unsigned s, uint32_t value) {
    uint32_t& slot = x.slots[s];
    if (slot & child_flag)
      t[slot & ~child_flag].covering = value;
    else
      slot = value;
  };
  for (unsigned s = lo; s < hi; ++s)
    set(s, 0);
  for (uint32_t i : overlapping) {
    const entry& e = entries_[i];
    unsigned begin = std::max<unsigned>(e.key, lo);
    unsigned end = std::min<unsigned>(e.key + (256u >> e.bits), hi);
    for (unsigned s = begin; s < end; ++s)
      set(s, i + 1);
  }
}

inline uint32_t stride8_rib::insert(const ip_address& network, uint8_t length, uint32_t path_id,
                                    uint32_t attributes) {
  trie& t = network.is_v4() ? v4_ : v6_;
  const uint8_t* key = detail_stride8::key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  uint8_t bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  uint32_t n = find_node(t, key, depth, true);
  uint32_t at = find_own(t[n], k, bits, path_id);
  if (at != detail_stride8::none) {
    entry& e = entries_[t[n].own[at]];
    uint32_t old = e.attributes;
    e.attributes = attributes;
    e.stale = false;
    return old;
  }
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = uint32_t(entries_.size());
    entries_.emplace_back();
  }
  entries_[index] = entry{attributes, path_id, k, bits, uint8_t(depth), false};
  t[n].own.push_back(index);
  ++size_;
  rebuild(t, n, k, k + (256u >> bits));
  return 0;
}

inline uint32_t stride8_rib::remove(const ip_address& network, uint8_t length, uint32_t path_id) {
  trie& t = network.is_v4() ? v4_ : v6_;
  if (length > (network.is_v4() ? 32 : 128))
    return 0;
  const uint8_t* key = detail_stride8::key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  uint8_t bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  uint32_t n = find_node(t, key, depth, false);
  if (n == detail_stride8::none)
    return 0;
  auto& own = t[n].own;
  uint32_t at = find_own(t[n], k, bits, path_id);
  if (at == detail_stride8::none)
    return 0;
  uint32_t index = own[at];
  uint32_t old = entries_[index].attributes;
  own[at] = own.back();
  own.pop_back();
  entries_[index] = entry{};
  free_.push_back(index);
  --size_;
  rebuild(t, n, k, k + (256u >> bits));
  return old;
}

inline void stride8_rib::mark_stale() {
  for (auto& e : entries_)
    if (e.attributes)
      e.stale = true;
}

inline size_t stride8_rib::memory_bytes() const {
  size_t bytes = entries_.capacity() * sizeof(entry) + free_.capacity() * sizeof(uint32_t);
  for (const trie* t : {&v4_, &v6_}) {
    bytes +=
        t->chunks.capacity() * sizeof(void*) + t->chunks.size() * nodes_per_chunk * sizeof(node);
    for (uint32_t i = 0; i < t->count; ++i)
      bytes += (*t)[i].own.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

} // namespace tidewatch::bench
