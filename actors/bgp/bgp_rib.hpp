#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "actors/bgp/adj_rib_in.hpp"
#include "actors/bgp/attribute_store.hpp"
#include "messages/bgp.hpp"

namespace tidewatch {

/// Every neighbor's Adj-RIB-In plus the attribute sets they share. The BGP
/// speaker keeps one (fed by its sessions) and each enricher keeps a replica
/// (fed by the same batches), so that enrichment reads routes locally.
class bgp_rib {
public:
  /// A longest-prefix match in one neighbor's routes; attributes null: none.
  struct match {
    const interned_attributes* attributes = nullptr;
    uint8_t length = 0;
    uint32_t path_id = 0;
  };

  /// Applies a batch of one neighbor's route changes (see bgp_route_batch).
  void apply(const bgp_route_batch& batch);

  /// One neighbor's routes, or null when it has none.
  const adj_rib_in* neighbor(const ip_address& address) const {
    auto it = neighbors_.find(address);
    return it == neighbors_.end() ? nullptr : it->second.get();
  }
  /// Longest match of `a` in a neighbor's routes (from neighbor()).
  match lookup(const adj_rib_in* rib, const ip_address& a) const {
    if (!rib)
      return {};
    auto m = rib->lookup(a);
    if (!m.attributes)
      return {};
    return {&attributes_[m.attributes], m.length, m.path_id};
  }

  /// Longest matches of n addresses in a neighbor's routes (out[i] for
  /// in[i]), looked up side by side: faster than n lookup() calls.
  void lookup(const adj_rib_in* rib, const ip_address* in, size_t n, match* out) const;

  /// The full content of one neighbor as batches of at most `batch_size`
  /// routes, the first with `reset` set: what a new replica is sent.
  void snapshot(const ip_address& neighbor, size_t batch_size,
                const std::function<void(bgp_route_batch&&)>& emit) const;

  /// Neighbors with routes.
  std::vector<ip_address> neighbor_addresses() const;
  const attribute_store& attributes() const { return attributes_; }
  /// Routes of all neighbors.
  size_t size() const;
  /// Heap bytes used by the routes and attribute sets.
  size_t memory_bytes() const;

private:
  void clear(adj_rib_in& rib);

  attribute_store attributes_;
  std::map<ip_address, std::unique_ptr<adj_rib_in>> neighbors_;
};

} // namespace tidewatch
