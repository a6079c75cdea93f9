#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/bgp.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

/// A set of path attributes with its output texts, formatted once when the
/// set is first seen. The texts are one immutable label table that flow
/// batches reference (label_table::tables) instead of copying: a record
/// costs a reference, and the texts outlive the route while a batch holds them.
struct interned_attributes {
  /// The labels of `texts`.
  enum text : uint32_t {
    as_path_text = 1,          ///< format_as_path
    communities_text,          ///< format_communities
    extended_communities_text, ///< format_extended_communities
    large_communities_text,    ///< format_large_communities
  };

  bgp_path_attributes attributes;
  std::shared_ptr<const label_table> texts;
  /// Bit (1 << (t - 1)) for each text t that is not empty, so that a flow
  /// gets label 0 for an empty text without reading `texts`.
  uint8_t present_texts = 0;
  uint32_t origin_as = 0;
  uint32_t peer_as = 0;
  uint32_t references = 0; ///< 0: the slot is free

  std::string_view as_path() const { return (*texts)[as_path_text]; }
  std::string_view communities() const { return (*texts)[communities_text]; }
  std::string_view extended_communities() const { return (*texts)[extended_communities_text]; }
  std::string_view large_communities() const { return (*texts)[large_communities_text]; }
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
