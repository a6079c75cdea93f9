#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "messages/address.hpp"

namespace tidewatch {

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
class adj_rib_in {
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

  adj_rib_in();

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

} // namespace tidewatch
