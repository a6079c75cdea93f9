#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/bgp.hpp"

namespace tidewatch {

/// A set of path attributes with its output texts, formatted once when the
/// set is first seen so that enriching a flow copies text instead of
/// formatting it.
struct interned_attributes {
  bgp_path_attributes attributes;
  std::string as_path;              ///< format_as_path
  std::string communities;          ///< format_communities
  std::string extended_communities; ///< format_extended_communities
  std::string large_communities;    ///< format_large_communities
  uint32_t origin_as = 0;
  uint32_t peer_as = 0;
  uint32_t references = 0; ///< 0: the slot is free
};

/// Interns path attribute sets: routes (of any prefix and any neighbor) with
/// equal attributes share one reference-counted copy, named by a small id.
/// A full table has far fewer distinct attribute sets than routes.
class attribute_store {
public:
  /// The id (>= 1) of a set equal to `a`, adding it when new; takes one reference.
  uint32_t intern(const bgp_path_attributes& a);
  /// Takes one more reference to an id.
  void retain(uint32_t id) { ++entries_[id - 1].references; }
  /// Drops one reference; the set is freed with its last one.
  void release(uint32_t id);

  const interned_attributes& operator[](uint32_t id) const { return entries_[id - 1]; }
  /// Distinct sets held.
  size_t size() const { return entries_.size() - free_.size(); }
  /// Approximate heap bytes used, for the memory benchmark.
  size_t memory_bytes() const;

private:
  std::vector<interned_attributes> entries_;
  std::vector<uint32_t> free_;
  std::unordered_multimap<uint64_t, uint32_t> by_hash_;
};

/// A hash of every field of a, for interning.
uint64_t hash_value(const bgp_path_attributes& a);

} // namespace tidewatch
