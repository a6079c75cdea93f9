#include "actors/bgp/attribute_store.hpp"

#include <cstring>

#include "actors/bgp/bgp_format.hpp"

namespace tidewatch {

namespace {

/// FNV-1a over raw bytes, chained through `h`.
uint64_t mix(uint64_t h, const void* data, size_t size) {
  auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

template <class T> uint64_t mix_vector(uint64_t h, const std::vector<T>& v) {
  uint64_t n = v.size();
  h = mix(h, &n, sizeof n);
  return v.empty() ? h : mix(h, v.data(), v.size() * sizeof(T));
}

} // namespace

uint64_t hash_value(const bgp_path_attributes& a) {
  uint64_t h = 0xcbf29ce484222325ull;
  h = mix(h, &a.origin, 1);
  h = mix(h, &a.flags, 1);
  h = mix(h, a.next_hop.bytes.data(), 16);
  h = mix(h, &a.med, 4);
  h = mix(h, &a.local_pref, 4);
  h = mix_vector(h, a.segments);
  h = mix_vector(h, a.as_path);
  h = mix_vector(h, a.communities);
  h = mix_vector(h, a.extended_communities);
  return mix_vector(h, a.large_communities);
}

uint32_t attribute_store::intern(const bgp_path_attributes& a) {
  uint64_t h = hash_value(a);
  auto [begin, end] = by_hash_.equal_range(h);
  for (auto it = begin; it != end; ++it) {
    auto& e = entries_[it->second - 1];
    if (e.attributes == a) {
      ++e.references;
      return it->second;
    }
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    entries_.emplace_back();
    id = uint32_t(entries_.size());
  }
  auto& e = entries_[id - 1];
  e.attributes = a;
  auto texts = std::make_shared<label_table>();
  e.present_texts = 0;
  for (const auto& text : {format_as_path(a), format_communities(a), format_extended_communities(a),
                           format_large_communities(a)}) {
    uint32_t label = texts->add(text);
    if (!text.empty())
      e.present_texts |= uint8_t(1u << (label - 1));
  }
  e.texts = std::move(texts);
  e.origin_as = origin_as(a);
  e.peer_as = peer_as(a);
  e.references = 1;
  by_hash_.emplace(h, id);
  return id;
}

void attribute_store::release(uint32_t id) {
  auto& e = entries_[id - 1];
  if (--e.references > 0)
    return;
  auto [begin, end] = by_hash_.equal_range(hash_value(e.attributes));
  for (auto it = begin; it != end; ++it)
    if (it->second == id) {
      by_hash_.erase(it);
      break;
    }
  e = interned_attributes{};
  free_.push_back(id);
}

size_t attribute_store::memory_bytes() const {
  size_t bytes = entries_.capacity() * sizeof(interned_attributes) +
                 free_.capacity() * sizeof(uint32_t) +
                 by_hash_.size() * (sizeof(void*) * 2 + sizeof(uint64_t) * 2) +
                 by_hash_.bucket_count() * sizeof(void*);
  for (auto& e : entries_) {
    const auto& a = e.attributes;
    bytes += a.segments.capacity() * 2 + a.as_path.capacity() * 4 + a.communities.capacity() * 4 +
             a.extended_communities.capacity() * 8 +
             a.large_communities.capacity() * sizeof(bgp_large_community);
    if (e.texts)
      bytes += sizeof(label_table) + 16 + e.texts->text.capacity() +
               e.texts->ends.capacity() * sizeof(uint32_t);
  }
  return bytes;
}

} // namespace tidewatch
