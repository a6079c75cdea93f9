#pragma once

#include <string>

#include "messages/detector.hpp"

namespace tidewatch {

// Text renderings of the detector's answers, shared by the detector's
// actions (details file, script stdin, mail) and the CLI (`tidewatch
// attacks`, `tidewatch top`), so that every place shows the same words.

/// µs since the epoch as ISO 8601 UTC with milliseconds; "-" for 0.
std::string format_time_us(int64_t us);

/// One attack in full: target, type, rates, thresholds, signature, sample
/// flows and suggested filters, one fact per line.
std::string render_attack_details(const attack_report& a);

/// Attacks as a table, one line each, with a header line.
std::string render_attacks_table(const attack_list& list);

/// Attacks as one JSON document: {"attacks":[{...}, ...]}.
std::string render_attacks_json(const attack_list& list);

/// Top hosts as a table in the style of fastnetmon_client.
std::string render_top_table(const top_hosts& top);

/// Top hosts as one JSON document.
std::string render_top_json(const top_hosts& top);

} // namespace tidewatch
