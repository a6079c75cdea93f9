#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "messages/flow.hpp"

namespace tidewatch {

/// Largest export datagram (UDP payload) the encoder builds unless told
/// otherwise: fits a 1500-byte MTU with room for tunnel headers.
inline constexpr size_t default_max_datagram_size = 1400;

/// Template IDs the encoder announces for NetFlow v9 and IPFIX.
inline constexpr uint16_t ipv4_template_id = 256;
inline constexpr uint16_t ipv6_template_id = 257;
inline constexpr uint16_t sampling_options_template_id = 258;

/// Turns flow records into export datagrams of one protocol (NetFlow v5, NetFlow v9,
/// IPFIX or sFlow v5) for one exporter, keeping that exporter's sequence numbers the
/// way the protocol defines them:
/// - v5: flow_sequence counts the flows exported before the datagram;
/// - v9: the package sequence counts every export packet, templates included;
/// - IPFIX: the sequence counts the data records (options data included) exported
///   before the message; template records do not count;
/// - sFlow: the datagram sequence counts datagrams, each data source's sample
///   sequence its samples. Each record becomes one flow sample (the agent
///   sampled one packet of the flow) holding a raw Ethernet header built from
///   the record, with frame length bytes / packets.
/// Times in datagrams come from the `now_us` the caller passes (µs since the Unix
/// epoch), so a caller that feeds a virtual clock gets byte-reproducible output.
/// Encoding appends into a caller-owned buffer and allocates nothing per record.
class flow_encoder {
public:
  /// `domain_id` is the v9 source ID, the IPFIX observation domain or the sFlow
  /// sub-agent ID; v5 ignores it.
  /// `max_datagram_size` bounds every datagram the encoder builds (at least 256).
  flow_encoder(export_protocol protocol, uint32_t domain_id,
               size_t max_datagram_size = default_max_datagram_size);

  /// Announces packet sampling of 1 in `rate` (0 = none): the v5 header's sampling
  /// field, and v9/IPFIX options data sent with the templates.
  void set_sampling_rate(uint32_t rate) { sampling_rate_ = rate; }

  /// The v5 header's engine type and engine ID.
  void set_engine(uint8_t type, uint8_t id) {
    engine_type_ = type;
    engine_id_ = id;
  }

  /// When the exporting device booted, µs since the Unix epoch: the origin of
  /// sysUptime and of v5/v9 flow times. Defaults to one hour before the first
  /// datagram, so flows that started in the hour before it are representable.
  void set_boot_time(int64_t boot_us) {
    boot_us_ = boot_us;
    boot_pinned_ = true;
  }

  /// The sFlow agent address (IPv4); 127.0.0.1 unless set.
  void set_agent(const ip_address& agent) { agent_ = agent; }

  /// How many records of one address family fit in one data datagram.
  /// NetFlow v5 carries at most 30 and no IPv6 records (0 for `ipv6`).
  size_t max_records_per_datagram(bool ipv6) const;

  /// The v9/IPFIX template datagram: the IPv4 and IPv6 data templates and, when a
  /// sampling rate is set, the sampling options template and its data record.
  /// NetFlow v5 has no templates: returns an empty vector. sFlow: a datagram
  /// with one counter sample (generic interface and Ethernet counters of the
  /// agent's interface 1, counting what was encoded so far), sent on the same
  /// schedule as templates.
  std::vector<uint8_t> template_datagram(int64_t now_us);

  /// Encodes one data datagram from the front of `records` and appends it to `out`;
  /// returns how many records it consumed (0 only when `records` is empty). IPv4 and
  /// IPv6 records may be mixed; each run of one family becomes its own set. NetFlow
  /// v5 consumes IPv6 records without encoding them (see `unencodable_records`) and
  /// appends nothing when every consumed record was IPv6.
  size_t data_datagram(std::span<const flow_record> records, int64_t now_us,
                       std::vector<uint8_t>& out);

  export_protocol protocol() const { return protocol_; }
  size_t max_datagram_size() const { return max_datagram_size_; }

  /// The sequence number the next datagram will carry.
  uint32_t next_sequence() const { return sequence_; }

  /// Records consumed but not encoded because the protocol cannot carry them.
  uint64_t unencodable_records() const { return unencodable_; }

private:
  size_t encode_v5(std::span<const flow_record> records, int64_t now_us, std::vector<uint8_t>& out);
  size_t encode_sets(std::span<const flow_record> records, int64_t now_us,
                     std::vector<uint8_t>& out);
  size_t encode_sflow(std::span<const flow_record> records, int64_t now_us,
                      std::vector<uint8_t>& out);
  uint8_t* write_sflow_header(uint8_t* p, uint32_t sample_count, int64_t now_us);
  uint8_t* write_flow_sample(uint8_t* p, const flow_record& r);
  size_t header_size() const;
  void write_header(uint8_t* p, size_t length, uint16_t record_count, int64_t now_us) const;
  uint32_t uptime_ms(int64_t t_us) const;
  uint8_t* write_record(uint8_t* p, const flow_record& r, bool ipv6) const;
  size_t record_size(bool ipv6) const;
  void pin_boot_time(int64_t now_us);

  export_protocol protocol_;
  uint32_t domain_id_;
  size_t max_datagram_size_;
  uint32_t sampling_rate_ = 0;
  uint8_t engine_type_ = 0;
  uint8_t engine_id_ = 0;
  int64_t boot_us_ = 0;
  bool boot_pinned_ = false;
  uint32_t sequence_ = 0;
  uint64_t unencodable_ = 0;
  // -- sFlow --
  ip_address agent_ = ip_address::from_v4(0x7f000001);
  uint32_t flow_sample_sequence_ = 0;
  uint32_t counter_sample_sequence_ = 0;
  uint32_t sample_pool_ = 0;
  uint64_t sflow_octets_ = 0;
  uint32_t sflow_samples_ = 0;
};

} // namespace tidewatch
