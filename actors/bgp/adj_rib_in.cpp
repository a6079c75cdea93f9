#include "actors/bgp/adj_rib_in.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace tidewatch {

namespace {

/// Blocks are sized in units of 8 words (32 bytes), and freed blocks are
/// reused by size, so nodes growing one route at a time refill each other's
/// holes.
constexpr uint32_t block_unit = 8;

/// The key bytes of an address in its family (4 for IPv4, 16 for IPv6).
const uint8_t* key_of(const ip_address& a) {
  return a.is_v4() ? a.bytes.data() + 12 : a.bytes.data();
}

/// Writes a 256-bit bitmap and its per-word counts of earlier set bits.
void write_bitmap(uint32_t* out, const std::array<bool, 256>& set) {
  std::fill(out, out + 10, 0u);
  for (unsigned s = 0; s < 256; ++s)
    if (set[s])
      out[s >> 5] |= 1u << (s & 31);
  auto* counts = reinterpret_cast<uint8_t*>(out + 8);
  unsigned total = 0;
  for (unsigned w = 0; w < 8; ++w) {
    counts[w] = uint8_t(total);
    total += unsigned(std::popcount(out[w]));
  }
}

} // namespace

template <class T> T* detail::page_allocator<T>::allocate(size_t n) {
  void* p =
      ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::bad_alloc();
  return static_cast<T*>(p);
}

template <class T> void detail::page_allocator<T>::deallocate(T* p, size_t n) {
  ::munmap(p, n * sizeof(T));
}

template struct detail::page_allocator<uint32_t>;

adj_rib_in::adj_rib_in() : v4_top_(1u << 16, 0) {
  add_node(0);
  add_node(0);
}

void adj_rib_in::refresh_top(unsigned first) {
  const uint32_t* root = block(v4_root);
  match base = own_match(root, first, 0, match{});
  bool has_child = test(root + h_child_bits, first);
  uint32_t child = has_child ? root[header_words + rank_below(root + h_child_bits, first)] : 0;
  auto& routes = v4_top_routes_[first];
  routes.clear();
  for (unsigned second = 0; second < 256; ++second) {
    match m = base;
    uint32_t& top = v4_top_[first << 8 | second];
    if (has_child) {
      const uint32_t* n = block(child);
      m = own_match(n, second, 1, base);
      if (test(n + h_child_bits, second)) {
        uint32_t grandchild = n[header_words + rank_below(n + h_child_bits, second)];
        uint32_t* g = block(grandchild);
        g[h_cover_attributes] = m.attributes;
        g[h_cover_path_id] = m.path_id;
        g[h_shape] = (g[h_shape] & 0xff00ffffu) | uint32_t(m.length) << 16;
        top = top_node | grandchild;
        continue;
      }
    }
    if (m.attributes == 0) {
      top = 0;
      continue;
    }
    const match* last = routes.empty() ? nullptr : &routes.back();
    if (!last || last->attributes != m.attributes || last->path_id != m.path_id ||
        last->length != m.length)
      routes.push_back(m);
    top = uint32_t(routes.size());
  }
}

uint32_t adj_rib_in::allocate(uint32_t words, uint32_t& capacity) {
  capacity = (words + block_unit - 1) / block_unit * block_unit;
  size_t size_class = capacity / block_unit;
  if (size_class < free_blocks_.size() && !free_blocks_[size_class].empty()) {
    uint32_t offset = free_blocks_[size_class].back();
    free_blocks_[size_class].pop_back();
    free_words_ -= capacity;
    return offset;
  }
  auto offset = uint32_t(pool_.size());
  // Grow by a quarter rather than double: the pool is most of the memory.
  if (pool_.size() + capacity > pool_.capacity())
    pool_.reserve(
        std::max({pool_.capacity() + pool_.capacity() / 4, pool_.size() + capacity, size_t(1024)}));
  pool_.resize(pool_.size() + capacity);
  return offset;
}

uint32_t adj_rib_in::add_node(uint8_t depth) {
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = uint32_t(nodes_.size());
    nodes_.emplace_back();
  }
  node_image empty;
  empty.depth = depth;
  store(id, empty);
  return id;
}

void adj_rib_in::free_node(uint32_t id) {
  free_node_block(nodes_[id]);
  free_ids_.push_back(id);
}

void adj_rib_in::load(uint32_t id, node_image& x) const {
  const uint32_t* n = block(id);
  x.cover_attributes = n[h_cover_attributes];
  x.cover_path_id = n[h_cover_path_id];
  x.cover_length = uint8_t(n[h_shape] >> 16);
  x.depth = uint8_t(n[h_shape] >> 24);
  x.children.clear();
  unsigned child = 0;
  for (unsigned s = 0; s < 256; ++s)
    if (test(n + h_child_bits, s))
      x.children.emplace_back(uint8_t(s), n[header_words + child++]);
  x.own.clear();
  const uint32_t* e = n + own_offset(n);
  for (unsigned i = 0; i < (n[h_counts] & 0xffff); ++i, e += entry_words)
    x.own.push_back({e[0], e[1], uint8_t(e[2]), uint8_t(e[2] >> 8), bool(e[2] >> 16 & 1)});
}

void adj_rib_in::store(uint32_t id, const node_image& x) {
  // Paint each slot with its longest own prefix: shortest first, and among
  // paths of one prefix the lowest path id last.
  thread_local std::vector<uint16_t> order;
  order.resize(x.own.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = uint16_t(i);
  std::sort(order.begin(), order.end(), [&x](uint16_t a, uint16_t b) {
    const entry& p = x.own[a];
    const entry& q = x.own[b];
    return p.bits != q.bits ? p.bits < q.bits : p.path_id > q.path_id;
  });
  std::array<uint16_t, 256> paint;
  paint.fill(no_entry);
  for (uint16_t i : order) {
    const entry& e = x.own[i];
    std::fill(paint.begin() + e.key, paint.begin() + e.key + (256u >> e.bits), i);
  }
  std::array<bool, 256> run_starts{};
  thread_local std::vector<uint16_t> runs;
  runs.clear();
  for (unsigned s = 0; s < 256; ++s)
    if (s == 0 || paint[s] != paint[s - 1]) {
      run_starts[s] = true;
      runs.push_back(paint[s]);
    }
  std::array<bool, 256> child_slots{};
  for (auto& [slot, child] : x.children)
    child_slots[slot] = true;
  auto words = uint32_t(header_words + x.children.size() + (runs.size() + 1) / 2 +
                        x.own.size() * entry_words);
  node_ref& r = nodes_[id];
  if (words > r.capacity || (r.capacity > block_unit && words * 2 < r.capacity)) {
    if (r.capacity != 0)
      free_node_block(r);
    uint32_t capacity = 0;
    uint32_t offset = allocate(words, capacity);
    nodes_[id] = node_ref{offset, capacity};
  }
  uint32_t* n = block(id);
  n[h_counts] = uint32_t(x.own.size()) | uint32_t(runs.size()) << 16;
  n[h_shape] =
      uint32_t(x.children.size()) | uint32_t(x.cover_length) << 16 | uint32_t(x.depth) << 24;
  n[h_cover_attributes] = x.cover_attributes;
  n[h_cover_path_id] = x.cover_path_id;
  write_bitmap(n + h_child_bits, child_slots);
  write_bitmap(n + h_run_bits, run_starts);
  uint32_t* out = n + header_words;
  for (auto& [slot, child] : x.children)
    *out++ = child;
  if (runs.size() % 2)
    out[runs.size() / 2] = 0;
  std::memcpy(out, runs.data(), runs.size() * 2);
  out += (runs.size() + 1) / 2;
  for (const entry& e : x.own) {
    out[0] = e.attributes;
    out[1] = e.path_id;
    out[2] = uint32_t(e.key) | uint32_t(e.bits) << 8 | uint32_t(e.stale) << 16;
    out += entry_words;
  }
  // Each child's cover is the route painted on its slot.
  for (auto& [slot, child] : x.children) {
    uint32_t* c = block(child);
    uint16_t i = paint[slot];
    const entry* e = i == no_entry ? nullptr : &x.own[i];
    c[h_cover_attributes] = e ? e->attributes : 0;
    c[h_cover_path_id] = e ? e->path_id : 0;
    c[h_shape] = (c[h_shape] & 0xff00ffffu) | uint32_t(e ? x.depth * 8 + e->bits : 0) << 16;
  }
}

void adj_rib_in::free_node_block(node_ref& r) {
  size_t size_class = r.capacity / block_unit;
  if (free_blocks_.size() <= size_class)
    free_blocks_.resize(size_class + 1);
  free_blocks_[size_class].push_back(r.offset);
  free_words_ += r.capacity;
  r = node_ref{};
}

void adj_rib_in::compact_if_fragmented() {
  if (free_words_ * 8 <= pool_.size() || pool_.size() < (1u << 20))
    return;
  decltype(pool_) pool;
  pool.reserve(pool_.size() - free_words_ + pool_.size() / 16);
  for (node_ref& r : nodes_) {
    if (r.capacity == 0)
      continue;
    const uint32_t* n = pool_.data() + r.offset;
    uint32_t words = used_words(n);
    uint32_t capacity = (words + block_unit - 1) / block_unit * block_unit;
    auto offset = uint32_t(pool.size());
    pool.insert(pool.end(), n, n + words);
    pool.resize(offset + capacity);
    r = node_ref{offset, capacity};
  }
  pool_ = std::move(pool);
  free_blocks_.clear();
  free_words_ = 0;
}

uint32_t adj_rib_in::insert(const ip_address& network, uint8_t length, uint32_t path_id,
                            uint32_t attributes) {
  if (length > (network.is_v4() ? 32 : 128))
    return attributes;
  compact_if_fragmented();
  const uint8_t* key = key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  auto bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  thread_local node_image image;
  uint32_t id = network.is_v4() ? v4_root : v6_root;
  // Whether the v4_top_ entries of key[0] change: a route up to /16, or a
  // node of depth 1 or 2 added.
  bool top_changed = network.is_v4() && depth <= 1;
  for (unsigned d = 0; d < depth; ++d) {
    const uint32_t* n = block(id);
    if (test(n + h_child_bits, key[d])) {
      id = n[header_words + rank_below(n + h_child_bits, key[d])];
      continue;
    }
    uint32_t child = add_node(uint8_t(d + 1));
    load(id, image);
    auto at = std::lower_bound(image.children.begin(), image.children.end(),
                               std::pair<uint8_t, uint32_t>{key[d], 0});
    image.children.insert(at, {key[d], child});
    store(id, image); // also sets the child's cover
    top_changed = top_changed || (network.is_v4() && d <= 1);
    id = child;
  }
  load(id, image);
  uint32_t old = 0;
  auto same = std::find_if(image.own.begin(), image.own.end(), [&](const entry& e) {
    return e.key == k && e.bits == bits && e.path_id == path_id;
  });
  if (same != image.own.end()) {
    old = same->attributes;
    same->attributes = attributes;
    same->stale = false;
  } else if (image.own.size() >= no_entry) {
    return attributes;
  } else {
    image.own.push_back({attributes, path_id, k, bits, false});
    ++size_;
  }
  store(id, image);
  if (top_changed)
    refresh_tops(key, depth, bits);
  return old;
}

uint32_t adj_rib_in::remove(const ip_address& network, uint8_t length, uint32_t path_id) {
  if (length > (network.is_v4() ? 32 : 128))
    return 0;
  compact_if_fragmented();
  const uint8_t* key = key_of(network);
  unsigned depth = length == 0 ? 0 : (length - 1u) / 8;
  auto bits = uint8_t(length - depth * 8);
  uint8_t k = bits == 0 ? 0 : uint8_t(key[depth] & (0xff << (8 - bits)));
  std::array<uint32_t, 17> trail;
  trail[0] = network.is_v4() ? v4_root : v6_root;
  for (unsigned d = 0; d < depth; ++d) {
    const uint32_t* n = block(trail[d]);
    if (!test(n + h_child_bits, key[d]))
      return 0;
    trail[d + 1] = n[header_words + rank_below(n + h_child_bits, key[d])];
  }
  thread_local node_image image;
  load(trail[depth], image);
  auto same = std::find_if(image.own.begin(), image.own.end(), [&](const entry& e) {
    return e.key == k && e.bits == bits && e.path_id == path_id;
  });
  if (same == image.own.end())
    return 0;
  uint32_t old = same->attributes;
  image.own.erase(same);
  --size_;
  store(trail[depth], image);
  bool top_changed = network.is_v4() && depth <= 1;
  // Free the nodes left empty, bottom up.
  for (unsigned d = depth; d > 0; --d) {
    const uint32_t* n = block(trail[d]);
    if ((n[h_counts] & 0xffff) != 0 || (n[h_shape] & 0xffff) != 0)
      break;
    load(trail[d - 1], image);
    std::erase_if(image.children, [&](const auto& c) { return c.second == trail[d]; });
    store(trail[d - 1], image);
    free_node(trail[d]);
    top_changed = top_changed || (network.is_v4() && d <= 2);
  }
  if (top_changed)
    refresh_tops(key, depth, bits);
  return old;
}

void adj_rib_in::refresh_tops(const uint8_t* key, unsigned depth, uint8_t bits) {
  // A route of depth 0 (up to /8) spans 2^(8 - bits) values of the first byte.
  unsigned first = key[0] & (depth == 0 ? 0xff00u >> bits & 0xff : 0xff);
  unsigned count = depth == 0 ? 256u >> bits : 1;
  for (unsigned i = 0; i < count; ++i)
    refresh_top(first + i);
}

adj_rib_in::match adj_rib_in::slot_route(uint32_t id, unsigned b) const {
  const uint32_t* n = block(id);
  return own_match(n, b, n[h_shape] >> 24, match{});
}

void adj_rib_in::lookup(const ip_address* in, size_t count, match* out) const {
  // Each lane walks one address as a small state machine whose every step
  // reads one thing that the step before prefetched: IPv4's first-level
  // entry, a node's place in the pool, the node's header, its run, its own
  // route. A lane prefetches and yields to the next lane, so the memory
  // reads of many addresses are in flight together; a lane that finishes
  // takes the next address.
  constexpr size_t lanes = 16;
  enum class step : uint8_t { top, place, header, run, route };
  struct lane {
    const uint8_t* key = nullptr;
    const void* next = nullptr; ///< what the next step reads (prefetched)
    size_t index = 0;
    unsigned depth = 0;
    step at = step::top;
    match best;
    const uint32_t* node = nullptr;
  };
  std::array<lane, lanes> ls;
  size_t next = 0;
  size_t active = 0;
  auto start = [&](lane& l) {
    const ip_address& a = in[next];
    l.key = key_of(a);
    l.index = next++;
    l.best = match{};
    if (a.is_v4()) {
      l.at = step::top;
      l.next = v4_top_.data() + (unsigned(l.key[0]) << 8 | l.key[1]);
    } else {
      l.at = step::place;
      l.depth = 0;
      l.next = &nodes_[v6_root];
    }
    __builtin_prefetch(l.next);
  };
  auto finish = [&](size_t& i, const match& m) {
    lane& l = ls[i];
    out[l.index] = m;
    if (next < count) {
      start(l);
      ++i;
    } else {
      l = ls[--active];
    }
  };
  auto go = [](lane& l, step s, const void* p) {
    l.at = s;
    l.next = p;
    __builtin_prefetch(p);
  };
  for (; active < lanes && next < count; ++active)
    start(ls[active]);
  while (active > 0) {
    for (size_t i = 0; i < active;) {
      lane& l = ls[i];
      switch (l.at) {
      case step::top: {
        uint32_t top = *static_cast<const uint32_t*>(l.next);
        if (!(top & top_node)) {
          finish(i, top_route(l.key[0], top));
          continue;
        }
        l.depth = 2;
        go(l, step::place, &nodes_[top & ~top_node]);
        break;
      }
      case step::place: {
        // The header's two cache lines; blocks are 32-byte aligned.
        l.node = pool_.data() + static_cast<const node_ref*>(l.next)->offset;
        go(l, step::header, l.node);
        __builtin_prefetch(l.node + header_words - 1);
        break;
      }
      case step::header: {
        const uint32_t* n = l.node;
        if (n[h_cover_attributes])
          l.best = cover_of(n);
        unsigned b = l.key[l.depth];
        if (test(n + h_child_bits, b)) {
          ++l.depth;
          go(l, step::place, &nodes_[n[header_words + rank_below(n + h_child_bits, b)]]);
          break;
        }
        unsigned run = rank_below(n + h_run_bits, b) + test(n + h_run_bits, b) - 1;
        go(l, step::run, reinterpret_cast<const char*>(n + run_offset(n)) + run * 2);
        break;
      }
      case step::run: {
        uint16_t local;
        std::memcpy(&local, l.next, 2);
        if (local == no_entry) {
          finish(i, l.best);
          continue;
        }
        go(l, step::route, l.node + own_offset(l.node) + local * entry_words);
        break;
      }
      case step::route: {
        auto* e = static_cast<const uint32_t*>(l.next);
        finish(i, match{e[0], uint8_t(l.depth * 8 + (e[2] >> 8 & 0xff)), e[1]});
        continue;
      }
      }
      ++i;
    }
  }
}

void adj_rib_in::mark_stale() {
  for (const node_ref& r : nodes_) {
    if (r.capacity == 0)
      continue;
    uint32_t* n = pool_.data() + r.offset;
    uint32_t* e = n + own_offset(n);
    for (unsigned i = 0; i < (n[h_counts] & 0xffff); ++i, e += entry_words)
      e[2] |= 1u << 16;
  }
}

size_t adj_rib_in::memory_bytes() const {
  size_t bytes = pool_.capacity() * sizeof(uint32_t) + nodes_.capacity() * sizeof(node_ref) +
                 free_ids_.capacity() * sizeof(uint32_t) +
                 free_blocks_.capacity() * sizeof(std::vector<uint32_t>);
  for (auto& f : free_blocks_)
    bytes += f.capacity() * sizeof(uint32_t);
  bytes += v4_top_.capacity() * sizeof(uint32_t);
  for (auto& r : v4_top_routes_)
    bytes += r.capacity() * sizeof(match);
  return bytes;
}

} // namespace tidewatch
