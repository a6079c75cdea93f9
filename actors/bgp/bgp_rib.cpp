#include "actors/bgp/bgp_rib.hpp"

#include <algorithm>
#include <unordered_map>

namespace tidewatch {

void bgp_rib::clear(adj_rib_in& rib) {
  rib.for_each([this](const adj_rib_in::route& r) { attributes_.release(r.attributes); });
  rib = adj_rib_in{};
}

void bgp_rib::apply(const bgp_route_batch& batch) {
  auto& slot = neighbors_[batch.neighbor];
  if (!slot)
    slot = std::make_unique<adj_rib_in>();
  adj_rib_in& rib = *slot;
  if (batch.reset)
    clear(rib);
  if (batch.mark_stale)
    rib.mark_stale();
  for (auto& r : batch.withdrawn)
    if (uint32_t old = rib.remove(r.network, r.length, r.path_id))
      attributes_.release(old);
  // One interned id per distinct attribute set of the batch, one reference per route.
  thread_local std::vector<uint32_t> ids;
  ids.assign(batch.attributes.size(), 0);
  for (auto& r : batch.announced) {
    if (r.attributes >= batch.attributes.size())
      continue;
    uint32_t& id = ids[r.attributes];
    if (id == 0)
      id = attributes_.intern(batch.attributes[r.attributes]);
    else
      attributes_.retain(id);
    if (uint32_t old = rib.insert(r.network, r.length, r.path_id, id))
      attributes_.release(old);
  }
  if (batch.sweep_stale) {
    thread_local std::vector<adj_rib_in::route> stale;
    stale.clear();
    rib.for_each([](const adj_rib_in::route& r) {
      if (r.stale)
        stale.push_back(r);
    });
    for (auto& r : stale)
      attributes_.release(rib.remove(r.network, r.length, r.path_id));
  }
  if (rib.size() == 0)
    neighbors_.erase(batch.neighbor);
}

void bgp_rib::snapshot(const ip_address& neighbor, size_t batch_size,
                       const std::function<void(bgp_route_batch&&)>& emit) const {
  bgp_route_batch batch;
  batch.neighbor = neighbor;
  batch.reset = true;
  std::unordered_map<uint32_t, uint32_t> index; // interned id -> batch index
  auto flush = [&] {
    emit(std::move(batch));
    batch = bgp_route_batch{};
    batch.neighbor = neighbor;
    index.clear();
  };
  if (auto* rib = this->neighbor(neighbor))
    rib->for_each([&](const adj_rib_in::route& r) {
      auto [it, added] = index.emplace(r.attributes, uint32_t(batch.attributes.size()));
      if (added)
        batch.attributes.push_back(attributes_[r.attributes].attributes);
      batch.announced.push_back({r.network, r.length, r.path_id, it->second});
      if (batch.announced.size() >= batch_size)
        flush();
    });
  if (batch.reset || !batch.announced.empty())
    flush();
}

void bgp_rib::lookup(const adj_rib_in* rib, const ip_address* in, size_t n, match* out) const {
  if (!rib) {
    std::fill(out, out + n, match{});
    return;
  }
  thread_local std::vector<adj_rib_in::match> found;
  found.resize(n);
  rib->lookup(in, n, found.data());
  for (size_t i = 0; i < n; ++i)
    out[i] = found[i].attributes
                 ? match{&attributes_[found[i].attributes], found[i].length, found[i].path_id}
                 : match{};
}

std::vector<ip_address> bgp_rib::neighbor_addresses() const {
  std::vector<ip_address> out;
  for (auto& [address, rib] : neighbors_)
    out.push_back(address);
  return out;
}

size_t bgp_rib::size() const {
  size_t n = 0;
  for (auto& [address, rib] : neighbors_)
    n += rib->size();
  return n;
}

size_t bgp_rib::memory_bytes() const {
  size_t n = attributes_.memory_bytes();
  for (auto& [address, rib] : neighbors_)
    n += rib->memory_bytes() + sizeof(adj_rib_in);
  return n;
}

} // namespace tidewatch
