#pragma once

// Internal to the decoder: the state kept per exporter+domain+protocol.

#include <deque>
#include <unordered_map>
#include <vector>

#include "actors/decoder/netflow_decoder.hpp"
#include "actors/decoder/template_plan.hpp"

namespace tidewatch {

namespace detail {
/// Sampler IDs remembered per exporter+domain; more are ignored.
inline constexpr size_t max_samplers = 256;
} // namespace detail

/// Header values of one v9/IPFIX datagram, kept with held data.
struct netflow_decoder::export_header {
  bool ipfix = false;
  uint32_t sys_uptime_ms = 0; ///< v9 only
  uint32_t export_secs = 0;
};

/// Data sets that arrived before their template, with what decoding them needs.
struct netflow_decoder::held_datagram {
  export_header header;
  datagram_info meta;
  std::vector<uint8_t> sets; ///< the waiting sets, each with its 4-byte set header
};

struct netflow_decoder::session {
  struct sampler {
    uint32_t id = 0;
    uint32_t rate = 0;
  };

  session_key key;
  std::unordered_map<uint16_t, detail::compiled_template> templates;
  uint16_t cached_id = 0;
  const detail::compiled_template* cached = nullptr;
  std::vector<sampler> samplers;
  int64_t system_init_ms = -1; ///< IPFIX IE 160 from options data; -1 when unknown
  std::deque<held_datagram> pending;

  bool has_sequence = false;       ///< a datagram has been seen
  bool expected_known = false;     ///< the previous datagram's unit count was known
  bool inclusive_sequence = false; ///< IPFIX exporter counts this message's records too
  uint32_t last_sequence = 0;
  uint32_t expected_sequence = 0; ///< last_sequence + the previous datagram's units

  uint64_t datagrams = 0;
  uint64_t records = 0;
  uint64_t lost = 0;
  uint64_t reordered = 0;
  uint64_t resets = 0;
  uint32_t last_sampling_rate = 0;
  int64_t last_datagram_us = 0;

  const detail::compiled_template* find(uint16_t id) {
    if (cached != nullptr && cached_id == id)
      return cached;
    auto it = templates.find(id);
    if (it == templates.end())
      return nullptr;
    cached_id = id;
    cached = &it->second;
    return cached;
  }

  void forget_cache() { cached = nullptr; }

  /// Rate for records without a sampler ID: the sampler-less (ID 0) value, or
  /// the only sampler announced.
  uint32_t default_rate() const {
    for (const auto& e : samplers)
      if (e.id == 0)
        return e.rate;
    return samplers.size() == 1 ? samplers.front().rate : 0;
  }

  uint32_t rate_for(uint32_t id, uint32_t fallback) const {
    for (const auto& e : samplers)
      if (e.id == id)
        return e.rate;
    return fallback;
  }

  /// Sets a sampler's rate; true when this changed anything.
  bool set_rate(uint32_t id, uint32_t rate) {
    for (auto& e : samplers)
      if (e.id == id) {
        if (e.rate == rate)
          return false;
        e.rate = rate;
        return true;
      }
    if (samplers.size() >= detail::max_samplers)
      return false;
    samplers.push_back({id, rate});
    return true;
  }

  detail::time_context times(const export_header& h) const {
    detail::time_context tc;
    tc.export_us = int64_t(h.export_secs) * 1'000'000;
    if (!h.ipfix) {
      tc.has_uptime = true;
      tc.uptime_ms = h.sys_uptime_ms;
      tc.uptime_abs_us = tc.export_us;
    } else if (system_init_ms >= 0) {
      int64_t export_ms = int64_t(h.export_secs) * 1000;
      tc.has_uptime = true;
      tc.uptime_ms = uint32_t(export_ms - system_init_ms);
      tc.uptime_abs_us = export_ms * 1000;
    }
    return tc;
  }
};

} // namespace tidewatch
