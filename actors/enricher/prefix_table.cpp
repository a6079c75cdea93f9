#include "actors/enricher/prefix_table.hpp"

#include <algorithm>

namespace tidewatch {

void prefix_table::add(const ip_prefix& prefix, uint32_t value) {
  pending_.push_back({prefix, value});
}

void prefix_table::insert(huge_vector<node>& nodes, const uint8_t* network, unsigned length,
                          uint32_t value) {
  uint32_t index = 0;
  for (unsigned depth = 0;; ++depth) {
    unsigned byte = network[depth];
    unsigned level_end = 8 * (depth + 1);
    if (length <= level_end) {
      // The prefix ends in this node: it covers 2^(level_end - length) slots.
      // Prefixes arrive shortest first, so none of these slots has a child yet.
      unsigned span = 1u << (level_end - length);
      unsigned first = byte & ~(span - 1);
      std::fill_n(nodes[index].begin() + first, span, value);
      return;
    }
    uint32_t slot = nodes[index][byte];
    if (slot & child_flag) {
      index = slot & ~child_flag;
      continue;
    }
    // A longer prefix goes below this slot: the new child inherits the
    // slot's value, so addresses beside the longer prefix still match it.
    node child;
    child.fill(slot);
    nodes.push_back(child);
    uint32_t child_index = uint32_t(nodes.size() - 1);
    nodes[index][byte] = child_index | child_flag;
    index = child_index;
  }
}

void prefix_table::build() {
  // Shortest first, and stable so that a repeated prefix keeps its last value.
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const auto& a, const auto& b) { return a.prefix.length < b.prefix.length; });
  v4_.assign(1, node{});
  v6_.assign(1, node{});
  for (auto& p : pending_) {
    if (p.prefix.network.is_v4() && p.prefix.length >= 96) {
      uint32_t v = p.prefix.network.v4_host_order();
      uint8_t bytes[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
      if (p.prefix.length == 96) // 0.0.0.0/0
        v4_[0].fill(p.value);
      else
        insert(v4_, bytes, p.prefix.length - 96u, p.value);
    } else if (p.prefix.length == 0) {
      v6_[0].fill(p.value);
    } else {
      insert(v6_, p.prefix.network.bytes.data(), p.prefix.length, p.value);
    }
  }
}

void prefix_table::lookup(const ip_address* in, size_t n, uint32_t* out) const {
  // Groups of addresses descend one level at a time: each address's next
  // slot is prefetched, then read once the whole group has been prefetched.
  constexpr size_t group = 32;
  std::array<const uint32_t*, group> slot;
  for (size_t base = 0; base < n; base += group) {
    const size_t count = std::min(group, n - base);
    size_t pending = 0;
    for (size_t i = 0; i < count; ++i) {
      const ip_address& a = in[base + i];
      const auto& nodes = a.is_v4() ? v4_ : v6_;
      out[base + i] = no_match;
      slot[i] = nodes.empty() ? nullptr : &nodes[0][a.bytes[a.is_v4() ? 12 : 0]];
      if (slot[i]) {
        __builtin_prefetch(slot[i]);
        ++pending;
      }
    }
    for (unsigned depth = 1; pending != 0; ++depth) {
      for (size_t i = 0; i < count; ++i) {
        if (!slot[i])
          continue;
        uint32_t value = *slot[i];
        if (!(value & child_flag)) {
          out[base + i] = value;
          slot[i] = nullptr;
          --pending;
          continue;
        }
        const ip_address& a = in[base + i];
        const auto& nodes = a.is_v4() ? v4_ : v6_;
        slot[i] = &nodes[value & ~child_flag][a.bytes[(a.is_v4() ? 12 : 0) + depth]];
        __builtin_prefetch(slot[i]);
      }
    }
  }
}

} // namespace tidewatch
