#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/counters.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

/// The keys of a per-flow JSON line, in the order json_encoder prints them.
enum class json_field : uint8_t {
  // -- nfacctd's keys --
  event_type,
  mac_src,
  mac_dst,
  vlan,
  as_src,
  as_dst,
  comms,
  ecomms,
  lcomms,
  as_path,
  local_pref,
  med,
  peer_as_src,
  peer_as_dst,
  peer_ip_src,
  peer_ip_dst,
  comms_src,
  ecomms_src,
  lcomms_src,
  as_path_src,
  local_pref_src,
  med_src,
  iface_in,
  iface_out,
  ip_src,
  net_src,
  ip_dst,
  net_dst,
  mask_src,
  mask_dst,
  port_src,
  port_dst,
  tcp_flags,
  ip_proto,
  tos,
  sampling_rate,
  timestamp_start,
  timestamp_end,
  timestamp_arrival,
  export_proto_version,
  stamp_inserted,
  stamp_updated,
  flows,
  packets,
  bytes,
  // -- tidewatch's own --
  export_protocol,
  observation_domain,
  ip_version,
  flow_direction,
  forwarding_status,
  next_hop,
  sampler_id,
  sample_pool,
  // -- the enricher's --
  sampling_source,
  packets_sampled,
  bytes_sampled,
  tag2,
  traffic_scope,
  net_cidr_src,
  net_cidr_dst,
  net_name_src,
  net_name_dst,
  country_ip_src,
  country_ip_dst,
  as_name_src,
  as_name_dst,
  region,
  count_
};

/// A set of json_field.
using json_field_set = std::bitset<size_t(json_field::count_)>;

/// The key a field prints, e.g. "ip_src".
std::string_view json_field_name(json_field f);
/// The field of a key, or nothing for an unknown key.
std::optional<json_field> json_field_by_name(std::string_view name);

/// Turns flow records into JSON lines that match the JSON of pmacct nfacctd's
/// print plugin (keys, key order and value formats as nfacctd 1.7.7 prints
/// them; see test/fixtures/pmacct), followed by the fields only tidewatch has.
///
/// Keys, in the order of json_field: nfacctd's (the BGP ones, comms to
/// peer_as_dst and comms_src to med_src, only with options::bgp_fields),
/// then tidewatch's, then the enricher's (packets_sampled and bytes_sampled
/// only with options::unscaled_counters).
/// A sink may print fewer of them (options::fields).
///
/// Times are UTC (nfacctd prints local time unless timestamps_utc is set).
/// stamp_inserted and stamp_updated are both the arrival second (nfacctd fills
/// them only with print_history, from its own buckets). An instance caches
/// formatted dates, so it belongs to one thread (one sink); encode() is const
/// only towards the record.
class json_encoder {
public:
  struct options {
    /// Also print the counters as exported, before sampling extrapolation
    /// (packets_sampled, bytes_sampled).
    bool unscaled_counters = false;
    /// Also print the BGP keys after as_dst, as nfacctd does with a BGP
    /// daemon: comms, ecomms, lcomms, as_path, local_pref, med, peer_as_src,
    /// peer_as_dst. Set for the pipelines of a node with a BGP speaker, so
    /// every line of a sink has the same keys.
    bool bgp_fields = false;
    /// The keys to print (a sink's `fields`), still in the order above;
    /// empty: every key, less those the two options above leave out. Fewer
    /// keys make lines shorter, which is what a file, Kafka and the
    /// consumer pay for per byte.
    json_field_set fields{};
  };

  json_encoder() : json_encoder(options{}) {}
  explicit json_encoder(const options& opts);

  /// Upper bound of one encoded line, newline included.
  static constexpr size_t max_line_size =
      16384; // eight BGP texts of up to 1 KiB each, and the rest

  /// Appends one JSON object for r plus '\n' to out; `labels` is the
  /// record's batch's label table (flow_batch::labels). No allocation per
  /// record or field beyond out's own growth (reuse out across calls).
  void encode(const flow_record& r, const label_table& labels, std::string& out) const;

  /// Appends one JSON object for an aggregated record (flow_aggregator's
  /// output) plus '\n': event_type, the keys of the `primitives` that make
  /// the aggregation key (pmacct's names and order, as nfacctd prints them
  /// with `aggregate`), stamp_inserted (the bucket's start), stamp_updated
  /// (updated_us), flows, packets, bytes.
  void encode_aggregate(const flow_record& r, uint32_t primitives, int64_t updated_us,
                        std::string& out) const;
  /// Either of the above, as the batch says.
  void encode_any(const flow_record& r, const flow_batch& batch, std::string& out) const {
    if (batch.aggregated_by != 0)
      encode_aggregate(r, batch.aggregated_by, batch.aggregated_at_us, out);
    else
      encode(r, batch.labels, out);
  }

  /// Appends the counter records of one sFlow counter sample as sfacctd 1.7.7
  /// writes them to its `sfacctd_counter_file` (JSON): a line per record the
  /// sample carried (generic interface, then Ethernet), with the keys seq,
  /// timestamp (arrival), peer_ip_src (agent), event_type "log",
  /// source_id_index, sflow_seq (datagram), sflow_cnt_seq (sample),
  /// sf_cnt_type, then the record's counters under their MIB names. `seq`
  /// numbers the lines of one output and is advanced per line.
  void encode_counters(const sflow_interface_counters& c, uint64_t& seq, std::string& out) const;

private:
  /// "YYYY-MM-DD HH:MM:SS" of one second since the epoch, remembered so that
  /// the many records of one second share the calendar arithmetic.
  struct date_slot {
    int64_t second = INT64_MIN;
    std::array<char, 24> text{};
    uint8_t length = 0;
  };

  /// Writes the date and time of second s (UTC) at p; returns the end.
  char* put_date(char* p, int64_t s) const;
  /// Writes a pmacct timestamp "YYYY-MM-DD HH:MM:SS.ffffff" of us (µs since the
  /// epoch), or pmacct's zero form when us is 0 (absent); returns the end.
  char* put_timestamp(char* p, int64_t us) const;

  /// encode(), with a test per key when `selected` (options::fields was
  /// given), else only per group of keys.
  template <bool selected>
  void encode_fields(const flow_record& r, const label_table& labels, std::string& out) const;

  /// The keys encode() prints.
  json_field_set fields_;
  /// Whether options::fields chose them.
  bool selected_ = false;
  mutable std::array<date_slot, 8> dates_{};
};

} // namespace tidewatch
