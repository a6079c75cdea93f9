#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/bgp/bgp_rib.hpp"
#include "actors/enricher/geoip_database.hpp"
#include "actors/enricher/prefix_list.hpp"
#include "messages/flow.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

/// A set of traffic scopes: bit (1 << scope) for each.
constexpr uint8_t scope_bit(traffic_scope s) {
  return uint8_t(1u << uint8_t(s));
}
constexpr uint8_t all_scopes = 0x1f;

/// Parses scope names ("inbound", ...) into a mask; empty: all_scopes.
uint8_t scope_mask(const std::vector<std::string>& names);

/// The records of batch whose scope is in mask, with the batch's labels
/// (a sink that takes only some scopes, e.g. internal sFlow traffic).
flow_batch select_scopes(const flow_batch& batch, uint8_t mask);

/// A sampling rate for the exporters inside a prefix.
struct sampling_rule {
  ip_prefix exporters;
  uint32_t rate = 1;
};

/// Where sampling rates come from and in which order they are tried.
struct sampling_options {
  /// Tried in order; the first that knows a rate wins. `unknown` is not a source.
  std::vector<sampling_source> precedence = {sampling_source::override, sampling_source::exported,
                                             sampling_source::fallback};
  std::vector<sampling_rule> overrides; ///< the most specific matching prefix wins
  std::vector<sampling_rule> defaults;  ///< per-exporter defaults, most specific wins
  uint32_t default_rate = 0;            ///< the global default; 0: none
};

/// When the ASN database's AS numbers replace those of the record.
enum class asn_fill_mode : uint8_t {
  never,   ///< keep what the export (or BGP) said, even 0
  missing, ///< only where the record has no AS (0)
  always,  ///< the database wins
};

/// Which AS numbers a flow keeps when both its export and a BGP route have one.
enum class bgp_as_mode : uint8_t {
  prefer_bgp,    ///< the route's; the export's only where no route matched
  prefer_export, ///< the export's where non-zero, else the route's
};

/// A BGP neighbor whose routes enrich the flows of exporters other than its
/// own session address (a router exporting from a loopback).
struct bgp_neighbor_binding {
  ip_address neighbor;
  std::vector<ip_prefix> exporters;
};

/// Whether and how flows get the routes of their exporter's BGP neighbor.
struct bgp_enrichment_settings {
  bool enabled = false; ///< a BGP speaker feeds the enricher's replica RIB
  std::vector<bgp_neighbor_binding> neighbors;
  bgp_as_mode as_mode = bgp_as_mode::prefer_bgp;
};

struct enricher_settings {
  sampling_options sampling;
  bgp_enrichment_settings bgp;
  asn_fill_mode asn_fill = asn_fill_mode::missing;
  std::string region; ///< a site label put on every record; empty: none
  /// Recent addresses whose facts are kept (rounded up to a power of two,
  /// 32 bytes each); 0: every address goes to the prefix list and databases.
  /// 1 Mi entries hold a Zipf-distributed population of 1 M addresses at 98 %
  /// hits where 64 Ki held 72 % (tools/bench/enricher_bench).
  size_t address_cache_size = size_t(1) << 20;
};

/// Turns decoded records into the records operators query: scales counters
/// by the sampling rate, tags scope (inbound/outbound/internal/external) and
/// our matching prefix, adds country and AS data from MaxMind databases, and
/// the region label. Pure logic: the enricher actor owns one and swaps its
/// prefix list and databases on reload between two batches, so every record
/// is tagged by one version or the other, never a mix.
///
/// A 4-way set-associative cache of recent addresses sits in front of the
/// prefix list and database
/// lookups: flows repeat addresses heavily, and a database walk costs several
/// times a cache probe (tools/bench/enricher_bench). A batch's misses are
/// looked up together after all its probes, side by side, so that their
/// memory reads overlap instead of following one another.
class flow_enricher {
public:
  explicit flow_enricher(enricher_settings settings = {});

  /// Replaces our prefix list (nullptr: none; every record is then external).
  void set_prefixes(std::shared_ptr<const prefix_list> prefixes);
  /// Replaces the country and the ASN databases (nullptr: none). One file may be both.
  void set_databases(std::shared_ptr<geoip_database> country, std::shared_ptr<geoip_database> asn);

  /// Enriches every record of the batch in place and fills batch.labels.
  void enrich(flow_batch& batch);

  /// Applies a BGP speaker's route changes to the replica RIB that enrich()
  /// reads; called between two flow batches, so a batch sees one RIB version.
  void apply_routes(const bgp_route_batch& batch);
  /// The replica RIB.
  const bgp_rib& routes() const { return rib_; }

  /// Counters: records, per sampling source, per scope, cache hits and misses.
  void collect(std::vector<counter_value>& out) const;

  const enricher_settings& settings() const { return settings_; }

private:
  /// What the prefix list and the databases say about one address, merged
  /// the way enrich() uses them (the country database's country, the ASN
  /// database's AS and name first); 16 bytes, so a cache set's four fit a line.
  struct address_facts {
    /// Our prefix's name as a shared label index (prefix_names_store); 0:
    /// none. Not looked up yet (pending): the address's index in miss_keys_.
    uint32_t net_name = 0;
    uint32_t asn = 0;       ///< 0: unknown
    uint32_t as_name = 0;   ///< shared label index (label_table::shared_index); 0: none
    uint16_t country = 0;   ///< 0: unknown
    uint8_t net_length = 0; ///< length of our prefix as its family counts it
    bool ours : 1 = false;  ///< inside one of our prefixes
    bool pending : 1 = false;
  };
  /// One cache set, two cache lines: four addresses, then their facts, so a
  /// probe reads at most these two lines.
  static constexpr size_t cache_ways = 4;
  struct alignas(128) cache_set {
    std::array<ip_address, cache_ways> keys;
    std::array<address_facts, cache_ways> facts;
  };
  /// One slot of the per-batch label index: label texts (in the prefix list
  /// or the settings) and route text tables (in the RIB) are keyed by their
  /// address, and a slot of an earlier batch counts as empty, so nothing is
  /// cleared between batches.
  struct label_slot {
    const void* key = nullptr;
    uint32_t index = 0; ///< the label's index, or the table's in batch.labels.tables
    uint32_t batch = 0;
  };
  static constexpr size_t label_slots = 4096;
  /// Records ahead of the one enriched whose cache sets are prefetched.
  static constexpr size_t prefetch_distance = 8;
  /// Starts loading the cache set of a into the CPU cache, so that a probe a
  /// few records later does not wait for memory.
  void prefetch(const ip_address& a) const;
  /// Asks the prefix list and the databases about n addresses side by side
  /// (no cache): out[i] for in[i].
  void look_up(const ip_address* in, size_t n, address_facts* out);
  /// The facts about a from the cache, or pending ones for an address that
  /// is added to miss_keys_ (and to the cache, with the same pending facts).
  address_facts probe(const ip_address& a);
  /// Fills record_facts_ with the facts of every record's source and
  /// destination: cache probes first (prefetched ahead), then the misses of
  /// the whole batch looked up together, so their memory reads overlap.
  void find_facts(const flow_batch& batch);
  /// Rate and its source for r; rate 0 when unknown.
  std::pair<uint32_t, sampling_source> sampling_rate(const flow_record& r);
  /// The slot of key in the label index, marked as this batch's; `added`:
  /// it was empty (the caller sets its index). Null in a crowded neighbourhood.
  label_slot* find_slot(const void* key, bool& added);
  /// The label index of text in batch.labels, added the first time.
  uint32_t label(flow_batch& batch, const std::string* text);
  /// The index of texts in batch.labels.tables, referenced the first time.
  uint32_t table(flow_batch& batch, const std::shared_ptr<const label_table>& texts);
  /// The routes of the neighbor that `exporter` belongs to; null: none.
  const adj_rib_in* exporter_routes(const ip_address& exporter);
  /// Looks up the source and destination routes of every record of the
  /// batch, a run of records with the same neighbor at a time (batched
  /// lookups overlap their memory reads).
  void lookup_routes(const flow_batch& batch);
  /// Starts loading what enrich_bgp reads for records a few places after
  /// record i (of count): the matched routes' attribute sets and texts.
  void prefetch_routes(size_t i, size_t count) const;
  /// Fills record i's BGP fields from the routes lookup_routes found.
  void enrich_bgp(flow_batch& batch, size_t i);

  enricher_settings settings_;
  prefix_table overrides_; ///< exporter -> 1-based index into settings_.sampling.overrides
  prefix_table defaults_;
  /// The static rates of the last exporter looked up (records come in runs
  /// of one exporter's datagram): its override and its fallback, 0 for none.
  struct exporter_rates {
    ip_address exporter;
    uint32_t override_rate = 0;
    uint32_t fallback_rate = 0;
    bool valid = false;
  } last_rates_;
  std::shared_ptr<const prefix_list> prefixes_;
  std::shared_ptr<geoip_database> country_db_;
  std::shared_ptr<geoip_database> asn_db_;
  void clear_cache();

  size_t cache_sets_ = 0;        ///< from settings_.address_cache_size; 0: no cache
  huge_vector<cache_set> cache_; ///< empty until there are prefixes or databases
  /// Per set: bits 0-3 say which ways hold an address, bits 4-5 which way is
  /// replaced next.
  std::vector<uint8_t> cache_state_;
  std::vector<label_slot> label_index_ = std::vector<label_slot>(label_slots);
  // Per batch (kept between batches: no allocation).
  std::vector<address_facts> record_facts_; ///< [2i]: record i's source, [2i + 1]: destination
  std::vector<ip_address> miss_keys_;       ///< addresses the cache did not have
  std::vector<uint32_t> miss_ways_;         ///< their cache way: set * cache_ways + way
  std::vector<address_facts> miss_facts_;
  std::vector<uint32_t> miss_ours_;
  std::vector<geo_info> miss_countries_;
  std::vector<geo_info> miss_asns_;
  uint32_t batch_number_ = 0;

  // -- BGP --
  bgp_rib rib_;
  std::map<ip_address, uint32_t> router_ids_; ///< neighbor -> BGP identifier
  /// The last exporter resolved and its routes (exporters repeat in a
  /// batch); invalid after a route change, which may free a neighbor's table.
  ip_address last_exporter_;
  const adj_rib_in* last_routes_ = nullptr;
  bool last_valid_ = false;
  // Per record of the batch being enriched (kept between batches: no allocation).
  std::vector<const adj_rib_in*> record_ribs_;
  std::vector<ip_address> route_keys_; ///< the addresses of one run
  std::vector<bgp_rib::match> src_routes_;
  std::vector<bgp_rib::match> dst_routes_;

  // -- counters --
  uint64_t records_ = 0;
  std::array<uint64_t, 4> by_rate_source_{};
  std::array<uint64_t, 5> by_scope_{};
  uint64_t cache_hits_ = 0;
  uint64_t cache_misses_ = 0;
  uint64_t bgp_no_neighbor_ = 0; ///< records whose exporter has no routes
  uint64_t bgp_src_matches_ = 0;
  uint64_t bgp_dst_matches_ = 0;
};

} // namespace tidewatch
