#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/flow.hpp"

namespace tidewatch {

/// The flow fields a sink can aggregate by, named as pmacct's `aggregate`
/// primitives name them (plus tidewatch's traffic_scope). The order is the
/// order of their keys in the JSON output.
enum class aggregate_primitive : uint8_t {
  src_mac,
  dst_mac,
  vlan,
  src_as,
  dst_as,
  peer_src_ip,
  peer_dst_ip,
  in_iface,
  out_iface,
  src_host,
  src_net,
  dst_host,
  dst_net,
  src_mask,
  dst_mask,
  src_port,
  dst_port,
  tcpflags,
  proto,
  tos,
  sampling_rate,
  timestamp_start, ///< the flow's start as exported (µs): keys per flow, as in pmacct
  timestamp_end,
  export_proto_version,
  peer_src_as,
  peer_dst_as,
  src_host_country,
  dst_host_country,
  traffic_scope,
  count_ ///< number of primitives, not one
};

/// A set of primitives, one bit each.
using aggregate_primitives = uint32_t;
static_assert(size_t(aggregate_primitive::count_) <= 32);

constexpr aggregate_primitives bit(aggregate_primitive p) {
  return aggregate_primitives(1) << unsigned(p);
}

/// The primitive called name (pmacct's spelling), if there is one.
std::optional<aggregate_primitive> parse_aggregate_primitive(std::string_view name);
/// Every primitive's name, in output order (for messages and docs).
std::vector<std::string_view> aggregate_primitive_names();

/// Sums bytes, packets and flows per key (the chosen primitives) and time
/// bucket, as pmacct's `aggregate` with `print_refresh_time`/`print_history`
/// does, so that a sink writes one record per key and interval instead of
/// one per flow.
///
/// Records fall in the bucket of their arrival time (received_us): buckets
/// then close in real time and a late export cannot reopen an old one. A
/// bucket is emitted once its interval has ended and `grace` has passed (for
/// records still in the pipeline); a record for an already emitted bucket
/// starts a new entry for that bucket, emitted at the next flush, and is
/// counted as late.
class flow_aggregator {
public:
  struct settings {
    aggregate_primitives primitives = 0;
    int64_t interval_us = 60'000'000;
    int64_t grace_us = 2'000'000;
  };

  explicit flow_aggregator(settings s);

  /// Adds each record's counters to its key and bucket. Allocates only when
  /// a bucket's table outgrows what earlier intervals left it.
  void add(const flow_batch& batch);

  /// Moves the buckets that ended at or before now_us - grace (all of them
  /// with `everything`, e.g. at shutdown) into out as records: only the
  /// chosen fields set, received_us = the bucket's start, flows = the flows
  /// summed. Returns how many were moved.
  size_t flush(int64_t now_us, bool everything, std::vector<flow_record>& out);

  size_t open_entries() const;
  uint64_t records_in() const { return records_in_; }
  uint64_t late_records() const { return late_records_; }
  const settings& config() const { return settings_; }

private:
  struct sums {
    uint64_t bytes = 0;
    uint64_t packets = 0;
    uint64_t flows = 0;
  };
  struct entry {
    uint64_t hash;
    flow_record key;
    sums totals;
  };
  /// One time bucket's sums: entries in arrival order, found through an
  /// open-addressing index (linear probing, at most half full) of entry
  /// positions + 1 (0: empty). Emptied tables are kept for the next
  /// bucket, so that a steady load allocates nothing.
  struct bucket_table {
    int64_t start_us = 0;
    std::vector<entry> entries;
    std::vector<uint32_t> index;
  };

  uint64_t hash(const flow_record& key) const;
  /// Only the chosen fields of r (and the bucket start), the rest default.
  flow_record project(const flow_record& r, int64_t bucket_start_us) const;
  bucket_table& table_for(int64_t bucket_start_us);
  void grow(bucket_table& t);

  settings settings_;
  std::vector<bucket_table> open_; ///< buckets not emitted yet, usually one or two
  std::vector<bucket_table> spare_;
  int64_t emitted_until_us_ = INT64_MIN; ///< buckets starting before this were emitted
  uint64_t records_in_ = 0;
  uint64_t late_records_ = 0;
};

} // namespace tidewatch
