#pragma once

#include <algorithm>
#include <array>
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

/// Packets, bytes and flows of one direction in one bucket, per kind.
/// Packets and flows saturate at 2^32 - 1 per bucket, which keeps a host's
/// counters small (see host_entry).
struct traffic_counts {
  std::array<uint64_t, traffic_kinds> bytes{};
  std::array<uint32_t, traffic_kinds> packets{};
  std::array<uint32_t, traffic_kinds> flows{};

  /// Adds one flow of the kinds in `mask`.
  void add(uint8_t mask, uint64_t packet_count, uint64_t byte_count) {
    for (size_t k = 0; k < traffic_kinds; ++k) {
      if (!(mask & (1u << k)))
        continue;
      bytes[k] += byte_count;
      packets[k] = uint32_t(std::min<uint64_t>(uint64_t(packets[k]) + packet_count, UINT32_MAX));
      flows[k] = flows[k] == UINT32_MAX ? flows[k] : flows[k] + 1;
    }
  }

  /// The count of a metric and kind (bits are bytes times 8).
  uint64_t value(traffic_kind k, rate_metric m) const {
    switch (m) {
    case rate_metric::packets:
      return packets[size_t(k)];
    case rate_metric::bits:
      return bytes[size_t(k)] * 8;
    case rate_metric::flows:
      return flows[size_t(k)];
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

/// The counts of one direction: the bucket in progress and the one before,
/// side by side, so that counting a record and checking its thresholds
/// touch three adjacent cache lines.
struct direction_counts {
  traffic_counts current;
  traffic_counts previous;
};

/// The rates of one tracked host or hostgroup over sliding windows of one
/// bucket length: the bucket in progress and the one before, per direction
/// (0 incoming, 1 outgoing). The rate at elapsed time e into the current
/// bucket of length B is previous * (B - e) / B + current: the traffic of
/// the last B, assuming the previous bucket was uniform. It is always a
/// full window, so a burst at a bucket boundary is not inflated, and an
/// attack at k times a threshold crosses it B / k after it began.
///
/// The state every record reads (bucket, attack, crossing run) comes first
/// and fits, with a host's key, in one cache line; the counts follow (see
/// host_entry).
struct rate_window {
  int64_t bucket = 0;                         ///< index of `current` (arrival time / bucket length)
  std::array<int64_t, 2> over_bucket{-2, -2}; ///< the last bucket with a threshold crossed
  /// Id of the active attack (0: none); 32 bits, as a process starts fewer
  /// attacks than that, keep the window's header in the host's first line.
  std::array<uint32_t, 2> attack{};
  std::array<uint8_t, 2> over_run{}; ///< consecutive buckets with a crossing
  std::array<direction_counts, 2> counts{};

  /// Moves the window to bucket `b` (later buckets only; an earlier one is
  /// counted in the current bucket, as records of one batch arrive together).
  void roll(int64_t b) {
    if (b <= bucket)
      return;
    for (auto& c : counts) {
      c.previous = b == bucket + 1 ? c.current : traffic_counts{};
      c.current = traffic_counts{};
    }
    bucket = b;
  }

  /// The sliding-window count of a metric at `elapsed_us` into bucket `b`,
  /// without moving the window (so that readers stay const).
  double rate(size_t dir, traffic_kind k, rate_metric m, int64_t b, int64_t elapsed_us,
              int64_t bucket_us) const {
    double prev = 0;
    double cur = 0;
    auto& c = counts[dir];
    if (b == bucket) {
      prev = double(c.previous.value(k, m));
      cur = double(c.current.value(k, m));
    } else if (b == bucket + 1) {
      prev = double(c.current.value(k, m));
    } else if (b < bucket) {
      cur = double(c.current.value(k, m));
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
    auto& c = counts[dir];
    auto count = [&](traffic_kind k, rate_metric m) {
      return double(c.previous.value(k, m)) * weight + double(c.current.value(k, m));
    };
    for (auto& l : limits)
      if (count(l.kind, l.metric) >= double(l.per_second) * buckets_per_second &&
          (l.metric != rate_metric::bits ||
           count(l.kind, rate_metric::flows) >= double(bandwidth_min_flows) * buckets_per_second))
        return &l;
    return nullptr;
  }
};

} // namespace tidewatch
