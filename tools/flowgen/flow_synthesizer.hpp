#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "messages/flow.hpp"

namespace tidewatch {

/// An address prefix such as 203.0.113.0/24 or 2001:db8::/48.
struct address_prefix {
  ip_address base; ///< host bits cleared
  uint8_t length = 0;
  bool ipv6 = false;

  /// Parses "ADDRESS/LENGTH"; false on malformed text or a length out of range.
  static bool parse(std::string_view text, address_prefix& out);

  /// log2 of the number of addresses in the prefix, at most 64.
  unsigned host_bits() const;

  /// The address `offset` places after the base (offset < 2^host_bits()).
  ip_address at(uint64_t offset) const;

  /// True when `a` lies inside the prefix.
  bool contains(const ip_address& a) const;
};

/// The kinds of denial-of-service traffic flowgen can mix into the normal flows.
enum class attack_type { syn, udp, icmp, frag, ntp_amp, dns_amp };

/// Parses syn|udp|icmp|frag|ntp-amp|dns-amp.
std::optional<attack_type> parse_attack_type(std::string_view text);

/// What traffic to synthesize.
struct traffic_profile {
  /// Where source hosts live; IPv6 hosts come from the IPv6 prefixes.
  std::vector<address_prefix> src_prefixes;
  /// Where destinations live, drawn uniformly per flow.
  std::vector<address_prefix> dst_prefixes;
  /// How many distinct source hosts the flows come from.
  uint32_t hosts = 1000;
  /// Share of the hosts (and so of the flows) that are IPv6, in [0, 1].
  double ipv6_share = 0;
  /// The attack victim and kind, when an attack is mixed in.
  std::optional<ip_address> attack_target;
  attack_type attack = attack_type::syn;
};

/// A small, fast PRNG (xoshiro256**, seeded through splitmix64) whose output
/// sequence is fixed by the seed on every platform, unlike std distributions.
class random_source {
public:
  explicit random_source(uint64_t seed);
  uint64_t next();
  /// Uniform in [0, bound) for bound > 0.
  uint64_t below(uint64_t bound) { return uint64_t((unsigned __int128)next() * bound >> 64); }
  /// Uniform in [lo, hi].
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  /// Uniform in [0, 1).
  double unit() { return double(next() >> 11) * 0x1.0p-53; }

private:
  uint64_t s_[4];
};

/// Deterministic source of plausible flow records: a fixed population of
/// distinct hosts talking TCP, UDP and ICMP to destinations in the destination
/// prefixes with heavy-tailed packet and byte counts, plus optional attack flows
/// towards one victim. The same profile and seed give the same records for the
/// same timestamps. Producing a record allocates nothing.
class flow_synthesizer {
public:
  /// Throws std::invalid_argument when the profile cannot be satisfied (no
  /// prefix of a needed family, more hosts than the prefixes hold, ...).
  flow_synthesizer(const traffic_profile& profile, uint64_t seed);

  /// Fills `r` with the next normal flow, ending shortly before `now_us`.
  void next_flow(flow_record& r, int64_t now_us);

  /// Fills `r` with the next attack flow towards the profile's attack target.
  /// Requires `profile.attack_target`.
  void next_attack(flow_record& r, int64_t now_us);

  /// The address of source host `index` (< profile.hosts).
  ip_address host_address(uint32_t index) const;

private:
  void fill_common(flow_record& r, bool ipv6, int64_t now_us, random_source& rng);

  traffic_profile profile_;
  std::vector<address_prefix> src_v4_, src_v6_, dst_v4_, dst_v6_;
  uint32_t v6_hosts_ = 0;
  random_source normal_rng_;
  random_source attack_rng_;
};

} // namespace tidewatch
