#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/bgp.hpp"

namespace tidewatch {

// Text for `tidewatch bgp neighbors` and `tidewatch bgp lookup`: the CLI asks
// the speaker (neighbors_atom, lookup_atom) and prints one of these.

/// A table, one neighbor per line: address, AS, state, uptime, prefixes,
/// updates and withdrawals received. `now_us`: the wall clock, for uptimes.
std::string render_neighbors_table(const std::vector<bgp_neighbor_status>& neighbors,
                                   int64_t now_us);
/// The same as a JSON array of objects (uptime in seconds, 0 when down).
std::string render_neighbors_json(const std::vector<bgp_neighbor_status>& neighbors,
                                  int64_t now_us);
/// The matched route with all its attributes, one "key: value" per line;
/// "no route" when none matched.
std::string render_route_report(const bgp_route_report& report);
/// The same as one JSON object (`found` false and nothing else when none matched).
std::string render_route_report_json(const bgp_route_report& report);
/// "3d04h05m06s", "4m05s", "0s".
std::string format_uptime(int64_t seconds);

} // namespace tidewatch
