#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "actors/common/ip_prefix.hpp"
#include "actors/detector/attack_signature.hpp"
#include "actors/detector/host_table.hpp"
#include "actors/enricher/prefix_table.hpp"
#include "messages/detector.hpp"
#include "messages/flow.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

/// A set of prefixes with its own thresholds: per host inside it, and for
/// the group's total traffic (an attack spread over many hosts).
struct hostgroup_settings {
  std::string name;
  std::vector<ip_prefix> prefixes;
  std::vector<rate_limit> host_limits;  ///< empty: the global thresholds
  std::vector<rate_limit> group_limits; ///< on the group's totals; empty: none
};

struct detector_settings {
  int64_t bucket_us = 1'000'000;     ///< the rate window
  uint32_t min_windows = 1;          ///< consecutive buckets with a crossing before a ban
  int64_t quiet_us = 10'000'000;     ///< an attack ends after this long below its thresholds
  int64_t ban_us = 60'000'000;       ///< and lasts at least this long
  int64_t host_idle_us = 60'000'000; ///< hosts without traffic this long are forgotten
  size_t max_hosts = 1 << 20;
  bool outgoing = true; ///< also detect attacks sent by our hosts
  /// Bandwidth (bits) limits count only with at least this many flows per
  /// second of their kind, so that one large download never bans its host.
  uint64_t bandwidth_min_flows = 10;
  std::vector<rate_limit> limits; ///< per host, global
  std::vector<hostgroup_settings> hostgroups;
  std::vector<ip_prefix> whitelist;
  size_t recent_attacks = 100;   ///< ended attacks kept for `attacks`
  size_t recent_records = 16384; ///< flows kept to seed a new attack's signature
};

/// What happened to an attack.
enum class attack_event_kind : uint8_t { ban, unban };

struct attack_event {
  attack_event_kind kind;
  attack_report report;
};

/// Finds DoS attacks on (and from) our hosts in enriched flow records.
///
/// Counts each record for the host inside our prefixes (by the enricher's
/// scope: inbound counts for the destination, outbound for the source,
/// internal for both) and for the host's hostgroup, per direction, per kind
/// (all, TCP, SYN, UDP, ICMP, fragments): packets, bits and flows over a
/// sliding window of one bucket (see rate_window). Every record updates the
/// rate of its host and group and compares it to their thresholds at once,
/// so an attack at k times a threshold is found one bucket / k after its
/// first records arrive, not at the end of a bucket.
///
/// Time is the records' arrival time (received_us), not their flow start
/// or end: exporters report flows late (active and inactive timeouts) and
/// with their own clocks, and a detector can act only on what has arrived.
/// A record whose flow lasted longer than a bucket counts with its average
/// rate (packets * bucket / duration): an elephant flow reported at once
/// would otherwise look like a flood of its whole volume. The price: a flood
/// of long-lived flows that the exporter reports only every active timeout
/// shows a fraction (bucket / timeout) of its packet rate, so such floods
/// are caught by flows/s thresholds, or need short active timeouts.
/// Bandwidth limits also need many flows (bandwidth_min_flows): one fast
/// download is not an attack.
///
/// Pure logic: the detector actor feeds it batches and ticks, and turns the
/// ban and unban events it returns into actions.
class flow_detector {
public:
  explicit flow_detector(detector_settings settings);

  /// Counts a batch; appends a ban event for each attack that starts.
  /// `now_us` stands in for records without an arrival time.
  void add(const flow_batch& batch, int64_t now_us, std::vector<attack_event>& events);

  /// Takes new settings (SIGHUP) between batches. Tracked hosts keep their
  /// counters and active attacks go on: an attack whose target no longer
  /// crosses the new thresholds ends by the end_after rule, and a host whose
  /// rate crosses the new ones is banned at its next record. Hostgroups keep
  /// their totals by name; the rate window (bucket_us), the table size
  /// (max_hosts) and recent_records stay as they were at construction.
  void reconfigure(detector_settings settings);

  /// Updates the rates of active attacks, ends those quiet for long enough
  /// (unban events) and forgets idle hosts. Call it a few times per bucket.
  void tick(int64_t now_us, std::vector<attack_event>& events);

  /// Active attacks (oldest first), then recent ones (newest first).
  attack_list attacks() const;

  /// The `n` hosts with the highest rate of `metric` in a direction.
  top_hosts top(rate_metric metric, bool incoming, size_t n, int64_t now_us) const;

  /// Counters for the stats snapshot.
  void collect(std::vector<counter_value>& out) const;

  size_t hosts_tracked() const { return hosts_.size(); }
  size_t active_attacks() const { return active_.size(); }
  /// Memory per tracked host when the table is full.
  size_t bytes_per_host() const { return hosts_.bytes_per_host(); }

private:
  struct group_state {
    std::array<fast_window, 2> fast;
    std::array<rate_window, 2> window;
    std::string prefix_text; ///< the first prefix, as the attack target
    ip_address address;
  };
  struct attack_state {
    attack_report report;
    signature_collector signature;
    size_t dir = 0;
    int group = -1; ///< hostgroup index of a group attack; -1: host attack or group gone
  };

  /// Puts a record of our hosts into the ring of recent ones; returns it as
  /// the detector counts it (hostgroups, a long flow's share of a bucket).
  /// `dirs`: bit 0 it counts incoming, bit 1 outgoing.
  const flow_sample& sample(const flow_record& r, int64_t t, uint8_t dirs);
  /// Scales a sample of a flow longer than a bucket to its share of one.
  void spread(flow_sample& s, int64_t duration_us) const;
  /// Counts a sample of kinds `mask` in bucket `b` for `host`, whose hash is
  /// host_table::hash(host) and whose entry `candidate` may be
  /// (host_table::candidate).
  void count(const flow_sample& s, int64_t t, int64_t b, uint8_t mask, const ip_address& host,
             uint64_t hash, size_t candidate, size_t dir);
  /// The position of `host`, tracked from now on if new (in `group`); npos
  /// (counted) when the table is full.
  size_t find_or_track(const ip_address& host, uint64_t hash, size_t dir, uint16_t group);
  /// Counts a sample in bucket `b` that the fast window `f` of `w` did not
  /// take: settles, rolls, adds, checks `limits` when the headroom is gone.
  void count_slowly(fast_window& f, rate_window& w, size_t dir, int64_t b, uint8_t mask,
                    const flow_sample& s, const std::vector<rate_limit>& limits, int64_t t,
                    const ip_address& host, int group, bool group_attack);
  /// The bucket of arrival time `t`.
  int64_t bucket_of(int64_t t);
  /// Handles a record that a window's headroom did not take: adds it to the
  /// signature of an active attack, checks `limits` and renews the headroom.
  void recheck(rate_window& w, fast_window& f, size_t dir, const flow_sample& s,
               const std::vector<rate_limit>& limits, int64_t t, const ip_address& host, int group,
               bool group_attack);
  void check(rate_window& w, size_t dir, const std::vector<rate_limit>& limits, int64_t t,
             const ip_address& host, int group, bool group_attack);
  void start_attack(rate_window& w, size_t dir, const rate_limit& crossed, int64_t t,
                    const ip_address& host, int group, bool group_attack);
  attack_state* find_attack(uint64_t id);
  /// Builds the hostgroup and whitelist tables from settings_; keeps the
  /// totals of the `previous` hostgroups whose names remain.
  void build_tables(const std::vector<std::string>& previous_names,
                    std::vector<group_state> previous);
  /// Current and peak rates of the active attacks at a time.
  void refresh_rates(int64_t now_us);
  rate_window* window_of(const attack_state& a);
  /// The rates of a window at a time, with `pending` counts of its current bucket.
  void rates(const rate_window& w, const kind_counts& pending, int64_t now_us, uint64_t& pps,
             uint64_t& bps, uint64_t& flows) const;

  detector_settings settings_;
  host_table hosts_;
  prefix_table groups_by_prefix_;
  prefix_table whitelist_;
  std::vector<group_state> groups_;
  std::vector<flow_sample> ring_; ///< recent records of our hosts
  size_t ring_next_ = 0;
  std::vector<std::unique_ptr<attack_state>> active_;
  std::deque<attack_report> recent_;
  std::vector<uint64_t> started_; ///< attacks started in the batch being added
  /// Records add() looks up together (see there), and the hashes,
  /// directions and candidate entries of their hosts (up to two per record)
  /// for the three groups of lookups in flight.
  static constexpr size_t prefetch_window = 16;
  std::array<uint64_t, 3 * 2 * prefetch_window> hashes_{};
  std::array<uint8_t, 3 * 2 * prefetch_window> lookup_dirs_{};
  std::array<size_t, 3 * 2 * prefetch_window> candidates_{};
  int64_t bucket_ = 0;       ///< the last bucket_of()
  int64_t bucket_start_ = 0; ///< and its start (0 with bucket_ 0: a valid pair)
  uint64_t next_attack_id_ = 1;
  int64_t last_expiry_bucket_ = 0;
  // -- counters --
  uint64_t records_ = 0;
  uint64_t records_not_ours_ = 0;
  uint64_t hosts_not_tracked_ = 0; ///< records whose host did not fit the table
  uint64_t hosts_expired_ = 0;
  uint64_t attacks_started_ = 0;
  std::vector<std::pair<std::string, uint64_t>> attacks_by_type_;
};

} // namespace tidewatch
