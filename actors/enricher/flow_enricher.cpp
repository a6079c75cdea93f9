#include "actors/enricher/flow_enricher.hpp"

#include <bit>
#include <cstring>

namespace tidewatch {

namespace {

/// Adds rules to a table, value = 1-based rule index.
void index_rules(const std::vector<sampling_rule>& rules, prefix_table& table) {
  for (size_t i = 0; i < rules.size(); ++i)
    table.add(rules[i].exporters, uint32_t(i + 1));
  table.build();
}

size_t cache_slot(const ip_address& a, size_t size) {
  uint64_t high, low;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  uint64_t h = (high * 0x9E3779B97F4A7C15ull) ^ (low * 0xC2B2AE3D27D4EB4Full);
  return size_t(h >> 32) & (size - 1);
}

/// Which of a batch's shared label tables holds which texts.
constexpr size_t asn_names_store = 0;     ///< the ASN database's AS names
constexpr size_t country_names_store = 1; ///< the country database's AS names
constexpr size_t prefix_names_store = 2;  ///< our prefix list's names

/// Prefix length as the family counts it (IPv4 /24, not /120).
uint8_t family_length(const ip_prefix& p) {
  return p.network.is_v4() && p.length >= 96 ? uint8_t(p.length - 96) : p.length;
}

} // namespace

uint8_t scope_mask(const std::vector<std::string>& names) {
  if (names.empty())
    return all_scopes;
  uint8_t mask = 0;
  for (auto& name : names)
    for (uint8_t s = 0; s < 5; ++s)
      if (name == to_string(traffic_scope(s)))
        mask |= scope_bit(traffic_scope(s));
  return mask;
}

flow_batch select_scopes(const flow_batch& batch, uint8_t mask) {
  flow_batch out;
  out.pipeline = batch.pipeline;
  out.labels = batch.labels;
  out.records.reserve(batch.records.size());
  for (auto& r : batch.records)
    if (mask & scope_bit(r.scope))
      out.records.push_back(r);
  return out;
}

flow_enricher::flow_enricher(enricher_settings settings) : settings_(std::move(settings)) {
  if (settings_.address_cache_size != 0)
    cache_sets_ = std::bit_ceil((settings_.address_cache_size + cache_ways - 1) / cache_ways);
  index_rules(settings_.sampling.overrides, overrides_);
  index_rules(settings_.sampling.defaults, defaults_);
}

void flow_enricher::set_prefixes(std::shared_ptr<const prefix_list> prefixes) {
  prefixes_ = std::move(prefixes);
  clear_cache(); // cached facts point into the old list
}

void flow_enricher::clear_cache() {
  // The memory is taken once there is something to look up: an enricher
  // that only scales by the sampling rate never needs it.
  if (cache_.empty() && cache_sets_ != 0 && (prefixes_ || country_db_ || asn_db_)) {
    cache_.resize(cache_sets_);
    cache_state_.assign(cache_sets_, 0);
  }
  std::fill(cache_state_.begin(), cache_state_.end(), 0);
}

void flow_enricher::set_databases(std::shared_ptr<geoip_database> country,
                                  std::shared_ptr<geoip_database> asn) {
  country_db_ = std::move(country);
  asn_db_ = std::move(asn);
  clear_cache(); // cached facts name the old databases' AS names
}

void flow_enricher::look_up(const ip_address* in, size_t n, address_facts* out) {
  miss_ours_.assign(n, 0);
  miss_countries_.assign(n, geo_info{});
  miss_asns_.assign(n, geo_info{});
  if (prefixes_)
    prefixes_->match(in, n, miss_ours_.data());
  if (country_db_)
    country_db_->lookup(in, n, miss_countries_.data());
  if (asn_db_ && asn_db_ != country_db_)
    asn_db_->lookup(in, n, miss_asns_.data());
  const auto& asns = asn_db_ == country_db_ ? miss_countries_ : miss_asns_;
  for (size_t i = 0; i < n; ++i) {
    address_facts f;
    if (uint32_t ours = miss_ours_[i]) {
      const auto& entry = prefixes_->entries()[ours - 1];
      f.ours = true;
      f.net_length = family_length(entry.prefix);
      f.net_name = label_table::shared_index(prefix_names_store, entry.name_label);
    }
    const geo_info& country = miss_countries_[i];
    const geo_info& asn = asns[i];
    f.country = country.country ? country.country : asn.country;
    f.asn = asn.asn ? asn.asn : country.asn;
    f.as_name = asn.as_name ? label_table::shared_index(asn_names_store, asn.as_name)
                            : label_table::shared_index(country_names_store, country.as_name);
    out[i] = f;
  }
}

void flow_enricher::prefetch(const ip_address& a) const {
  const auto* set = reinterpret_cast<const char*>(&cache_[cache_slot(a, cache_.size())]);
  __builtin_prefetch(set);
  __builtin_prefetch(set + 64);
}

flow_enricher::address_facts flow_enricher::probe(const ip_address& a) {
  address_facts pending;
  pending.net_name = uint32_t(miss_keys_.size());
  pending.pending = true;
  if (cache_.empty()) {
    miss_keys_.push_back(a);
    return pending;
  }
  size_t index = cache_slot(a, cache_.size());
  cache_set& set = cache_[index];
  uint8_t& state = cache_state_[index];
  for (size_t way = 0; way < cache_ways; ++way)
    if ((state >> way & 1) && set.keys[way] == a) {
      ++cache_hits_;
      return set.facts[way];
    }
  ++cache_misses_;
  size_t way = state >> 4;
  state = uint8_t((state & 0x0f) | 1u << way | ((way + 1) % cache_ways) << 4);
  set.keys[way] = a;
  miss_keys_.push_back(a);
  miss_ways_.push_back(uint32_t(index * cache_ways + way));
  return set.facts[way] = pending;
}

void flow_enricher::find_facts(const flow_batch& batch) {
  const size_t count = batch.records.size();
  record_facts_.resize(2 * count);
  miss_keys_.clear();
  miss_ways_.clear();
  for (size_t i = 0; i < count; ++i) {
    const auto& r = batch.records[i];
    if (!cache_.empty() && i + prefetch_distance < count) {
      prefetch(batch.records[i + prefetch_distance].src_addr);
      prefetch(batch.records[i + prefetch_distance].dst_addr);
    }
    if (r.ip_version == 0) {
      record_facts_[2 * i] = record_facts_[2 * i + 1] = address_facts{};
      continue;
    }
    // The destination's probe may replace the source's way: the source's
    // facts are copied first.
    record_facts_[2 * i] = probe(r.src_addr);
    record_facts_[2 * i + 1] = probe(r.dst_addr);
  }
  miss_facts_.resize(miss_keys_.size());
  look_up(miss_keys_.data(), miss_keys_.size(), miss_facts_.data());
  // A way still pending for its miss gets the facts; one that a later miss
  // took over is pending for that one.
  for (size_t miss = 0; miss < miss_ways_.size(); ++miss) {
    address_facts& cached =
        cache_[miss_ways_[miss] / cache_ways].facts[miss_ways_[miss] % cache_ways];
    if (cached.pending && cached.net_name == miss)
      cached = miss_facts_[miss];
  }
  for (auto& f : record_facts_)
    if (f.pending)
      f = miss_facts_[f.net_name];
}

std::pair<uint32_t, sampling_source> flow_enricher::sampling_rate(const flow_record& r) {
  if (!last_rates_.valid || last_rates_.exporter != r.exporter) {
    last_rates_.exporter = r.exporter;
    uint32_t i = overrides_.lookup(r.exporter);
    last_rates_.override_rate =
        i != prefix_table::no_match ? settings_.sampling.overrides[i - 1].rate : 0;
    i = defaults_.lookup(r.exporter);
    last_rates_.fallback_rate = i != prefix_table::no_match
                                    ? settings_.sampling.defaults[i - 1].rate
                                    : settings_.sampling.default_rate;
    last_rates_.valid = true;
  }
  for (auto source : settings_.sampling.precedence) {
    uint32_t rate = 0;
    switch (source) {
    case sampling_source::override:
      rate = last_rates_.override_rate;
      break;
    case sampling_source::exported:
      rate = r.sampling_rate;
      break;
    case sampling_source::fallback:
      rate = last_rates_.fallback_rate;
      break;
    case sampling_source::unknown:
      break;
    }
    if (rate != 0)
      return {rate, source};
  }
  return {0, sampling_source::unknown};
}

flow_enricher::label_slot* flow_enricher::find_slot(const void* key, bool& added) {
  auto bits = reinterpret_cast<uintptr_t>(key);
  size_t slot = size_t((bits >> 3) * 0x9E3779B97F4A7C15ull >> 52) & (label_slots - 1);
  for (size_t probe = 0; probe < 8; ++probe, slot = (slot + 1) & (label_slots - 1)) {
    auto& s = label_index_[slot];
    if (s.batch != batch_number_) {
      s = {key, 0, batch_number_};
      added = true;
      return &s;
    }
    if (s.key == key) {
      added = false;
      return &s;
    }
  }
  return nullptr;
}

uint32_t flow_enricher::label(flow_batch& batch, const std::string* text) {
  if (text == nullptr || text->empty())
    return 0;
  bool added = false;
  label_slot* s = find_slot(text, added);
  if (s && !added)
    return s->index;
  // In a crowded neighbourhood the text is stored again rather than searched on.
  uint32_t index = batch.labels.add(*text);
  if (s)
    s->index = index;
  return index;
}

uint32_t flow_enricher::table(flow_batch& batch, const std::shared_ptr<const label_table>& texts) {
  bool added = false;
  label_slot* s = find_slot(texts.get(), added);
  if (s && !added)
    return s->index;
  batch.labels.tables.push_back(texts);
  auto index = uint32_t(batch.labels.tables.size() - 1);
  if (s)
    s->index = index;
  return index;
}

void flow_enricher::enrich(flow_batch& batch) {
  batch.labels.clear();
  // Slots of the previous batch become empty; at wrap-around, clear them for real.
  if (++batch_number_ == 0) {
    label_index_.assign(label_slots, label_slot{});
    batch_number_ = 1;
  }
  const uint32_t region = label(batch, &settings_.region);
  const bool geo = country_db_ || asn_db_;
  if (asn_db_)
    batch.labels.shared[asn_names_store] =
        std::shared_ptr<const label_table>(asn_db_, &asn_db_->names());
  if (country_db_)
    batch.labels.shared[country_names_store] =
        std::shared_ptr<const label_table>(country_db_, &country_db_->names());
  if (prefixes_)
    batch.labels.shared[prefix_names_store] =
        std::shared_ptr<const label_table>(prefixes_, &prefixes_->names());
  const bool lookups = geo || prefixes_;
  if (settings_.bgp.enabled)
    lookup_routes(batch);
  if (lookups)
    find_facts(batch);
  const size_t count = batch.records.size();
  for (size_t i = 0; i < count; ++i) {
    auto& r = batch.records[i];
    if (settings_.bgp.enabled)
      prefetch_routes(i, count);
    auto [rate, source] = sampling_rate(r);
    r.rate_source = source;
    if (rate != 0) {
      r.sampling_rate = rate;
      r.bytes *= rate;
      r.packets *= rate;
    }
    ++by_rate_source_[size_t(source)];
    r.region = region;
    if (r.ip_version == 0) {
      r.scope = traffic_scope::unknown;
      ++by_scope_[size_t(r.scope)];
      continue;
    }
    address_facts src_facts, dst_facts;
    if (lookups) {
      src_facts = record_facts_[2 * i];
      dst_facts = record_facts_[2 * i + 1];
    }
    r.scope = src_facts.ours ? (dst_facts.ours ? traffic_scope::internal : traffic_scope::outbound)
                             : (dst_facts.ours ? traffic_scope::inbound : traffic_scope::external);
    ++by_scope_[size_t(r.scope)];
    r.src_net_length = src_facts.net_length;
    r.dst_net_length = dst_facts.net_length;
    r.src_net_name = src_facts.net_name;
    r.dst_net_name = dst_facts.net_name;
    if (settings_.bgp.enabled)
      enrich_bgp(batch, i);
    if (!geo)
      continue;
    for (int side = 0; side < 2; ++side) {
      const auto& f = side == 0 ? src_facts : dst_facts;
      uint32_t& record_as = side == 0 ? r.src_as : r.dst_as;
      if (f.asn != 0 && (settings_.asn_fill == asn_fill_mode::always ||
                         (settings_.asn_fill == asn_fill_mode::missing && record_as == 0)))
        record_as = f.asn;
      (side == 0 ? r.src_country : r.dst_country) = f.country;
      (side == 0 ? r.src_as_name : r.dst_as_name) = f.as_name;
    }
  }
  records_ += batch.records.size();
}

void flow_enricher::apply_routes(const bgp_route_batch& batch) {
  rib_.apply(batch);
  if (batch.router_id != 0)
    router_ids_[batch.neighbor] = batch.router_id;
  last_valid_ = false;
}

const adj_rib_in* flow_enricher::exporter_routes(const ip_address& exporter) {
  if (last_valid_ && exporter == last_exporter_)
    return last_routes_;
  const adj_rib_in* found = rib_.neighbor(exporter);
  for (auto& n : settings_.bgp.neighbors) {
    if (found)
      break;
    for (auto& p : n.exporters)
      if (p.contains(exporter)) {
        found = rib_.neighbor(n.neighbor);
        break;
      }
  }
  if (!found && exporter.is_v4())
    for (auto& [neighbor, id] : router_ids_)
      if (id == exporter.v4_host_order()) {
        found = rib_.neighbor(neighbor);
        break;
      }
  last_exporter_ = exporter;
  last_routes_ = found;
  last_valid_ = true;
  return found;
}

void flow_enricher::lookup_routes(const flow_batch& batch) {
  const size_t n = batch.records.size();
  record_ribs_.resize(n);
  src_routes_.resize(n);
  dst_routes_.resize(n);
  for (size_t i = 0; i < n; ++i)
    record_ribs_[i] = exporter_routes(batch.records[i].exporter);
  for (size_t begin = 0; begin < n;) {
    const adj_rib_in* rib = record_ribs_[begin];
    size_t end = begin + 1;
    while (end < n && record_ribs_[end] == rib)
      ++end;
    if (rib) {
      size_t count = end - begin;
      route_keys_.resize(count);
      for (size_t i = 0; i < count; ++i)
        route_keys_[i] = batch.records[begin + i].src_addr;
      rib_.lookup(rib, route_keys_.data(), count, src_routes_.data() + begin);
      for (size_t i = 0; i < count; ++i)
        route_keys_[i] = batch.records[begin + i].dst_addr;
      rib_.lookup(rib, route_keys_.data(), count, dst_routes_.data() + begin);
    } else {
      // No routes: no match, rather than an earlier batch's (whose
      // attribute sets route changes may have freed since) for
      // prefetch_routes to read.
      std::fill(src_routes_.begin() + begin, src_routes_.begin() + end, bgp_rib::match{});
      std::fill(dst_routes_.begin() + begin, dst_routes_.begin() + end, bgp_rib::match{});
    }
    begin = end;
  }
}

void flow_enricher::prefetch_routes(size_t i, size_t count) const {
  // Two steps, as each needs the one before: the attribute sets of records
  // further ahead, then the text tables (whose reference counts enrich_bgp
  // takes; make_shared puts the count just before the table) of nearer ones.
  if (i + 2 * prefetch_distance < count)
    for (const auto* routes : {&src_routes_, &dst_routes_})
      if (const interned_attributes* a = (*routes)[i + 2 * prefetch_distance].attributes) {
        __builtin_prefetch(&a->attributes.next_hop);
        __builtin_prefetch(&a->texts);
      }
  if (i + prefetch_distance < count)
    for (const auto* routes : {&src_routes_, &dst_routes_})
      if (const interned_attributes* a = (*routes)[i + prefetch_distance].attributes)
        __builtin_prefetch(reinterpret_cast<const char*>(a->texts.get()) - sizeof(void*));
}

void flow_enricher::enrich_bgp(flow_batch& batch, size_t i) {
  flow_record& r = batch.records[i];
  if (!record_ribs_[i]) {
    ++bgp_no_neighbor_;
    return;
  }
  const bool prefer_bgp = settings_.bgp.as_mode == bgp_as_mode::prefer_bgp;
  auto take_as = [prefer_bgp](uint32_t& field, uint32_t route_as) {
    if (prefer_bgp || field == 0)
      field = route_as;
  };
  // The texts and numbers nfacctd prints per matched route, for either end;
  // the texts are referenced (the route's table), not copied.
  auto take_route = [&](const interned_attributes& a, uint32_t& as_path, uint32_t& communities,
                        uint32_t& extended_communities, uint32_t& large_communities,
                        uint32_t& local_pref, uint32_t& med) {
    const uint32_t texts = a.present_texts ? table(batch, a.texts) : 0;
    auto text = [&](interned_attributes::text t) {
      return a.present_texts >> (t - 1) & 1 ? label_table::table_index(texts, t) : 0;
    };
    as_path = text(interned_attributes::as_path_text);
    communities = text(interned_attributes::communities_text);
    extended_communities = text(interned_attributes::extended_communities_text);
    large_communities = text(interned_attributes::large_communities_text);
    local_pref = a.attributes.local_pref;
    med = a.attributes.med;
  };
  if (const auto& src = src_routes_[i]; src.attributes) {
    ++bgp_src_matches_;
    take_as(r.src_as, src.attributes->origin_as);
    take_as(r.src_peer_as, src.attributes->peer_as);
    r.src_mask = src.length;
    take_route(*src.attributes, r.src_as_path, r.src_communities, r.src_extended_communities,
               r.src_large_communities, r.src_local_pref, r.src_med);
  }
  const auto& dst = dst_routes_[i];
  if (!dst.attributes)
    return;
  ++bgp_dst_matches_;
  const auto& a = *dst.attributes;
  take_as(r.dst_as, a.origin_as);
  take_as(r.dst_peer_as, a.peer_as);
  r.dst_mask = dst.length;
  if (!a.attributes.next_hop.is_unspecified())
    r.bgp_next_hop = a.attributes.next_hop;
  take_route(a, r.as_path, r.communities, r.extended_communities, r.large_communities, r.local_pref,
             r.med);
}

void flow_enricher::collect(std::vector<counter_value>& out) const {
  out.push_back({"enricher_records_total", records_});
  if (settings_.bgp.enabled) {
    out.push_back({"enricher_bgp_routes", rib_.size()});
    out.push_back({"enricher_bgp_no_neighbor_total", bgp_no_neighbor_});
    out.push_back({"enricher_bgp_src_matches_total", bgp_src_matches_});
    out.push_back({"enricher_bgp_dst_matches_total", bgp_dst_matches_});
  }
  for (size_t i = 0; i < by_rate_source_.size(); ++i)
    out.push_back({std::string("enricher_sampling_rate_source_total{source=\"") +
                       to_string(sampling_source(i)) + "\"}",
                   by_rate_source_[i]});
  for (size_t i = 0; i < by_scope_.size(); ++i)
    out.push_back(
        {std::string("enricher_scope_total{scope=\"") + to_string(traffic_scope(i)) + "\"}",
         by_scope_[i]});
  out.push_back({"enricher_address_cache_entries", cache_.size() * cache_ways});
  out.push_back({"enricher_geoip_cache_hits_total", cache_hits_});
  out.push_back({"enricher_geoip_cache_misses_total", cache_misses_});
  uint64_t lookup_errors = (country_db_ ? country_db_->lookup_errors() : 0) +
                           (asn_db_ && asn_db_ != country_db_ ? asn_db_->lookup_errors() : 0);
  out.push_back({"enricher_geoip_lookup_errors_total", lookup_errors});
}

} // namespace tidewatch
