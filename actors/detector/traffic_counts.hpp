#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tidewatch {

/// The traffic classes the detector counts separately for every host.
enum class traffic_kind : uint8_t { all, tcp, tcp_syn, udp, icmp, fragment };
constexpr size_t traffic_kinds = 6;

/// What a threshold limits: packets, bits or flows per second.
enum class rate_metric : uint8_t { packets, bits, flows };

/// Threshold name prefixes per kind (`syn_pps`, `udp_mbps`, ...).
constexpr const char* kind_prefix(traffic_kind k) {
  constexpr const char* names[] = {"", "tcp_", "syn_", "udp_", "icmp_", "fragment_"};
  return names[size_t(k)];
}

/// Threshold name suffixes per metric.
constexpr const char* metric_suffix(rate_metric m) {
  constexpr const char* names[] = {"pps", "mbps", "flows"};
  return names[size_t(m)];
}

/// The kinds a flow belongs to as a bit mask (bit 1 << kind); `all` always.
/// Without branches: the detector's records come in a random order of
/// protocols and flags, and a mispredicted branch per record would cost
/// more than the rest of counting it.
constexpr uint8_t kinds_of(uint8_t ip_protocol, uint8_t tcp_flags, bool is_fragment) {
  constexpr uint8_t all = 1u << size_t(traffic_kind::all);
  uint8_t tcp = ip_protocol == 6;
  uint8_t udp = ip_protocol == 17;
  uint8_t icmp = (ip_protocol == 1) | (ip_protocol == 58);
  // SYN without ACK: connection attempts. NetFlow ORs the flags of a
  // flow's packets, so a normal connection shows SYN together with ACK.
  uint8_t syn = tcp & uint8_t((tcp_flags & 0x12) == 0x02);
  return uint8_t(all | tcp << size_t(traffic_kind::tcp) | syn << size_t(traffic_kind::tcp_syn) |
                 udp << size_t(traffic_kind::udp) | icmp << size_t(traffic_kind::icmp) |
                 uint8_t(is_fragment) << size_t(traffic_kind::fragment));
}

/// Packets, bytes and flows of one kind of traffic in one bucket and
/// direction. Packets and flows saturate at 2^32 - 1 per bucket, which keeps
/// a host's counters small (see host_entry).
struct kind_counts {
  uint64_t bytes = 0;
  uint32_t packets = 0;
  uint32_t flows = 0;

  /// Adds `flow_count` flows (one record, unless settled in bulk).
  void add(uint64_t packet_count, uint64_t byte_count, uint64_t flow_count = 1) {
    bytes += byte_count;
    packets = uint32_t(std::min<uint64_t>(uint64_t(packets) + packet_count, UINT32_MAX));
    flows = uint32_t(std::min<uint64_t>(uint64_t(flows) + flow_count, UINT32_MAX));
  }

  /// The count of a metric (bits are bytes times 8).
  uint64_t value(rate_metric m) const {
    switch (m) {
    case rate_metric::packets:
      return packets;
    case rate_metric::bits:
      return bytes * 8;
    case rate_metric::flows:
      return flows;
    }
    return 0;
  }
};

/// One threshold: at most `per_second` of a metric for a kind of traffic.
struct rate_limit {
  traffic_kind kind = traffic_kind::all;
  rate_metric metric = rate_metric::packets;
  uint64_t per_second = 0; ///< bits per second for rate_metric::bits

  /// "syn_pps 50000", "udp_mbps 1000": what the reports say was crossed.
  std::string to_string() const {
    auto value = metric == rate_metric::bits ? per_second / 1'000'000 : per_second;
    return std::string(kind_prefix(kind)) + metric_suffix(metric) + " " + std::to_string(value);
  }
};

/// The kinds most records belong to (all, TCP, SYN, UDP) are the common
/// part of a direction's counts, ICMP and fragments the rare part.
constexpr size_t common_kinds = 4;
constexpr uint8_t rare_kinds_mask = uint8_t(0xff << common_kinds);

/// The counts of one direction in two buckets, told apart by the parity of
/// their index, so that moving on to the next bucket clears one of them
/// instead of copying. Each bucket's common kinds fill one cache line and
/// the rare kinds of both share a third.
struct alignas(64) direction_counts {
  std::array<std::array<kind_counts, common_kinds>, 2> common{}; ///< [parity][kind]
  std::array<std::array<kind_counts, traffic_kinds - common_kinds>, 2> rare{};

  kind_counts& at(size_t parity, size_t kind) {
    return kind < common_kinds ? common[parity][kind] : rare[parity][kind - common_kinds];
  }
  const kind_counts& at(size_t parity, size_t kind) const {
    return kind < common_kinds ? common[parity][kind] : rare[parity][kind - common_kinds];
  }
};

/// How much more traffic a window can take before any of its limits might
/// be crossed, as counted for kind `all` (to which every record adds, so no
/// other kind grows faster): while the records since the last full check
/// stay below it, the check cannot find a crossing and is skipped. It
/// assumes the previous bucket at full weight, so it also holds after the
/// window moves on by a bucket (see rate_window::room_for). Packets and
/// flows are capped at 16 and 8 bits, which bounds the pending counts
/// (fast_window) and costs a busy host a full check every 255 flows.
struct headroom {
  uint32_t bytes = 0;
  uint16_t packets = 0;
  uint8_t flows = 0;

  /// Takes a record out of the headroom; false (nothing taken) when the
  /// record may reach a limit, so that the window needs a full check.
  bool take(uint64_t packet_count, uint64_t byte_count) {
    if (packet_count >= packets || byte_count >= bytes || flows <= 1)
      return false;
    packets = uint16_t(packets - packet_count);
    bytes -= uint32_t(byte_count);
    flows = uint8_t(flows - 1);
    return true;
  }
};

/// What the records a window's headroom took added to the kinds other than
/// `all` (whose count is what the headroom lost), for the kinds a record
/// can have on the fast path: TCP, SYN, UDP and ICMP (fragments go the
/// slow way). Bounded by the headroom, so the widths cannot overflow.
struct pending_counts {
  static constexpr size_t kinds = 4; ///< traffic_kind 1 .. 4
  std::array<uint32_t, kinds> bytes{};
  std::array<uint16_t, kinds> packets{};
  std::array<uint8_t, kinds> flows{};

  /// Adds a record to the kinds in `mask`, multiplying by each kind's bit
  /// instead of branching on it (see kinds_of).
  void add(uint8_t mask, uint64_t packet_count, uint64_t byte_count) {
    for (size_t k = 0; k < kinds; ++k) {
      uint32_t in = (mask >> (k + 1)) & 1u;
      bytes[k] += in * uint32_t(byte_count);
      packets[k] = uint16_t(packets[k] + in * uint32_t(packet_count));
      flows[k] = uint8_t(flows[k] + in);
    }
  }
};

/// The part of a direction's window that a record below its thresholds
/// reads and writes: the bucket it counts in, the headroom and the counts
/// pending since the window was last settled (see rate_window::settle). A
/// host keeps it beside its key in one cache line (host_line), so that such
/// a record touches nothing else.
struct fast_window {
  /// The low 32 bits of the window's bucket (settle keeps them equal); a
  /// record 2^32 buckets old (136 years of 1 s buckets) cannot arrive.
  uint32_t bucket = 0;
  headroom room;
  pending_counts pending;

  /// Counts a record of the kinds in `mask` in bucket `b` if the headroom
  /// takes it and the window is in that bucket; false: count it the slow
  /// way (settle, roll, add, check).
  bool take(int64_t b, uint8_t mask, uint64_t packet_count, uint64_t byte_count) {
    constexpr uint8_t fragment_bit = 1u << size_t(traffic_kind::fragment);
    if (uint32_t(b) != bucket || (mask & fragment_bit) != 0 || !room.take(packet_count, byte_count))
      return false;
    pending.add(mask, packet_count, byte_count);
    return true;
  }
};

/// The rate of one direction of a tracked host or hostgroup over sliding
/// windows of one bucket length: the bucket in progress and the one before.
/// The rate at elapsed time e into the current bucket of length B is
/// previous * min(1, (B - e) / (B - f)) + current, where f is when the
/// previous bucket's first record arrived: the traffic of the last B,
/// assuming the previous bucket was uniform from its first record on. It is
/// always a full window, so a burst at a bucket boundary is not inflated,
/// and an attack at k times a threshold crosses it B / k after it began,
/// wherever in a bucket it began (taking the previous bucket as uniform
/// from its start would delay an attack that began in its middle, at 1.04
/// times a threshold, by up to 0.6 B).
///
/// Records the headroom takes are pending in the direction's fast_window
/// until the next record that it does not take settles them into the
/// counts; readers add the pending `all` counts (pending_all). The state
/// fills the first line; each part of the counts catches up with the
/// window's bucket (clears what moving on would have cleared) only when it
/// is counted next, so that a record touches no other part.
struct alignas(64) rate_window {
  int64_t bucket = 0;       ///< index of the current bucket (arrival time / bucket length)
  int64_t over_bucket = -2; ///< the last bucket with a threshold crossed
  /// The fast window's headroom when last settled: what it lost since is
  /// the pending count of kind `all`.
  headroom baseline;
  uint32_t attack = 0;            ///< id of the active attack (0: none)
  uint32_t first_us = 0;          ///< when the current bucket's first record arrived, into it
  uint32_t previous_first_us = 0; ///< the same for the previous bucket
  std::array<uint8_t, 2> lag{};   ///< buckets the common and rare counts lag behind, up to 2
  uint8_t over_run = 0;           ///< consecutive buckets with a crossing
  direction_counts counts;

  /// Moves the window to bucket `b` for a record `offset_us` into it (later
  /// buckets only; an earlier one is counted in the current bucket, as
  /// records of one batch arrive together). Settle first: pending counts
  /// belong to the bucket they were taken in.
  void roll(int64_t b, uint32_t offset_us) {
    if (b <= bucket)
      return;
    previous_first_us = b == bucket + 1 ? first_us : 0;
    first_us = offset_us;
    auto moved = uint8_t(std::min<int64_t>(b - bucket, 2));
    for (auto& l : lag)
      l = std::min<uint8_t>(uint8_t(l + moved), 2);
    bucket = b;
  }

  /// Counts one flow of the kinds in `mask`.
  void add(uint8_t mask, uint64_t packet_count, uint64_t byte_count) {
    size_t parity = size_t(bucket) & 1;
    catch_up(0);
    for (size_t k = 0; k < common_kinds; ++k)
      if (mask & (1u << k))
        counts.common[parity][k].add(packet_count, byte_count);
    if ((mask & rare_kinds_mask) == 0)
      return;
    catch_up(1);
    for (size_t k = common_kinds; k < traffic_kinds; ++k)
      if (mask & (1u << k))
        counts.rare[parity][k - common_kinds].add(packet_count, byte_count);
  }

  /// The `all` counts that `f` took since the last settle.
  kind_counts pending_all(const fast_window& f) const {
    return {uint64_t(baseline.bytes - f.room.bytes), uint32_t(baseline.packets - f.room.packets),
            uint32_t(baseline.flows - f.room.flows)};
  }

  /// Moves what `f` took since the last settle into the current bucket's
  /// counts, so that the counts are whole and the headroom may be replaced.
  void settle(fast_window& f) {
    auto all = pending_all(f);
    if (all.flows != 0) {
      size_t parity = size_t(bucket) & 1;
      catch_up(0);
      counts.common[parity][0].add(all.packets, all.bytes, all.flows);
      auto& p = f.pending;
      for (size_t k = 0; k + 1 < common_kinds; ++k)
        if (p.flows[k] != 0)
          counts.common[parity][k + 1].add(p.packets[k], p.bytes[k], p.flows[k]);
      constexpr size_t icmp = size_t(traffic_kind::icmp) - 1;
      if (p.flows[icmp] != 0) {
        catch_up(1);
        counts.rare[parity][icmp + 1 - common_kinds].add(p.packets[icmp], p.bytes[icmp],
                                                         p.flows[icmp]);
      }
      p = {};
    }
    resume(f);
  }

  /// Makes `f`'s headroom the new baseline and its bucket the window's:
  /// after the slow way (settle, roll, add, check), whose record went into
  /// the counts directly.
  void resume(fast_window& f) {
    baseline = f.room;
    f.bucket = uint32_t(bucket);
  }

  /// The count of a metric and kind in the current bucket (`previous`
  /// false) or the one before, settled counts only.
  uint64_t value(bool previous, traffic_kind k, rate_metric m) const {
    uint8_t l = lag[size_t(k) < common_kinds ? 0 : 1];
    // Caught up, a part one bucket behind would have nothing current (its
    // current counts, of parity bucket - 1, would be the previous ones);
    // two behind, nothing at all.
    if (l >= 2 || (l == 1 && !previous))
      return 0;
    return counts.at((size_t(bucket) ^ size_t(previous)) & 1, size_t(k)).value(m);
  }

  /// The share of a previous bucket whose first record came `first_us`
  /// into it that is still in the window at `elapsed_us` into the next.
  static double weight(uint32_t first_us, int64_t elapsed_us, int64_t bucket_us) {
    return std::min(1.0, double(bucket_us - elapsed_us) / double(bucket_us - first_us));
  }

  /// The sliding-window count of a metric at `elapsed_us` into bucket `b`,
  /// without moving the window (so that readers stay const); `pending` is
  /// added to the window's current bucket.
  double rate(traffic_kind k, rate_metric m, int64_t b, int64_t elapsed_us, int64_t bucket_us,
              uint64_t pending = 0) const {
    if (b == bucket)
      return double(value(true, k, m)) * weight(previous_first_us, elapsed_us, bucket_us) +
             double(value(false, k, m) + pending);
    if (b == bucket + 1)
      return double(value(false, k, m) + pending) * weight(first_us, elapsed_us, bucket_us);
    if (b < bucket)
      return double(value(false, k, m) + pending);
    return 0;
  }

  /// The first limit crossed at `elapsed_us` into the current bucket (the
  /// window settled and rolled to it), or nullptr. A bandwidth limit counts
  /// only with at least `bandwidth_min_flows` flows per second of its kind:
  /// one large download is not an attack.
  const rate_limit* crossed(const std::vector<rate_limit>& limits, int64_t elapsed_us,
                            int64_t bucket_us, uint64_t bandwidth_min_flows) const {
    double previous = weight(previous_first_us, elapsed_us, bucket_us);
    double buckets_per_second = double(bucket_us) / 1e6;
    auto count = [&](traffic_kind k, rate_metric m) {
      return double(value(true, k, m)) * previous + double(value(false, k, m));
    };
    for (auto& l : limits)
      if (count(l.kind, l.metric) >= double(l.per_second) * buckets_per_second &&
          (l.metric != rate_metric::bits ||
           count(l.kind, rate_metric::flows) >= double(bandwidth_min_flows) * buckets_per_second))
        return &l;
    return nullptr;
  }

  /// The headroom under `limits` (the window settled): for each, the
  /// per-bucket limit (rounded down) minus the previous and current counts.
  /// crossed() weighs the previous bucket by at most 1, so it finds no
  /// crossing before a kind grows by that much; after a move to the next
  /// bucket the previous counts are the old current ones and the headroom
  /// can only have grown.
  headroom room_for(const std::vector<rate_limit>& limits, int64_t bucket_us) const {
    double buckets_per_second = double(bucket_us) / 1e6;
    uint64_t packets = UINT16_MAX;
    uint64_t bits = uint64_t(UINT32_MAX) * 8;
    uint64_t flows = UINT8_MAX;
    for (auto& l : limits) {
      auto limit = uint64_t(std::floor(double(l.per_second) * buckets_per_second));
      uint64_t have = value(true, l.kind, l.metric) + value(false, l.kind, l.metric);
      uint64_t left = limit > have ? limit - have : 0;
      auto& room = l.metric == rate_metric::packets ? packets
                   : l.metric == rate_metric::bits  ? bits
                                                    : flows;
      room = std::min(room, left);
    }
    return {uint32_t(bits / 8), uint16_t(packets), uint8_t(flows)};
  }

private:
  /// Clears what moving on to `bucket` would have cleared in a part of the counts.
  void catch_up(size_t part) {
    uint8_t& l = lag[part];
    if (l == 0)
      return;
    size_t parity = size_t(bucket) & 1;
    for (size_t p = 0; p < 2; ++p) {
      if (p != parity && l < 2)
        continue;
      if (part == 0)
        counts.common[p] = {};
      else
        counts.rare[p] = {};
    }
    l = 0;
  }
};
static_assert(offsetof(rate_window, counts) == 64 && sizeof(rate_window) == 256);

} // namespace tidewatch
