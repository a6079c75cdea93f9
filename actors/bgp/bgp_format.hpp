#pragma once

#include <cstdint>
#include <string>

#include "messages/bgp.hpp"

namespace tidewatch {

// Text forms of path attributes, as nfacctd prints them in its JSON flow
// output (items joined by '_', communities sorted; checked against nfacctd
// 1.7.7 in test/integration/bgp_flow_enrichment_test.cpp), so that ingestion
// specs written for nfacctd read tidewatch's unchanged.

/// "65001_65002_{65003,65004}": sequence members joined by '_', AS_SET in
/// braces with commas, confederation sequences in parentheses, confederation
/// sets in brackets.
std::string format_as_path(const bgp_path_attributes& a);
/// "65000:1_65000:2", in numeric order; the well-known ones by name
/// (no-export, no-advertise, local-AS).
std::string format_communities(const bgp_path_attributes& a);
/// "RT:65000:100_SoO:192.0.2.1:7", in received order; unknown types as "0x"
/// and the 16 hex digits.
std::string format_extended_communities(const bgp_path_attributes& a);
/// "65000:1:2_4200000001:3:4", in numeric order.
std::string format_large_communities(const bgp_path_attributes& a);
/// The AS that originated the route: the last AS of the path (of a trailing
/// AS_SET, its first); 0 for an empty path (a route of the neighbor's own AS
/// when iBGP, which nfacctd also reports as 0).
uint32_t origin_as(const bgp_path_attributes& a);
/// The neighbor AS on the path: the first AS outside confederation segments; 0 for none.
uint32_t peer_as(const bgp_path_attributes& a);
/// "igp", "egp", "incomplete".
const char* origin_name(uint8_t origin);

} // namespace tidewatch
