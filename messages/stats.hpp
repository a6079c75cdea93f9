#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace tidewatch {

/// One named counter or gauge. Labels are folded into the name in Prometheus
/// style (`decoder_errors{reason="truncated"}`) so a snapshot stays flat.
struct counter_value {
  std::string name;
  uint64_t value = 0;

  friend bool operator==(const counter_value&, const counter_value&) = default;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, counter_value& x) {
  return f(caf::meta::type_name("tidewatch::counter_value"), x.name, x.value);
}

/// What one actor reports about itself on request or on its tick.
struct stats_snapshot {
  std::string node;
  std::string pipeline;
  std::string stage; ///< listener, decoder, sink:file, ...
  int64_t taken_us = 0;
  std::vector<counter_value> counters;

  uint64_t get(const std::string& name) const {
    for (auto& c : counters)
      if (c.name == name)
        return c.value;
    return 0;
  }

  friend bool operator==(const stats_snapshot&, const stats_snapshot&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stats_snapshot& x) {
  return f(caf::meta::type_name("tidewatch::stats_snapshot"), x.node, x.pipeline, x.stage,
           x.taken_us, x.counters);
}

} // namespace tidewatch
