#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/detector/traffic_counts.hpp"
#include "messages/detector.hpp"
#include "messages/flow.hpp"

namespace tidewatch {

/// The part of a flow record a signature needs, kept in the detector's ring
/// of recent records so that an attack's signature covers the flows that
/// made it cross its threshold.
struct flow_sample {
  ip_address src_addr;
  ip_address dst_addr;
  int64_t received_us = 0;
  uint64_t packets = 0; ///< after sampling extrapolation
  uint64_t bytes = 0;
  uint32_t src_as = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t src_country = 0;
  uint16_t dst_group = 0; ///< hostgroup index + 1 of the destination host; 0: none
  uint16_t src_group = 0;
  uint8_t ip_protocol = 0;
  uint8_t tcp_flags = 0;
  bool is_fragment = false;
  traffic_scope scope = traffic_scope::unknown;

  /// One line for reports: "203.0.113.9:123 > 192.0.2.1:40000 udp 10 pkts 4680 bytes".
  std::string to_string() const;
};

/// The heaviest keys of a stream in fixed memory (the space-saving algorithm):
/// N counters; a new key takes the place of the smallest one and inherits its
/// count as possible error, so a key carrying more than 1/N of the weight is
/// always kept. Reports give the guaranteed count (count minus error), exact
/// for keys never evicted.
template <class Key, size_t N> class top_keys {
public:
  void add(const Key& key, uint64_t weight) {
    size_t smallest = 0;
    for (size_t i = 0; i < used_; ++i) {
      if (keys_[i] == key) {
        counts_[i] += weight;
        return;
      }
      if (counts_[i] < counts_[smallest])
        smallest = i;
    }
    if (used_ < N) {
      keys_[used_] = key;
      counts_[used_++] = weight;
      return;
    }
    keys_[smallest] = key;
    errors_[smallest] = counts_[smallest];
    counts_[smallest] += weight;
  }

  /// The `n` heaviest keys, heaviest first (ties: smaller key first).
  std::vector<std::pair<Key, uint64_t>> top(size_t n) const {
    std::vector<std::pair<Key, uint64_t>> xs;
    for (size_t i = 0; i < used_; ++i)
      xs.emplace_back(keys_[i], counts_[i] - errors_[i]);
    std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (xs.size() > n)
      xs.resize(n);
    return xs;
  }

private:
  std::array<Key, N> keys_{};
  std::array<uint64_t, N> counts_{};
  std::array<uint64_t, N> errors_{};
  size_t used_ = 0;
};

/// Amplification services by UDP source port.
struct amplification_service {
  uint16_t port;
  const char* name;
};

/// The services whose replies are used for reflection attacks.
const std::vector<amplification_service>& amplification_services();

/// Upper bounds of the packet size classes (average bytes per packet of a flow).
constexpr std::array<uint32_t, 7> packet_size_bounds = {64, 128, 256, 512, 1024, 1500, UINT32_MAX};

/// Collects the signature of one attack from its flows.
class signature_collector {
public:
  /// Flows kept as the report's sample.
  static constexpr size_t sample_size = 10;

  void add(const flow_sample& s);

  /// Fills the signature fields of a report (rankings, sample, BPF, FlowSpec).
  void fill(attack_report& r) const;

  uint64_t packets() const { return packets_; }
  /// The most frequent UDP source port and its packets; {0, 0} without UDP.
  std::pair<uint16_t, uint64_t> top_udp_src_port() const;

private:
  uint64_t records_ = 0;
  uint64_t packets_ = 0;
  uint64_t bytes_ = 0;
  top_keys<uint16_t, 32> src_ports_;
  top_keys<uint16_t, 32> udp_src_ports_;
  top_keys<uint16_t, 32> dst_ports_;
  std::array<uint64_t, 256> protocols_{};
  top_keys<uint8_t, 16> tcp_flags_;
  std::array<uint64_t, packet_size_bounds.size()> sizes_{};
  top_keys<uint32_t, 32> asns_;
  top_keys<uint16_t, 32> countries_;
  top_keys<ip_address, 32> sources_;
  std::vector<flow_sample> sample_;
};

/// The type of an attack from the packets per kind (over the detection
/// window) and its signature: amplification when most packets are UDP from
/// one reflection service's port, otherwise the kind carrying most packets
/// (fragments, SYN, UDP, ICMP, other TCP) if it is at least half of all.
/// Sets type, service and share_permille.
void classify(const std::array<uint64_t, traffic_kinds>& packets,
              const signature_collector& signature, attack_report& r);

/// The name of an IP protocol for reports ("tcp", "udp", "icmp", or the number).
std::string protocol_name(uint8_t protocol);

/// TCP flags as text, e.g. "SYN", "SYN|ACK"; "none" for 0.
std::string tcp_flags_text(uint8_t flags);

} // namespace tidewatch
