#include "actors/enricher/geoip_database.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <type_traits>
#include <unordered_map>

#include <maxminddb.h>

namespace tidewatch {

geoip_database::v6_key geoip_database::v6_key::of(const ip_address& a) {
  v6_key k;
  for (size_t i = 0; i < 8; ++i) {
    k.high = k.high << 8 | a.bytes[i];
    k.low = k.low << 8 | a.bytes[8 + i];
  }
  return k;
}

template <class Key>
void geoip_database::range_table<Key>::append(const Key& start, uint32_t value) {
  // The walk visits ranges in address order; neighbours with the same data
  // become one range.
  if (!values.empty() && values.back() == value)
    return;
  starts.push_back(start);
  values.push_back(value);
}

template <class Key> void geoip_database::range_table<Key>::build_index() {
  index.assign(65537, slot{});
  nodes.clear();
  if (starts.empty())
    return;
  size_t range = 0;
  for (size_t bucket = 0; bucket < 65536; ++bucket) {
    // The range holding the bucket's first address: the last one starting
    // in an earlier bucket or exactly at this one's start.
    while (range + 1 < starts.size() &&
           (top16(starts[range + 1]) < bucket ||
            (top16(starts[range + 1]) == bucket && starts_bucket(starts[range + 1]))))
      ++range;
    index[bucket].first = uint32_t(range);
  }
  index[65536].first = uint32_t(starts.size() - 1);
  for (size_t bucket = 0; bucket < 65536; ++bucket) {
    Key base{};
    if constexpr (std::is_same_v<Key, uint32_t>)
      base = uint32_t(bucket) << 16;
    else
      base.high = uint64_t(bucket) << 48;
    index[bucket].child = split(index[bucket].first, index[bucket + 1].first, base, 0);
  }
  starts.shrink_to_fit();
  values.shrink_to_fit();
}

template <class Key>
uint32_t geoip_database::range_table<Key>::split(uint32_t first, uint32_t end, const Key& base,
                                                 unsigned level) {
  if (end - first + 1 <= max_scan || level >= sub_levels(base))
    return 0;
  node n{};
  uint32_t range = first;
  for (unsigned byte = 0; byte < 256; ++byte) {
    Key start = with_sub_byte(base, level, byte);
    while (range < end && starts[range + 1] <= start)
      ++range;
    n[byte].first = range;
  }
  n[256].first = end;
  nodes.push_back(n);
  const auto id = uint32_t(nodes.size());
  for (unsigned byte = 0; byte < 256; ++byte) {
    // Computed before it is stored: the call may grow nodes.
    uint32_t child =
        split(n[byte].first, n[byte + 1].first, with_sub_byte(base, level, byte), level + 1);
    nodes[id - 1][byte].child = child;
  }
  return id;
}

size_t geoip_database::memory_bytes() const {
  return v4_.starts.size() * sizeof(uint32_t) + v6_.starts.size() * sizeof(v6_key) +
         (v4_.values.size() + v6_.values.size()) * sizeof(uint32_t) +
         (v4_.index.size() + v6_.index.size()) * sizeof(range_table<uint32_t>::slot) +
         (v4_.nodes.size() + v6_.nodes.size()) * sizeof(range_table<uint32_t>::node) +
         infos_.size() * sizeof(geo_info) + names_.text.size() +
         names_.ends.size() * sizeof(uint32_t);
}

namespace {

/// A UTF-8 string at path below entry, or empty.
std::string_view string_at(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return {data.utf8_string, data.data_size};
}

/// An unsigned number at path below entry, or 0.
uint32_t number_at(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data)
    return 0;
  switch (data.type) {
  case MMDB_DATA_TYPE_UINT16:
    return data.uint16;
  case MMDB_DATA_TYPE_UINT32:
    return data.uint32;
  case MMDB_DATA_TYPE_INT32:
    return data.int32 < 0 ? 0 : uint32_t(data.int32);
  case MMDB_DATA_TYPE_UINT64:
    return uint32_t(data.uint64);
  default:
    return 0;
  }
}

struct mmdb_closer {
  void operator()(MMDB_s* db) const {
    MMDB_close(db);
    delete db;
  }
};

} // namespace

/// The tree walk: the open database, what its data records decode to, and
/// where each family's ranges go.
struct geoip_database::walk_state {
  geoip_database& out;
  MMDB_s* db;
  std::unordered_map<uint64_t, uint32_t> value_of_offset;
  std::unordered_map<std::string_view, uint32_t> names; ///< views into the mapped database
  std::string error;
  /// The IPv4 tree's node in an IPv6 tree: IPv6 prefixes that lead to it
  /// (::/96, and the ::ffff:0:0/96, 6to4 and Teredo aliases MaxMind's writer
  /// adds) become one alias range each instead of a copy of every IPv4 range.
  uint64_t v4_tree_node = UINT64_MAX;

  /// The 1-based info index of the data record at entry, decoded the first
  /// time it is met (many networks share one record).
  uint32_t value_of(MMDB_entry_s entry) {
    auto [it, added] = value_of_offset.try_emplace(entry.offset, 0);
    if (!added)
      return it->second;
    static const char* const iso_code[] = {"country", "iso_code", nullptr};
    static const char* const flat_country[] = {"country_code", nullptr};
    static const char* const asn_path[] = {"autonomous_system_number", nullptr};
    static const char* const org_path[] = {"autonomous_system_organization", nullptr};
    MMDB_entry_data_s probe;
    if (MMDB_get_value(&entry, &probe, nullptr) != MMDB_SUCCESS) {
      ++out.lookup_errors_;
      return 0;
    }
    geo_info info;
    auto iso = string_at(&entry, iso_code);
    if (iso.empty())
      iso = string_at(&entry, flat_country);
    if (iso.size() == 2)
      info.country = country_code(iso[0], iso[1]);
    info.asn = number_at(&entry, asn_path);
    if (auto org = string_at(&entry, org_path); !org.empty()) {
      auto [found, added] = names.try_emplace(org, 0);
      if (added)
        found->second = out.names_.add(org);
      info.as_name = found->second;
    }
    if (info == geo_info{})
      return 0;
    out.infos_.push_back(info);
    return it->second = uint32_t(out.infos_.size());
  }

  /// The value a record stands for when it is a leaf; false for a search node.
  bool leaf_value(uint8_t type, MMDB_entry_s entry, uint32_t& value) {
    switch (type) {
    case MMDB_RECORD_TYPE_SEARCH_NODE:
      return false;
    case MMDB_RECORD_TYPE_DATA:
      value = value_of(entry);
      return true;
    case MMDB_RECORD_TYPE_EMPTY:
      value = 0;
      return true;
    default:
      error = "the search tree has an invalid record";
      value = 0;
      return true;
    }
  }

  /// Walks the subtree below node (at depth bits of prefix), appending its
  /// ranges in address order; emit(prefix, depth, value) takes each leaf.
  template <class Emit>
  void walk(uint64_t node, unsigned depth, unsigned max_depth, v6_key prefix, Emit& emit) {
    if (!error.empty())
      return;
    if (node >= db->metadata.node_count || depth >= max_depth) {
      error = "the search tree is deeper than the address or points outside itself";
      return;
    }
    MMDB_search_node_s n;
    if (MMDB_read_node(db, uint32_t(node), &n) != MMDB_SUCCESS) {
      error = "a search tree node cannot be read";
      return;
    }
    for (int side = 0; side < 2; ++side) {
      v6_key child = prefix;
      if (side == 1) {
        if (depth < 64)
          child.high |= uint64_t(1) << (63 - depth);
        else
          child.low |= uint64_t(1) << (127 - depth);
      }
      uint8_t type = side == 0 ? n.left_record_type : n.right_record_type;
      MMDB_entry_s entry = side == 0 ? n.left_record_entry : n.right_record_entry;
      uint64_t record = side == 0 ? n.left_record : n.right_record;
      uint32_t value = 0;
      if (leaf_value(type, entry, value))
        emit(child, depth + 1, value);
      else if (record == v4_tree_node)
        emit(child, depth + 1, alias_flag | (depth + 1));
      else
        walk(record, depth + 1, max_depth, child, emit);
    }
  }
};

bool geoip_database::flatten(std::string& error) {
  MMDB_s* db = nullptr;
  {
    auto owned = std::unique_ptr<MMDB_s, mmdb_closer>(new MMDB_s{});
    int status = MMDB_open(path_.c_str(), MMDB_MODE_MMAP, owned.get());
    if (status != MMDB_SUCCESS) {
      delete owned.release(); // MMDB_open cleans up after itself on failure
      error = MMDB_strerror(status);
      if (status == MMDB_IO_ERROR)
        error += std::string(": ") + std::strerror(errno);
      return false;
    }
    db = owned.release();
  }
  std::unique_ptr<MMDB_s, mmdb_closer> guard(db);
  if (db->metadata.database_type)
    database_type_ = db->metadata.database_type;
  walk_state state{*this, db, {}, {}, {}, UINT64_MAX};
  const bool v6_tree = db->metadata.ip_version == 6;
  const unsigned tree_depth = v6_tree ? 128 : 32;
  // IPv4 addresses sit at ::a.b.c.d in an IPv6 tree (what libmaxminddb
  // looks up for them); find that subtree by following 96 zero bits.
  uint64_t v4_node = 0;
  bool v4_leaf = false;
  uint32_t v4_leaf_value = 0;
  if (v6_tree) {
    for (unsigned depth = 0; depth < 96 && !v4_leaf; ++depth) {
      MMDB_search_node_s n;
      if (v4_node >= db->metadata.node_count || MMDB_read_node(db, uint32_t(v4_node), &n) != 0) {
        error = "the search tree cannot be read";
        return false;
      }
      v4_leaf = state.leaf_value(n.left_record_type, n.left_record_entry, v4_leaf_value);
      v4_node = n.left_record;
    }
  }
  if (v4_leaf) {
    v4_.append(0, v4_leaf_value);
  } else {
    auto emit_v4 = [this](const v6_key& prefix, unsigned, uint32_t value) {
      v4_.append(uint32_t(prefix.high >> 32), value);
    };
    state.walk(v4_node, 0, 32, v6_key{}, emit_v4);
  }
  if (v6_tree) {
    if (!v4_leaf)
      state.v4_tree_node = v4_node;
    auto emit_v6 = [this](const v6_key& prefix, unsigned, uint32_t value) {
      v6_.append(prefix, value);
    };
    state.walk(0, 0, tree_depth, v6_key{}, emit_v6);
  }
  if (!state.error.empty()) {
    error = state.error;
    return false;
  }
  v4_.build_index();
  v6_.build_index();
  return true;
}

uint32_t geoip_database::find_v6(const ip_address& a) const {
  auto key = v6_key::of(a);
  return resolve_v6(v6_.find(key), key);
}

uint32_t geoip_database::resolve_v6(uint32_t value, const v6_key& key) const {
  if (!(value & alias_flag))
    return value;
  // The 32 address bits that follow the alias prefix are the IPv4 address.
  unsigned offset = value & 0x7f;
  uint32_t v4 = offset >= 64   ? uint32_t(key.low >> (96 - offset))
                : offset <= 32 ? uint32_t(key.high >> (32 - offset))
                               : uint32_t(key.high << (offset - 32) | key.low >> (96 - offset));
  return v4_.find(v4);
}

void geoip_database::lookup(const ip_address* in, size_t n, geo_info* out) const {
  // A group of addresses goes down the index side by side, one step at a
  // time: each step's reads (index slot, node slots, ranges, data) are
  // prefetched for the whole group before any is read, so that they overlap.
  constexpr size_t group = 32;
  std::array<uint32_t, group> keys4;
  std::array<v6_key, group> keys6;
  std::array<const void*, group> slots; // a range_table<uint32_t or v6_key>::slot
  std::array<uint32_t, group> values;
  using slot4 = range_table<uint32_t>::slot;
  using slot6 = range_table<v6_key>::slot;
  for (size_t base = 0; base < n; base += group) {
    const size_t count = std::min(group, n - base);
    const ip_address* a = in + base;
    for (size_t i = 0; i < count; ++i) {
      if (a[i].is_v4()) {
        keys4[i] = a[i].v4_host_order();
        slots[i] = v4_.starts.empty() ? nullptr : &v4_.index[top16(keys4[i])];
      } else {
        keys6[i] = v6_key::of(a[i]);
        slots[i] = v6_.starts.empty() ? nullptr : &v6_.index[top16(keys6[i])];
      }
      __builtin_prefetch(slots[i]);
    }
    for (unsigned level = 0;; ++level) {
      bool deeper = false;
      for (size_t i = 0; i < count; ++i) {
        if (!slots[i])
          continue;
        if (a[i].is_v4()) {
          auto* s = static_cast<const slot4*>(slots[i]);
          if (s->child == 0)
            continue;
          slots[i] = &v4_.nodes[s->child - 1][sub_byte(keys4[i], level)];
        } else {
          auto* s = static_cast<const slot6*>(slots[i]);
          if (s->child == 0)
            continue;
          slots[i] = &v6_.nodes[s->child - 1][sub_byte(keys6[i], level)];
        }
        __builtin_prefetch(slots[i]);
        deeper = true;
      }
      if (!deeper)
        break;
    }
    for (size_t i = 0; i < count; ++i)
      if (slots[i])
        a[i].is_v4() ? v4_.prefetch_ranges(static_cast<const slot4*>(slots[i]))
                     : v6_.prefetch_ranges(static_cast<const slot6*>(slots[i]));
    for (size_t i = 0; i < count; ++i) {
      if (!slots[i])
        values[i] = 0;
      else if (a[i].is_v4())
        values[i] = v4_.search(static_cast<const slot4*>(slots[i]), keys4[i]);
      else
        values[i] = resolve_v6(v6_.search(static_cast<const slot6*>(slots[i]), keys6[i]), keys6[i]);
      if (values[i] != 0)
        __builtin_prefetch(&infos_[values[i] - 1]);
    }
    for (size_t i = 0; i < count; ++i)
      out[base + i] = values[i] == 0 ? geo_info{} : infos_[values[i] - 1];
  }
}

bool geoip_database::open(const std::string& path, std::string& error) {
  path_ = path;
  return flatten(error);
}

} // namespace tidewatch
