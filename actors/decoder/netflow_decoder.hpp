#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/decoder/template_plan.hpp"
#include "messages/address.hpp"
#include "messages/datagram.hpp"
#include "messages/flow.hpp"
#include "messages/inspector.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

/// Limits of the NetFlow/IPFIX decoder.
struct netflow_decoder_options {
  uint32_t pending_max_datagrams = 256; ///< per exporter+domain, data waiting for its template
  int64_t pending_max_age_us = 5'000'000;
  /// Exporter+domain+protocol sessions tracked at most; datagrams that would
  /// open one more are counted (reason "session_limit") and dropped, so that
  /// spoofed sources or random domain IDs cannot grow memory without bound.
  uint32_t max_sessions = 65'536;
};

/// Why a datagram or part of one was dropped. Names are the `reason` labels.
enum class netflow_error : uint8_t {
  truncated,          ///< shorter than its header or than the records it announces
  bad_version,        ///< version field is not 5, 9 or 10
  bad_message_length, ///< IPFIX message length field disagrees with the datagram
  bad_count,          ///< v5 record count of 0 or above 30
  bad_set_length,     ///< set/flowset length under 4 or beyond the datagram
  reserved_set_id,    ///< set ID in the reserved range, skipped by its length
  bad_template,       ///< template record truncated, with 0 fields, bad ID or scope count
  zero_length_field,  ///< template field of length 0
  record_too_long,    ///< template record longer than any datagram, or a
                      ///< variable-length field running past its set
  session_limit,      ///< max_sessions reached
};
inline constexpr size_t netflow_error_count = 10;

/// Name of an error reason as used in the `reason` label.
const char* to_string(netflow_error e);

/// What the decoder knows about one exporter+observation domain+protocol, for
/// the `exporters` view.
struct netflow_exporter_stats {
  ip_address exporter;
  uint32_t observation_domain = 0; ///< v9 source ID, IPFIX domain, v5 engine type<<8|engine ID
  export_protocol protocol = export_protocol::unknown;
  uint64_t datagrams = 0;
  uint64_t records = 0;
  uint64_t sequence_lost = 0; ///< v5/IPFIX: records, v9: export packets
  uint64_t sequence_reordered = 0;
  uint64_t sequence_resets = 0;
  size_t templates = 0;
  size_t pending = 0;              ///< datagrams held waiting for a template
  uint32_t last_sampling_rate = 0; ///< latest rate announced (v5 header or options data)
  int64_t last_datagram_us = 0;    ///< received_us of the latest datagram
};

/// Decodes NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011, RFC 5103 bidirectional
/// flows) datagrams into flow records. Pure logic: bytes in, records and
/// counters out, no I/O except the explicit state-file helpers.
///
/// Templates, sampling option values and sequence state are kept per
/// (exporter address, observation domain, protocol), never per UDP source port.
///
/// Sequence numbers: with `expected` the number following the previous
/// datagram (v5: + its flows, v9: + 1 packet, IPFIX: + its data records, options
/// records included) and d = (received - expected) as a signed 32-bit
/// difference (so wraparound is seamless): d == 0 is in order; 0 < d <= max gap
/// (65,536 packets for v9, 1,966,080 records for v5/IPFIX) counts d as lost;
/// -reorder window <= d < 0 (64 packets / 1,920 records) is a late datagram,
/// counted as reordered and leaving `expected` alone; anything else is an
/// exporter restart or a jump, counted as a reset and resynchronised without
/// counting loss. Some IPFIX exporters (softflowd) count the current message's
/// records too (received = previous + this message's records): when only that
/// reading makes a datagram in order, the session switches to it (and back the
/// same way). An IPFIX message with data held for a missing template has an
/// unknown record count, so the next datagram is checked only if the exporter
/// counts inclusively.
class netflow_decoder {
public:
  explicit netflow_decoder(netflow_decoder_options opts = {});
  ~netflow_decoder();
  netflow_decoder(netflow_decoder&&) noexcept;
  netflow_decoder& operator=(netflow_decoder&&) noexcept;

  /// Decodes one UDP payload (v5, v9 or IPFIX, by the version field), appending
  /// records to `out` (also records of held datagrams its templates release).
  /// Returns records appended. Malformed input is counted and dropped.
  size_t decode(const uint8_t* data, size_t length, const datagram_info& meta,
                std::vector<flow_record>& out);

  /// Drops held datagrams older than pending_max_age (counted); call on a timer.
  void expire(int64_t now_us);

  /// Appends all counters and gauges, Prometheus-style (see the .cpp for the list).
  void collect(std::vector<counter_value>& out) const;

  /// One entry per exporter+domain+protocol seen, for the `exporters` view.
  std::vector<netflow_exporter_stats> exporters() const;

  /// Every template held (data and options), sorted by exporter, domain,
  /// version and ID, for `tidewatch templates`.
  std::vector<template_info> templates() const;

  /// Templates (data and options) known for an exporter and domain, over v9 and IPFIX.
  size_t template_count(const ip_address& exporter, uint32_t observation_domain) const;

  /// All templates known, over all exporters.
  size_t template_count() const;

  /// Datagrams currently held for a missing template, over all exporters.
  size_t pending_count() const;

  /// Decode errors of one reason, over all exporters.
  uint64_t error_count(netflow_error reason) const;

  /// Decode errors of one reason for one exporter address.
  uint64_t error_count(const ip_address& exporter, netflow_error reason) const;

  /// Serializes every template, options template, sampling value and system
  /// init time, keyed by exporter address + domain + protocol, in a versioned
  /// checksummed binary format. Marks the state clean.
  std::vector<uint8_t> save_state() const;

  /// Replaces templates and sampling values with those of `save_state` output.
  /// A corrupt, truncated or foreign buffer returns false and leaves no
  /// templates; never throws.
  bool load_state(const uint8_t* data, size_t length);

  /// Writes save_state() to `path` atomically (temporary file, fsync, rename).
  bool save_state_file(const std::string& path, std::string* error = nullptr) const;

  /// Loads a file written by save_state_file; false (and no templates) when it
  /// is missing or corrupt.
  bool load_state_file(const std::string& path, std::string* error = nullptr);

  /// True when templates or option values changed since the last save, so the
  /// caller saves only then.
  bool state_dirty() const { return state_generation_ != saved_generation_; }

private:
  struct session;
  struct session_key {
    ip_address exporter;
    uint32_t domain = 0;
    uint8_t version = 0;
    friend bool operator==(const session_key&, const session_key&) = default;
  };
  struct session_key_hash {
    size_t operator()(const session_key& k) const noexcept;
  };
  struct held_datagram;
  struct export_header;

  session* find_session(const session_key& key, const ip_address& exporter);
  void count_error(const ip_address& exporter, netflow_error reason);
  size_t decode_v5(const uint8_t* p, size_t n, const datagram_info& meta,
                   std::vector<flow_record>& out);
  size_t decode_v9_ipfix(const uint8_t* p, size_t n, const datagram_info& meta, bool ipfix,
                         std::vector<flow_record>& out);
  bool parse_template_set(session& s, const uint8_t* p, size_t n, bool ipfix, bool options,
                          const ip_address& exporter);
  bool install_template(session& s, detail::template_definition def, const ip_address& exporter);
  void withdraw_templates(session& s, uint16_t id, bool options);
  size_t decode_data_set(session& s, const detail::compiled_template& t, const uint8_t* p, size_t n,
                         const export_header& h, const datagram_info& meta,
                         std::vector<flow_record>& out, size_t& data_records);
  void apply_options(session& s, const detail::compiled_template& t, const uint8_t* p, size_t n,
                     const ip_address& exporter, size_t& data_records);
  void hold(session& s, const export_header& h, const datagram_info& meta,
            std::vector<uint8_t>&& sets);
  size_t release(session& s, std::vector<flow_record>& out);
  void check_sequence(session& s, uint32_t sequence, uint32_t units, bool packets,
                      bool units_known);
  void mark_dirty() { ++state_generation_; }

  netflow_decoder_options opts_;
  std::unordered_map<session_key, std::unique_ptr<session>, session_key_hash> sessions_;
  session* last_session_ = nullptr;
  session_key last_key_;
  std::unordered_map<ip_address, std::array<uint64_t, netflow_error_count>, detail::ip_address_hash>
      exporter_errors_;

  // -- global counters --
  std::array<uint64_t, netflow_error_count> errors_{};
  uint64_t datagrams_ = 0;
  std::array<uint64_t, 3> datagrams_by_version_{}; ///< v5, v9, IPFIX
  uint64_t records_ = 0;
  uint64_t reverse_records_ = 0;
  uint64_t options_records_ = 0;
  uint64_t templates_received_ = 0;
  uint64_t template_withdrawals_ = 0;
  uint64_t lost_records_ = 0;
  uint64_t lost_packets_ = 0;
  uint64_t reordered_ = 0;
  uint64_t resets_ = 0;
  uint64_t pending_held_total_ = 0;
  uint64_t pending_released_ = 0;
  uint64_t pending_expired_ = 0;
  uint64_t pending_overflow_ = 0;
  size_t pending_now_ = 0;

  uint64_t state_generation_ = 0;
  mutable uint64_t saved_generation_ = 0;

  /// The values every record of the data set being decoded starts from. A
  /// member, not a local: the compiler splits a local into registers and
  /// reassembles it on the stack for every copy, which stalls store
  /// forwarding and cost more than decoding the fields.
  flow_record prototype_;
};

} // namespace tidewatch
