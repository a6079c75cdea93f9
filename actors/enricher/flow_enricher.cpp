#include "actors/enricher/flow_enricher.hpp"

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

/// Prefix length as the family counts it (IPv4 /24, not /120).
uint8_t family_length(const ip_prefix& p) {
  return p.network.is_v4() && p.length >= 96 ? uint8_t(p.length - 96) : p.length;
}

} // namespace

flow_enricher::flow_enricher(enricher_settings settings)
    : settings_(std::move(settings)), cache_(cache_size) {
  index_rules(settings_.sampling.overrides, overrides_);
  index_rules(settings_.sampling.defaults, defaults_);
}

void flow_enricher::set_prefixes(std::shared_ptr<const prefix_list> prefixes) {
  prefixes_ = std::move(prefixes);
}

void flow_enricher::set_databases(std::shared_ptr<geoip_database> country,
                                  std::shared_ptr<geoip_database> asn) {
  country_db_ = std::move(country);
  asn_db_ = std::move(asn);
  // Cached facts hold pointers into the old databases' names.
  for (auto& f : cache_)
    f.valid = false;
}

const flow_enricher::address_facts& flow_enricher::facts(const ip_address& a) {
  auto& f = cache_[cache_slot(a, cache_.size())];
  if (f.valid && f.address == a) {
    ++cache_hits_;
    return f;
  }
  ++cache_misses_;
  f.address = a;
  f.country_db = country_db_ ? country_db_->lookup(a) : geo_info{};
  if (asn_db_ == country_db_)
    f.asn_db = f.country_db;
  else
    f.asn_db = asn_db_ ? asn_db_->lookup(a) : geo_info{};
  f.valid = true;
  return f;
}

std::pair<uint32_t, sampling_source> flow_enricher::sampling_rate(const flow_record& r) const {
  for (auto source : settings_.sampling.precedence) {
    uint32_t rate = 0;
    switch (source) {
    case sampling_source::override:
      if (uint32_t i = overrides_.lookup(r.exporter); i != prefix_table::no_match)
        rate = settings_.sampling.overrides[i - 1].rate;
      break;
    case sampling_source::exported:
      rate = r.sampling_rate;
      break;
    case sampling_source::fallback:
      if (uint32_t i = defaults_.lookup(r.exporter); i != prefix_table::no_match)
        rate = settings_.sampling.defaults[i - 1].rate;
      else
        rate = settings_.sampling.default_rate;
      break;
    case sampling_source::unknown:
      break;
    }
    if (rate != 0)
      return {rate, source};
  }
  return {0, sampling_source::unknown};
}

uint32_t flow_enricher::label(flow_batch& batch, const std::string* text) {
  if (text == nullptr || text->empty())
    return 0;
  auto [it, added] = batch_labels_.try_emplace(text, uint32_t(batch.labels.size()));
  if (added)
    batch.labels.push_back(*text);
  return it->second;
}

void flow_enricher::enrich(flow_batch& batch) {
  batch.labels.assign(1, std::string{});
  batch_labels_.clear();
  const uint32_t region = label(batch, &settings_.region);
  const bool geo = country_db_ || asn_db_;
  for (auto& r : batch.records) {
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
    const prefix_list::entry* src_net = prefixes_ ? prefixes_->match(r.src_addr) : nullptr;
    const prefix_list::entry* dst_net = prefixes_ ? prefixes_->match(r.dst_addr) : nullptr;
    r.scope = src_net ? (dst_net ? traffic_scope::internal : traffic_scope::outbound)
                      : (dst_net ? traffic_scope::inbound : traffic_scope::external);
    ++by_scope_[size_t(r.scope)];
    r.src_net_length = src_net ? family_length(src_net->prefix) : 0;
    r.dst_net_length = dst_net ? family_length(dst_net->prefix) : 0;
    r.src_net_name = src_net ? label(batch, &src_net->name) : 0;
    r.dst_net_name = dst_net ? label(batch, &dst_net->name) : 0;
    if (!geo)
      continue;
    for (int side = 0; side < 2; ++side) {
      const auto& f = facts(side == 0 ? r.src_addr : r.dst_addr);
      uint16_t country = f.country_db.country ? f.country_db.country : f.asn_db.country;
      uint32_t asn = f.asn_db.asn ? f.asn_db.asn : f.country_db.asn;
      const std::string* as_name = f.asn_db.as_name ? f.asn_db.as_name : f.country_db.as_name;
      uint32_t& record_as = side == 0 ? r.src_as : r.dst_as;
      if (asn != 0 && (settings_.asn_fill == asn_fill_mode::always ||
                       (settings_.asn_fill == asn_fill_mode::missing && record_as == 0)))
        record_as = asn;
      (side == 0 ? r.src_country : r.dst_country) = country;
      (side == 0 ? r.src_as_name : r.dst_as_name) = label(batch, as_name);
    }
  }
  records_ += batch.records.size();
}

void flow_enricher::collect(std::vector<counter_value>& out) const {
  out.push_back({"enricher_records_total", records_});
  for (size_t i = 0; i < by_rate_source_.size(); ++i)
    out.push_back({std::string("enricher_sampling_rate_source_total{source=\"") +
                       to_string(sampling_source(i)) + "\"}",
                   by_rate_source_[i]});
  for (size_t i = 0; i < by_scope_.size(); ++i)
    out.push_back(
        {std::string("enricher_scope_total{scope=\"") + to_string(traffic_scope(i)) + "\"}",
         by_scope_[i]});
  out.push_back({"enricher_geoip_cache_hits_total", cache_hits_});
  out.push_back({"enricher_geoip_cache_misses_total", cache_misses_});
  uint64_t lookup_errors = (country_db_ ? country_db_->lookup_errors() : 0) +
                           (asn_db_ && asn_db_ != country_db_ ? asn_db_->lookup_errors() : 0);
  out.push_back({"enricher_geoip_lookup_errors_total", lookup_errors});
}

} // namespace tidewatch
