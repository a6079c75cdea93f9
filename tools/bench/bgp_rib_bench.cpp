// Benchmark of the BGP RIB alone: a synthetic full table (1 M IPv4 + 200 k
// IPv6 routes by default) from one neighbor, then the same paths from a
// second neighbor; prints time to apply, bytes per route (counted by the RIB
// and as process RSS) and longest-prefix lookups per second on one core.
//
// Usage: bgp_rib_bench [ipv4_routes] [ipv6_routes] [distinct_paths]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "actors/bgp/bgp_rib.hpp"

using namespace tidewatch;

namespace {

/// Resident set size of this process in bytes.
size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// Routes as a BGP session would hand them over: batches of up to 4096
/// prefixes, each UPDATE's attribute set once per batch.
std::vector<bgp_route_batch> make_table(const ip_address& neighbor, size_t v4, size_t v6,
                                        size_t paths, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<bgp_path_attributes> attributes(paths);
  for (size_t i = 0; i < paths; ++i) {
    auto& a = attributes[i];
    a.origin = 0;
    size_t length = 2 + rng() % 5;
    a.segments = {uint16_t(2 << 8 | length)};
    a.as_path.push_back(64500);
    for (size_t j = 1; j < length; ++j)
      a.as_path.push_back(1 + rng() % 400'000);
    a.next_hop = ip_address::from_v4(0xc0000201);
    if (i % 3 == 0)
      a.communities = {0xfde90064, uint32_t(0xfde90000 | (i % 50))};
    if (i % 7 == 0)
      a.large_communities = {{4200000001, 1, uint32_t(i % 11)}};
  }
  std::vector<bgp_route_batch> batches;
  auto add = [&](const ip_address& network, uint8_t length) {
    if (batches.empty() || batches.back().announced.size() == 4096) {
      batches.emplace_back();
      batches.back().neighbor = neighbor;
    }
    auto& b = batches.back();
    // Neighbouring prefixes often share a path, as in real tables.
    uint32_t path = uint32_t(rng() % paths);
    b.attributes.push_back(attributes[path]);
    b.announced.push_back({network, length, 0, uint32_t(b.attributes.size() - 1)});
  };
  // IPv4: 60 % /24, the rest /16 to /23, spread over 1.0.0.0-223.255.255.255.
  std::mt19937 prefix_rng(42);
  for (size_t i = 0; i < v4; ++i) {
    uint8_t length = prefix_rng() % 10 < 6 ? 24 : uint8_t(16 + prefix_rng() % 8);
    uint32_t a = (0x01000000 + prefix_rng() % 0xdf000000) & (~0u << (32 - length));
    add(ip_address::from_v4(a), length);
  }
  for (size_t i = 0; i < v6; ++i) {
    uint8_t bytes[16] = {0x20, 0x01};
    uint32_t r = prefix_rng();
    bytes[2] = uint8_t(r >> 24);
    bytes[3] = uint8_t(r >> 16);
    bytes[4] = uint8_t(r >> 8);
    uint8_t length = prefix_rng() % 10 < 7 ? 48 : 32;
    if (length == 48)
      bytes[5] = uint8_t(r);
    else
      bytes[4] = 0;
    add(ip_address::from_v6_bytes(bytes), length);
  }
  return batches;
}

} // namespace

int main(int argc, char** argv) {
  size_t v4 = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  size_t v6 = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000;
  size_t paths = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100'000;
  auto n1 = ip_address::from_v4(0x7f000002);
  auto n2 = ip_address::from_v4(0x7f000003);
  auto table1 = make_table(n1, v4, v6, paths, 1);
  auto table2 = make_table(n2, v4, v6, paths, 1);
  bgp_rib rib;
  size_t rss0 = rss_bytes();
  auto t = std::chrono::steady_clock::now();
  for (auto& b : table1)
    rib.apply(b);
  double apply1 = seconds_since(t);
  size_t routes1 = rib.size();
  size_t mem1 = rib.memory_bytes();
  size_t rss1 = rss_bytes();
  table1.clear();
  table1.shrink_to_fit();
  t = std::chrono::steady_clock::now();
  for (auto& b : table2)
    rib.apply(b);
  double apply2 = seconds_since(t);
  size_t mem2 = rib.memory_bytes();
  size_t rss2 = rss_bytes();
  // Lookups: random IPv4 addresses and IPv6 ones inside 2001::/16.
  std::mt19937 rng(9);
  std::vector<ip_address> probes(1 << 20);
  for (size_t i = 0; i < probes.size(); ++i) {
    if (i % 5 == 4) {
      uint8_t bytes[16] = {0x20,
                           0x01,
                           uint8_t(rng()),
                           uint8_t(rng()),
                           uint8_t(rng()),
                           uint8_t(rng()),
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           0,
                           1};
      probes[i] = ip_address::from_v6_bytes(bytes);
    } else {
      probes[i] = ip_address::from_v4(0x01000000 + rng() % 0xdf000000);
    }
  }
  const adj_rib_in* one = rib.neighbor(n1);
  size_t found = 0;
  size_t lookups = 0;
  t = std::chrono::steady_clock::now();
  for (int round = 0; round < 20; ++round)
    for (auto& p : probes) {
      found += rib.lookup(one, p).attributes != nullptr;
      ++lookups;
    }
  double lookup_s = seconds_since(t);
  std::printf("| metric | value |\n|---|---|\n");
  std::printf("| routes, neighbor 1 (IPv4 + IPv6) | %zu (%zu + %zu) |\n", routes1, v4, v6);
  std::printf("| distinct attribute sets | %zu |\n", rib.attributes().size());
  std::printf("| apply neighbor 1 | %.2f s (%.2f M routes/s) |\n", apply1, routes1 / apply1 / 1e6);
  std::printf("| RIB bytes/route, neighbor 1 (counted) | %.1f |\n", double(mem1) / routes1);
  std::printf("| RSS bytes/route, neighbor 1 | %.1f |\n", double(rss1 - rss0) / routes1);
  std::printf("| apply neighbor 2 (same paths) | %.2f s |\n", apply2);
  std::printf("| added bytes/route, neighbor 2 (counted) | %.1f |\n",
              double(mem2 - mem1) / (rib.size() - routes1));
  std::printf("| added RSS bytes/route, neighbor 2 | %.1f |\n",
              (double(rss2) - double(rss1)) / double(rib.size() - routes1));
  std::printf("| LPM lookups/s, one core | %.1f M (%.0f%% matched) |\n", lookups / lookup_s / 1e6,
              100.0 * found / lookups);
  return 0;
}
