#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "messages/address.hpp"

namespace tidewatch {

namespace detail {

/// Allocates straight from the kernel (mmap) and gives memory back on free
/// (munmap): the RIB's node pool is tens of megabytes, regrown and compacted
/// while a table loads, and malloc would keep freed copies resident.
template <class T> struct page_allocator {
  using value_type = T;
  page_allocator() = default;
  template <class U> page_allocator(const page_allocator<U>&) {}
  T* allocate(size_t n);
  void deallocate(T* p, size_t n);
  friend bool operator==(const page_allocator&, const page_allocator&) = default;
};

} // namespace detail

/// The routes one neighbor sent (RFC 4271 Adj-RIB-In), IPv4 and IPv6, with
/// longest-prefix match. Routes refer to interned attribute sets by id; this
/// class only stores the ids (the caller keeps the references).
///
/// Each family is a trie of 8-bit strides whose nodes are compressed blocks
/// in one word pool (no allocation per node; nodes are named by 32-bit ids).
/// A prefix lives in the node of its last stride (its "own" entries). A node
/// keeps two 256-bit bitmaps: the slots that lead to a child, and the slots
/// where the longest own prefix changes (a run starts); the run's own entry
/// is found by a popcount, so a node costs 96 bytes plus 2 bytes per run,
/// 12 per own route and 4 per child. A child node remembers the route of the
/// parent slot it replaced (its cover), so a lookup reads one node per
/// stride and compares nothing. IPv4 lookups start from a table indexed by
/// the top 16 bits (256 KiB) that holds the /16's node or its longest
/// prefix up to /16; a /16's node covers with that prefix, whatever its
/// length. Several ADD-PATH paths of one prefix: the lowest path id is the
/// match.
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
  /// A route that cannot be stored (a length beyond the family's, or more
  /// than 65,534 routes in one node's stride, only possible with ADD-PATH)
  /// is dropped and `attributes` returned, so the caller releases it.
  uint32_t insert(const ip_address& network, uint8_t length, uint32_t path_id, uint32_t attributes);
  /// Removes a route; returns its attribute id, 0 when it was not there.
  uint32_t remove(const ip_address& network, uint8_t length, uint32_t path_id);

  /// The longest prefix holding a.
  match lookup(const ip_address& a) const {
    const uint8_t* key = a.is_v4() ? a.bytes.data() + 12 : a.bytes.data();
    uint32_t id = v6_root;
    unsigned depth = 0;
    if (a.is_v4()) {
      uint32_t top = v4_top_[unsigned(key[0]) << 8 | key[1]];
      if (!(top & top_node))
        return top_route(key[0], top);
      id = top & ~top_node;
      depth = 2;
    }
    match best;
    for (;; ++depth) {
      const uint32_t* n = prefetch_block(id);
      if (n[h_cover_attributes])
        best = cover_of(n);
      unsigned b = key[depth];
      if (test(n + h_child_bits, b)) {
        id = n[header_words + rank_below(n + h_child_bits, b)];
        continue;
      }
      return own_match(n, b, depth, best);
    }
  }

  /// Longest matches of n addresses (out[i] for in[i]). Walks several
  /// addresses side by side and prefetches each one's next node, so the
  /// memory reads of different addresses overlap: faster than n lookup()
  /// calls when the table is larger than the caches.
  void lookup(const ip_address* in, size_t n, match* out) const;

  /// Marks every route stale (a neighbor restarting gracefully).
  void mark_stale();
  /// Calls f(const route&) for every route.
  template <class F> void for_each(F f) const {
    std::array<uint8_t, 16> path{};
    for_each_in(v4_root, 0, true, path, f);
    for_each_in(v6_root, 0, false, path, f);
  }

  /// Routes held (each ADD-PATH path counts).
  size_t size() const { return size_; }
  /// Heap bytes used.
  size_t memory_bytes() const;

private:
  static constexpr uint32_t v4_root = 0;
  static constexpr uint32_t v6_root = 1;
  static constexpr uint16_t no_entry = 0xffff;
  /// In v4_top_: the entry names the /16's node (its id below this bit).
  static constexpr uint32_t top_node = 0x80000000u;

  // -- node block layout, in 32-bit words --
  static constexpr unsigned h_counts = 0; ///< own count | run count << 16
  static constexpr unsigned h_shape = 1;  ///< child count | cover length << 16 | depth << 24
  static constexpr unsigned h_cover_attributes = 2; ///< the parent slot's route, 0: none
  static constexpr unsigned h_cover_path_id = 3;
  static constexpr unsigned h_child_bits = 4; ///< 8 words of bits, then 8 bytes of counts
  static constexpr unsigned h_run_bits = 14;  ///< same layout
  static constexpr unsigned header_words = 24;
  // Then: children (one node id each, in slot order), runs (16-bit own
  // entry index or no_entry each, padded to a word), own entries.
  static constexpr unsigned entry_words = 3; ///< attributes, path id, key | bits << 8 | stale << 16

  struct entry {
    uint32_t attributes = 0;
    uint32_t path_id = 0;
    uint8_t key = 0;  ///< the prefix's bits within its node's stride (masked)
    uint8_t bits = 0; ///< prefix length minus 8 * depth (0 to 8)
    bool stale = false;
  };

  /// A node unpacked for a change.
  struct node_image {
    uint32_t cover_attributes = 0;
    uint32_t cover_path_id = 0;
    uint8_t cover_length = 0;
    uint8_t depth = 0;
    std::vector<std::pair<uint8_t, uint32_t>> children; ///< slot, node id; by slot
    std::vector<entry> own;
  };

  /// Where a node's block is in the pool.
  struct node_ref {
    uint32_t offset = 0;
    uint32_t capacity = 0; ///< words; 0: the id is free
  };

  const uint32_t* block(uint32_t id) const { return pool_.data() + nodes_[id].offset; }
  uint32_t* block(uint32_t id) { return pool_.data() + nodes_[id].offset; }
  /// Node id's block, its first 512 bytes prefetched: its header, runs and
  /// routes then come from memory together instead of one after another.
  const uint32_t* prefetch_block(uint32_t id) const {
    const node_ref& r = nodes_[id];
    const char* n = reinterpret_cast<const char*>(pool_.data() + r.offset);
    const char* end = n + std::min(r.capacity * 4u, 512u);
    for (const char* line = n; line < end; line += 64)
      __builtin_prefetch(line);
    __builtin_prefetch(end - 1);
    return reinterpret_cast<const uint32_t*>(n);
  }

  static bool test(const uint32_t* bits, unsigned b) { return bits[b >> 5] >> (b & 31) & 1; }
  /// Set bits before position b of a bitmap with its per-word counts.
  static unsigned rank_below(const uint32_t* bits, unsigned b) {
    auto* counts = reinterpret_cast<const uint8_t*>(bits + 8);
    return counts[b >> 5] + unsigned(std::popcount(bits[b >> 5] & ((1u << (b & 31)) - 1)));
  }
  static match cover_of(const uint32_t* n) {
    return {n[h_cover_attributes], uint8_t(n[h_shape] >> 16), n[h_cover_path_id]};
  }
  static unsigned run_offset(const uint32_t* n) { return header_words + (n[h_shape] & 0xffff); }
  static unsigned own_offset(const uint32_t* n) {
    return run_offset(n) + ((n[h_counts] >> 16) + 1) / 2;
  }
  /// The own route of slot b of node n (its run), else best.
  static match own_match(const uint32_t* n, unsigned b, unsigned depth, match best) {
    unsigned run = rank_below(n + h_run_bits, b) + test(n + h_run_bits, b) - 1;
    uint16_t local;
    std::memcpy(&local, reinterpret_cast<const char*>(n + run_offset(n)) + run * 2, 2);
    if (local == no_entry)
      return best;
    const uint32_t* e = n + own_offset(n) + local * entry_words;
    return {e[0], uint8_t(depth * 8 + (e[2] >> 8 & 0xff)), e[1]};
  }

  /// The route of a v4_top_ entry without top_node: 0 none, else its
  /// index in v4_top_routes_[first byte] plus one.
  match top_route(uint8_t first, uint32_t top) const {
    return top == 0 ? match{} : v4_top_routes_[first][top - 1];
  }
  /// Recomputes the v4_top_ entries of the /8 `first` (256 of them) after
  /// a change to a node of depth 0 or 1 or to which /16s have a node, and
  /// sets each depth-2 node's cover to its whole longest prefix up to /16.
  void refresh_top(unsigned first);
  /// Calls refresh_top for each /8 that a route of `depth` and `bits`
  /// (as insert computes them) under key overlaps.
  void refresh_tops(const uint8_t* key, unsigned depth, uint8_t bits);

  /// Unpacks node id into x.
  void load(uint32_t id, node_image& x) const;
  /// Packs x into node id's block (moving it when it no longer fits) and
  /// sets its children's covers.
  void store(uint32_t id, const node_image& x);
  /// A new empty node at depth; returns its id.
  uint32_t add_node(uint8_t depth);
  /// Frees a node's block and id.
  void free_node(uint32_t id);
  /// Puts a node's block on its free list.
  void free_node_block(node_ref& r);
  /// A block of at least `words` words; returns its offset and sets capacity.
  uint32_t allocate(uint32_t words, uint32_t& capacity);
  /// Moves every block next to each other when freed blocks hold more than
  /// an eighth of the pool (nodes growing a route at a time leave holes).
  void compact_if_fragmented();
  /// Words in use by the node block n.
  static uint32_t used_words(const uint32_t* n) {
    return own_offset(n) + (n[h_counts] & 0xffff) * entry_words;
  }
  /// The route painted on slot b of node id (its run), as a cover for a child.
  match slot_route(uint32_t id, unsigned b) const;

  template <class F>
  void for_each_in(uint32_t id, unsigned depth, bool v4, std::array<uint8_t, 16>& path,
                   F& f) const {
    const uint32_t* n = block(id);
    const uint32_t* e = n + own_offset(n);
    for (unsigned i = 0; i < (n[h_counts] & 0xffff); ++i, e += entry_words) {
      path[depth] = uint8_t(e[2]);
      route r;
      r.network =
          v4 ? ip_address::from_v4_bytes(path.data()) : ip_address::from_v6_bytes(path.data());
      r.length = uint8_t(depth * 8 + (e[2] >> 8 & 0xff));
      r.path_id = e[1];
      r.attributes = e[0];
      r.stale = (e[2] >> 16) & 1;
      f(static_cast<const route&>(r));
    }
    unsigned child = 0;
    for (unsigned s = 0; s < 256; ++s)
      if (test(n + h_child_bits, s)) {
        path[depth] = uint8_t(s);
        uint32_t c = block(id)[header_words + child++];
        for_each_in(c, depth + 1, v4, path, f);
        std::fill(path.begin() + depth + 1, path.end(), 0);
      }
    path[depth] = 0;
  }

  /// IPv4's first level, indexed by the top 16 bits of an address: the id
  /// of the /16's node (depth 2) with top_node set, or its longest prefix up
  /// to /16 (see top_route). A lookup starts at depth 2, one read instead
  /// of two nodes.
  std::vector<uint32_t> v4_top_;
  /// The distinct routes of each /8's v4_top_ entries.
  std::array<std::vector<match>, 256> v4_top_routes_;
  std::vector<uint32_t, detail::page_allocator<uint32_t>> pool_;
  std::vector<node_ref> nodes_;
  std::vector<uint32_t> free_ids_;
  std::vector<std::vector<uint32_t>> free_blocks_; ///< offsets by capacity / block_unit
  size_t free_words_ = 0;                          ///< in freed blocks
  size_t size_ = 0;
};

} // namespace tidewatch
