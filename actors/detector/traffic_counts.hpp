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
constexpr uint8_t kinds_of(uint8_t ip_protocol, uint8_t tcp_flags, bool is_fragment) {
  uint8_t mask = 1u << size_t(traffic_kind::all);
  if (ip_protocol == 6) {
    mask |= 1u << size_t(traffic_kind::tcp);
    // SYN without ACK: connection attempts. NetFlow ORs the flags of a
    // flow's packets, so a normal connection shows SYN together with ACK.
    if ((tcp_flags & 0x12) == 0x02)
      mask |= 1u << size_t(traffic_kind::tcp_syn);
  } else if (ip_protocol == 17) {
    mask |= 1u << size_t(traffic_kind::udp);
  } else if (ip_protocol == 1 || ip_protocol == 58) {
    mask |= 1u << size_t(traffic_kind::icmp);
  }
  if (is_fragment)
    mask |= 1u << size_t(traffic_kind::fragment);
  return mask;
}

/// Packets, bytes and flows of one kind of traffic in one bucket and
/// direction. Packets and flows saturate at 2^32 - 1 per bucket, which keeps
/// a host's counters small (see host_entry).
struct kind_counts {
  uint64_t bytes = 0;
  uint32_t packets = 0;
  uint32_t flows = 0;

  /// Adds one flow.
  void add(uint64_t packet_count, uint64_t byte_count) {
    bytes += byte_count;
    packets = uint32_t(std::min<uint64_t>(uint64_t(packets) + packet_count, UINT32_MAX));
    flows = flows == UINT32_MAX ? flows : flows + 1;
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
/// the rare kinds of both share a third, so that counting a TCP or UDP
/// record writes one line.
struct direction_counts {
  std::array<std::array<kind_counts, common_kinds>, 2> common{}; ///< [parity][kind]
  std::array<std::array<kind_counts, traffic_kinds - common_kinds>, 2> rare{};

  kind_counts& at(size_t parity, size_t kind) {
    return kind < common_kinds ? common[parity][kind] : rare[parity][kind - common_kinds];
  }
  const kind_counts& at(size_t parity, size_t kind) const {
    return kind < common_kinds ? common[parity][kind] : rare[parity][kind - common_kinds];
  }
};

/// How much more traffic a window can take in one direction before any of
/// its limits might be crossed, as counted for kind `all` (to which every
/// record adds, so no other kind grows faster): while the records since
/// the last full check stay below it, the check cannot find a crossing and
/// is skipped. It assumes the previous bucket at full weight, so it also
/// holds after the window moves on by a bucket (see rate_window::room_for).
struct headroom {
  uint32_t bytes = 0;
  uint32_t packets = 0;
  uint32_t flows = 0;

  /// Takes a record out of the headroom; false (nothing taken) when the
  /// record may reach a limit, so that the window needs a full check.
  bool take(uint64_t packet_count, uint64_t byte_count) {
    if (packet_count >= packets || byte_count >= bytes || flows <= 1)
      return false;
    packets -= uint32_t(packet_count);
    bytes -= uint32_t(byte_count);
    flows -= 1;
    return true;
  }
};

/// The rates of one tracked host or hostgroup over sliding windows of one
/// bucket length: the bucket in progress and the one before, per direction
/// (0 incoming, 1 outgoing). The rate at elapsed time e into the current
/// bucket of length B is previous * (B - e) / B + current: the traffic of
/// the last B, assuming the previous bucket was uniform. It is always a
/// full window, so a burst at a bucket boundary is not inflated, and an
/// attack at k times a threshold crosses it B / k after it began.
///
/// What every record reads (bucket, headroom, lag) comes first and fits,
/// with a host's key, in one cache line; the counts follow, then the state
/// of crossings and attacks, which only records of a window without
/// headroom touch (see host_entry). Each part of a direction's counts
/// catches up with the window's bucket (clears what moving on would have
/// cleared) only when it is counted next, so that a record touches no
/// counts of the other direction or part; readers see it caught up.
struct rate_window {
  int64_t bucket = 0; ///< index of the current bucket (arrival time / bucket length)
  std::array<headroom, 2> room{};
  /// Buckets each direction's common and rare counts lag behind `bucket`, up to 2.
  std::array<std::array<uint8_t, 2>, 2> lag{};
  std::array<direction_counts, 2> counts{};
  // -- touched when a window has no headroom --
  std::array<int64_t, 2> over_bucket{-2, -2}; ///< the last bucket with a threshold crossed
  std::array<uint32_t, 2> attack{};           ///< id of the active attack (0: none)
  std::array<uint8_t, 2> over_run{};          ///< consecutive buckets with a crossing

  /// Moves the window to bucket `b` (later buckets only; an earlier one is
  /// counted in the current bucket, as records of one batch arrive together).
  void roll(int64_t b) {
    if (b <= bucket)
      return;
    auto moved = uint8_t(std::min<int64_t>(b - bucket, 2));
    for (auto& parts : lag)
      for (auto& l : parts)
        l = std::min<uint8_t>(uint8_t(l + moved), 2);
    bucket = b;
  }

  /// Counts one flow of the kinds in `mask` in direction `dir`.
  void add(size_t dir, uint8_t mask, uint64_t packet_count, uint64_t byte_count) {
    size_t parity = size_t(bucket) & 1;
    auto& c = counts[dir];
    catch_up(dir, 0);
    for (size_t k = 0; k < common_kinds; ++k)
      if (mask & (1u << k))
        c.common[parity][k].add(packet_count, byte_count);
    if ((mask & rare_kinds_mask) == 0)
      return;
    catch_up(dir, 1);
    for (size_t k = common_kinds; k < traffic_kinds; ++k)
      if (mask & (1u << k))
        c.rare[parity][k - common_kinds].add(packet_count, byte_count);
  }

  /// The count of a metric and kind in the current bucket (`previous`
  /// false) or the one before.
  uint64_t value(size_t dir, bool previous, traffic_kind k, rate_metric m) const {
    uint8_t l = lag[dir][size_t(k) < common_kinds ? 0 : 1];
    // Caught up, a part one bucket behind would have nothing current (its
    // current counts, of parity bucket - 1, would be the previous ones);
    // two behind, nothing at all.
    if (l >= 2 || (l == 1 && !previous))
      return 0;
    return counts[dir].at((size_t(bucket) ^ size_t(previous)) & 1, size_t(k)).value(m);
  }

  /// The sliding-window count of a metric at `elapsed_us` into bucket `b`,
  /// without moving the window (so that readers stay const).
  double rate(size_t dir, traffic_kind k, rate_metric m, int64_t b, int64_t elapsed_us,
              int64_t bucket_us) const {
    double prev = 0;
    double cur = 0;
    if (b == bucket) {
      prev = double(value(dir, true, k, m));
      cur = double(value(dir, false, k, m));
    } else if (b == bucket + 1) {
      prev = double(value(dir, false, k, m));
    } else if (b < bucket) {
      cur = double(value(dir, false, k, m));
    }
    return prev * double(bucket_us - elapsed_us) / double(bucket_us) + cur;
  }

  /// The first limit crossed in direction `dir` at `elapsed_us` into the
  /// current bucket (the window rolled to it), or nullptr. A bandwidth limit
  /// counts only with at least `bandwidth_min_flows` flows per second of its
  /// kind: one large download is not an attack.
  const rate_limit* crossed(size_t dir, const std::vector<rate_limit>& limits, int64_t elapsed_us,
                            int64_t bucket_us, uint64_t bandwidth_min_flows) const {
    double weight = double(bucket_us - elapsed_us) / double(bucket_us);
    double buckets_per_second = double(bucket_us) / 1e6;
    auto count = [&](traffic_kind k, rate_metric m) {
      return double(value(dir, true, k, m)) * weight + double(value(dir, false, k, m));
    };
    for (auto& l : limits)
      if (count(l.kind, l.metric) >= double(l.per_second) * buckets_per_second &&
          (l.metric != rate_metric::bits ||
           count(l.kind, rate_metric::flows) >= double(bandwidth_min_flows) * buckets_per_second))
        return &l;
    return nullptr;
  }

  /// The headroom of direction `dir` under `limits`: for each, the per-bucket
  /// limit (rounded down) minus the previous and current counts. crossed()
  /// weighs the previous bucket by at most 1, so it finds no crossing before
  /// a kind grows by that much; after a move to the next bucket the previous
  /// counts are the old current ones and the headroom can only have grown.
  headroom room_for(size_t dir, const std::vector<rate_limit>& limits, int64_t bucket_us) const {
    double buckets_per_second = double(bucket_us) / 1e6;
    uint64_t packets = UINT32_MAX;
    uint64_t bits = uint64_t(UINT32_MAX) * 8;
    uint64_t flows = UINT32_MAX;
    for (auto& l : limits) {
      auto limit = uint64_t(std::floor(double(l.per_second) * buckets_per_second));
      uint64_t have = value(dir, true, l.kind, l.metric) + value(dir, false, l.kind, l.metric);
      uint64_t left = limit > have ? limit - have : 0;
      auto& room = l.metric == rate_metric::packets ? packets
                   : l.metric == rate_metric::bits  ? bits
                                                    : flows;
      room = std::min(room, left);
    }
    return {uint32_t(bits / 8), uint32_t(packets), uint32_t(flows)};
  }

private:
  /// Clears what moving on to `bucket` would have cleared in a part of the
  /// counts of direction `dir`.
  void catch_up(size_t dir, size_t part) {
    uint8_t& l = lag[dir][part];
    if (l == 0)
      return;
    size_t parity = size_t(bucket) & 1;
    auto& c = counts[dir];
    for (size_t p = 0; p < 2; ++p) {
      if (p != parity && l < 2)
        continue;
      if (part == 0)
        c.common[p] = {};
      else
        c.rare[p] = {};
    }
    l = 0;
  }
};

} // namespace tidewatch
