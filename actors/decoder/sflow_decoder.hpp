#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "messages/address.hpp"
#include "messages/counters.hpp"
#include "messages/datagram.hpp"
#include "messages/flow.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

/// Limits of the sFlow decoder: every table it keeps is bounded.
struct sflow_decoder_options {
  /// Agent + sub-agent pairs tracked for datagram sequence numbers; datagrams
  /// of one more are decoded but counted (reason "agent_limit") and untracked.
  uint32_t max_agents = 65'536;
  /// Data sources tracked for sample sequence numbers ("source_limit").
  uint32_t max_sources = 1u << 20;
  /// Interfaces whose latest counters are kept ("interface_limit").
  uint32_t max_interfaces = 1u << 20;
};

/// Why a datagram or part of one was dropped or left untracked. Names are the
/// `reason` labels.
enum class sflow_error : uint8_t {
  truncated,         ///< shorter than the datagram header
  bad_version,       ///< version field is not 5
  bad_agent_address, ///< agent address type neither 1 (IPv4) nor 2 (IPv6)
  bad_sample_count,  ///< more samples announced than could fit in what is left
  bad_sample_length, ///< sample length beyond the datagram or under its fixed header
  bad_record_count,  ///< more records announced than could fit in the sample
  bad_record_length, ///< record length beyond its sample
  bad_record,        ///< known record type shorter than its fields or with inner lengths past it
  agent_limit,       ///< max_agents reached
  source_limit,      ///< max_sources reached
  interface_limit,   ///< max_interfaces reached
};
inline constexpr size_t sflow_error_count = 11;

/// Name of an error reason as used in the `reason` label.
const char* to_string(sflow_error e);

/// What the decoder knows about one agent + sub-agent.
struct sflow_agent_stats {
  ip_address agent;
  uint32_t sub_agent = 0;
  uint64_t datagrams = 0;
  uint64_t flow_samples = 0;
  uint64_t counter_samples = 0;
  uint64_t datagrams_lost = 0;  ///< datagram sequence gaps
  uint64_t samples_lost = 0;    ///< sample sequence gaps over its data sources
  uint64_t sequence_resets = 0; ///< datagram sequence jumps and restarts
  uint32_t last_sampling_rate = 0;
  int64_t last_datagram_us = 0;
};

namespace detail {

/// Fills the layer 2 to 4 fields of `r` from a sampled packet header:
/// header_protocol 1 (Ethernet, through 802.1Q/802.1ad/QinQ tags and MPLS label
/// stacks), 11 (IPv4) or 12 (IPv6). IPv4 fragments set is_fragment and, past the
/// first, carry no ports; IPv6 extension headers are walked (hop-by-hop,
/// routing, fragment, destination options, AH). A header cut short keeps what
/// was read. Returns true when an IP header was found.
bool parse_sampled_header(const uint8_t* p, size_t n, uint32_t header_protocol, flow_record& r);

} // namespace detail

/// Decodes sFlow version 5 datagrams (sflow.org sFlow Version 5, July 2004)
/// into flow records, one per flow sample: the frame length as bytes, 1 as
/// packets, the sample's sampling rate and sample pool. Counter samples update
/// the latest counters of their interface. Pure logic: bytes in, records and
/// counters out.
///
/// The record's exporter is the agent address the datagram names, its
/// observation domain the sub-agent ID. Flow samples may be compact (format 1,
/// source ID type in the top 8 bits, index in the low 24; interfaces with
/// their format in the top 2 bits) or expanded (format 3, separate words).
/// Flow records understood: raw packet header (1), Ethernet frame (2), IPv4
/// (3), IPv6 (4), extended switch (1001), router (1002) and gateway (1003).
/// Counter records: generic interface (1) and Ethernet (2). Other sample and
/// record types, and other enterprises, are skipped by their length and counted.
///
/// Sequence numbers: datagrams per agent + sub-agent and samples per data
/// source (agent, sub-agent, flow or counter, source type and index). With
/// d = received - (previous + 1) as a signed 32-bit difference: d == 0 is in
/// order, 0 < d <= 65,536 counts d as lost, -64 <= d < 0 is a late
/// datagram (reordered, expected unchanged), anything else a reset.
class sflow_decoder {
public:
  explicit sflow_decoder(sflow_decoder_options opts = {});

  /// Decodes one UDP payload, appending one record per flow sample to `out`
  /// and, when `counters_out` is given, each well-formed counter sample with
  /// a generic or Ethernet record: the interface's counters after it, with
  /// `has_generic`/`has_ethernet` saying which records this sample carried.
  /// Returns records appended. Malformed
  /// input is counted and dropped: what was decoded before the fault is kept.
  size_t decode(const uint8_t* data, size_t length, const datagram_info& meta,
                std::vector<flow_record>& out,
                std::vector<sflow_interface_counters>* counters_out = nullptr);

  /// Appends all counters and gauges, Prometheus-style (see the .cpp for the list).
  void collect(std::vector<counter_value>& out) const;

  /// One entry per agent + sub-agent seen, sorted.
  std::vector<sflow_agent_stats> agents() const;

  /// The latest counters of every interface seen, sorted by agent, sub-agent, source.
  std::vector<sflow_interface_counters> interfaces() const;

  /// Latest counters of one interface (data source type 0), or nullptr.
  const sflow_interface_counters* interface_counters(const ip_address& agent, uint32_t sub_agent,
                                                     uint32_t if_index) const;

  /// Decode errors of one reason.
  uint64_t error_count(sflow_error reason) const { return errors_[size_t(reason)]; }

  uint64_t datagrams() const { return datagrams_; }
  uint64_t flow_samples() const { return flow_samples_; }
  uint64_t counter_samples() const { return counter_samples_; }
  uint64_t unknown_samples() const { return unknown_samples_; }
  uint64_t unknown_records() const { return unknown_records_; }
  uint64_t trailing_bytes() const { return trailing_bytes_; }
  uint64_t datagrams_with_trailing_bytes() const { return datagrams_with_trailing_; }
  uint64_t datagrams_lost() const { return datagrams_lost_; }
  uint64_t samples_lost() const { return samples_lost_; }
  uint64_t sequence_resets() const { return resets_; }
  uint64_t sequence_reordered() const { return reordered_; }

private:
  struct agent_key {
    ip_address agent;
    uint32_t sub_agent = 0;
    friend bool operator==(const agent_key&, const agent_key&) = default;
  };
  struct agent_key_hash {
    size_t operator()(const agent_key& k) const noexcept;
  };
  /// A data source within an agent: kind 0 flow samples, 1 counter samples.
  struct source_key {
    ip_address agent;
    uint32_t sub_agent = 0;
    uint32_t kind = 0;
    uint32_t type = 0;
    uint32_t index = 0;
    friend bool operator==(const source_key&, const source_key&) = default;
  };
  struct source_key_hash {
    size_t operator()(const source_key& k) const noexcept;
  };
  struct sequence_state {
    uint32_t expected = 0;
    bool started = false;
  };
  struct agent_state {
    sflow_agent_stats stats;
    sequence_state sequence;
  };
  struct sample_context;

  void count_error(sflow_error reason) { ++errors_[size_t(reason)]; }
  /// Applies the sequence rule; returns the units lost (0 unless a gap).
  uint32_t check_sequence(sequence_state& s, uint32_t received);
  void decode_flow_sample(const uint8_t* p, size_t n, bool expanded, sample_context& ctx,
                          std::vector<flow_record>& out);
  void decode_counter_sample(const uint8_t* p, size_t n, bool expanded, sample_context& ctx,
                             std::vector<sflow_interface_counters>* counters_out);
  bool apply_flow_record(uint32_t format, const uint8_t* p, size_t n, flow_record& r,
                         bool& have_header);
  void track_source(sample_context& ctx, uint32_t kind, uint32_t type, uint32_t index,
                    uint32_t sequence);

  sflow_decoder_options opts_;
  std::unordered_map<agent_key, agent_state, agent_key_hash> agents_;
  std::unordered_map<source_key, sequence_state, source_key_hash> sources_;
  std::unordered_map<source_key, sflow_interface_counters, source_key_hash> interfaces_;

  // -- global counters --
  std::array<uint64_t, sflow_error_count> errors_{};
  uint64_t datagrams_ = 0;
  uint64_t flow_samples_ = 0;
  uint64_t counter_samples_ = 0;
  uint64_t unknown_samples_ = 0;
  uint64_t unknown_records_ = 0;
  uint64_t unparsed_headers_ = 0; ///< raw headers in which no IP header was found
  uint64_t fragments_ = 0;
  uint64_t trailing_bytes_ = 0;
  uint64_t datagrams_with_trailing_ = 0;
  uint64_t datagrams_lost_ = 0;
  uint64_t samples_lost_ = 0;
  uint64_t reordered_ = 0;
  uint64_t resets_ = 0;
};

} // namespace tidewatch
