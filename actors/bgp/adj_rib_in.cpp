#include "actors/bgp/adj_rib_in.hpp"

#include <algorithm>
#include <climits>

namespace tidewatch {

namespace {

constexpr uint32_t none = UINT32_MAX;

/// The key bytes of an address in its family (4 for IPv4, 16 for IPv6).
const uint8_t* key_of(const ip_address& a) {
  return a.is_v4() ? a.bytes.data() + 12 : a.bytes.data();
}

} // namespace

uint32_t adj_rib_in::trie::add() {
  if (count % nodes_per_chunk == 0)
    chunks.push_back(std::make_unique<node[]>(nodes_per_chunk));
  return count++;
}

adj_rib_in::adj_rib_in() {
  v4_.add();
  v6_.add();
}

uint32_t adj_rib_in::find_node(trie& t, const uint8_t* key, unsigned depth, bool create) {
  uint32_t n = 0;
  for (unsigned d = 0; d < depth; ++d) {
    uint32_t& slot = t[n].slots[key[d]];
    if (!(slot & child_flag)) {
      if (!create)
        return none;
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

uint32_t adj_rib_in::find_own(const node& n, uint8_t key, uint8_t bits, uint32_t path_id) const {
  for (size_t i = 0; i < n.own.size(); ++i) {
    const entry& e = entries_[n.own[i]];
    if (e.key == key && e.bits == bits && e.path_id == path_id)
      return uint32_t(i);
  }
  return none;
}

void adj_rib_in::rebuild(trie& t, uint32_t n, unsigned lo, unsigned hi) {
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

uint32_t adj_rib_in::insert(const ip_address& network, uint8_t length, uint32_t path_id,
                            uint32_t attributes) {
  trie& t = network.is_v4() ? v4_ : v6_;
  const uint8_t* key = key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  uint8_t bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  uint32_t n = find_node(t, key, depth, true);
  uint32_t at = find_own(t[n], k, bits, path_id);
  if (at != none) {
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

uint32_t adj_rib_in::remove(const ip_address& network, uint8_t length, uint32_t path_id) {
  trie& t = network.is_v4() ? v4_ : v6_;
  if (length > (network.is_v4() ? 32 : 128))
    return 0;
  const uint8_t* key = key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  uint8_t bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  uint32_t n = find_node(t, key, depth, false);
  if (n == none)
    return 0;
  auto& own = t[n].own;
  uint32_t at = find_own(t[n], k, bits, path_id);
  if (at == none)
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

void adj_rib_in::mark_stale() {
  for (auto& e : entries_)
    if (e.attributes)
      e.stale = true;
}

size_t adj_rib_in::memory_bytes() const {
  size_t bytes = entries_.capacity() * sizeof(entry) + free_.capacity() * sizeof(uint32_t);
  for (const trie* t : {&v4_, &v6_}) {
    bytes +=
        t->chunks.capacity() * sizeof(void*) + t->chunks.size() * nodes_per_chunk * sizeof(node);
    for (uint32_t i = 0; i < t->count; ++i)
      bytes += (*t)[i].own.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

} // namespace tidewatch
