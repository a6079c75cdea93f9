#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/address.hpp"

namespace tidewatch {

/// One line of a ranking in an attack signature: a key as text (a port, a
/// protocol, an address, an AS number, a country, a size class) and the
/// packets that carried it.
struct ranked_item {
  std::string key;
  uint64_t packets = 0;

  friend bool operator==(const ranked_item&, const ranked_item&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, ranked_item& x) {
  return f(caf::meta::type_name("tidewatch::ranked_item"), x.key, x.packets);
}

/// What the detector knows about one attack, active or over: its target, its
/// type, its rates and the traffic signature drawn from the attack's flows.
/// Rates are per second (bits for bps), after sampling extrapolation.
struct attack_report {
  uint64_t id = 0;
  ip_address address;        ///< the attacked host; for a hostgroup attack the group's first prefix
  std::string target;        ///< the attacked host or prefix as text: 192.0.2.1/32, 198.51.100.0/24
  std::string hostgroup;     ///< the host's group, or the attacked group
  bool group_attack = false; ///< the group's totals crossed its thresholds (carpet bombing)
  bool incoming = true;      ///< traffic to the host (false: from it)
  std::string type;          ///< syn_flood, udp_flood, icmp_flood, fragment_flood, tcp_flood,
                             ///< amplification, unclassified
  std::string service;       ///< amplification: the reflected service (ntp, dns, ...)
  uint32_t share_permille = 0; ///< share of the packets that matched the type
  std::string threshold;       ///< the first threshold crossed, e.g. "syn_pps 50000"
  int64_t start_us = 0;
  int64_t last_over_us = 0; ///< the last time a threshold was crossed
  int64_t end_us = 0;       ///< 0 while active
  uint64_t peak_pps = 0;
  uint64_t peak_bps = 0;
  uint64_t peak_flows = 0;
  uint64_t current_pps = 0;
  uint64_t current_bps = 0;
  uint64_t current_flows = 0;
  // -- signature --
  uint64_t records = 0; ///< flow records the signature was drawn from
  uint64_t packets = 0;
  uint64_t bytes = 0;
  std::vector<ranked_item> src_ports;
  std::vector<ranked_item> dst_ports;
  std::vector<ranked_item> protocols;
  std::vector<ranked_item> tcp_flags;
  std::vector<ranked_item> packet_sizes;
  std::vector<ranked_item> src_asns;
  std::vector<ranked_item> src_countries;
  std::vector<ranked_item> src_addresses;
  std::vector<std::string> flow_sample; ///< a few flows, one line each
  std::string bpf;                      ///< suggested filter (tcpdump syntax)
  std::string flowspec;                 ///< suggested FlowSpec-style match

  friend bool operator==(const attack_report&, const attack_report&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, attack_report& x) {
  return f(caf::meta::type_name("tidewatch::attack_report"), x.id, x.address, x.target, x.hostgroup,
           x.group_attack, x.incoming, x.type, x.service, x.share_permille, x.threshold, x.start_us,
           x.last_over_us, x.end_us, x.peak_pps, x.peak_bps, x.peak_flows, x.current_pps,
           x.current_bps, x.current_flows, x.records, x.packets, x.bytes, x.src_ports, x.dst_ports,
           x.protocols, x.tcp_flags, x.packet_sizes, x.src_asns, x.src_countries, x.src_addresses,
           x.flow_sample, x.bpf, x.flowspec);
}

/// The answer to `attacks`: active attacks first, then recent ones, newest first.
struct attack_list {
  std::vector<attack_report> attacks;

  friend bool operator==(const attack_list&, const attack_list&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, attack_list& x) {
  return f(caf::meta::type_name("tidewatch::attack_list"), x.attacks);
}

/// One tracked host's current rates (per second, over the last bucket length).
struct host_rates {
  ip_address address;
  std::string hostgroup;
  uint64_t pps_in = 0;
  uint64_t pps_out = 0;
  uint64_t bps_in = 0;
  uint64_t bps_out = 0;
  uint64_t flows_in = 0;
  uint64_t flows_out = 0;

  friend bool operator==(const host_rates&, const host_rates&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, host_rates& x) {
  return f(caf::meta::type_name("tidewatch::host_rates"), x.address, x.hostgroup, x.pps_in,
           x.pps_out, x.bps_in, x.bps_out, x.flows_in, x.flows_out);
}

/// The answer to `(top, metric, direction, count)`: the hosts with the
/// highest rate of `metric` (pps, bps, flows) in `direction` (in, out).
struct top_hosts {
  std::string metric;
  std::string direction;
  int64_t taken_us = 0;
  uint64_t hosts_tracked = 0;
  std::vector<host_rates> hosts;

  friend bool operator==(const top_hosts&, const top_hosts&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, top_hosts& x) {
  return f(caf::meta::type_name("tidewatch::top_hosts"), x.metric, x.direction, x.taken_us,
           x.hosts_tracked, x.hosts);
}

} // namespace tidewatch
