// Benchmark of the BGP RIB alone, before (256-slot stride-8 trie) and after
// (compressed trie) in one run: a synthetic full IPv4 table from one
// neighbor, then the same paths from a second neighbor, and an IPv6 table;
// prints CPU time to apply, bytes per route (counted by the RIB and as process
// RSS) and longest-prefix lookups per second on one core, single and
// batched. Each measurement runs in its own forked process so that RSS
// figures do not see each other's freed memory.
//
// Usage: bgp_rib_bench [ipv4_routes] [ipv6_routes] [distinct_paths]

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/bgp/adj_rib_in.hpp"
#include "actors/bgp/attribute_store.hpp"
#include "stride8_rib.hpp"

using namespace tidewatch;

namespace {

/// Resident set size of this process in bytes.
size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

/// CPU time of this thread: the machine may be shared, and the figures are per core.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

/// Routes as a BGP session would hand them over: batches of up to 4096
/// prefixes, each UPDATE's attribute set once per batch.
std::vector<bgp_route_batch> make_table(size_t v4, size_t v6, size_t paths) {
  std::mt19937 rng(1);
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
    if (batches.empty() || batches.back().announced.size() == 4096)
      batches.emplace_back();
    auto& b = batches.back();
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
  // IPv6: 70 % /48, the rest /32, in 2001::/16.
  for (size_t i = 0; i < v6; ++i) {
    uint8_t bytes[16] = {0x20, 0x01};
    uint32_t r = prefix_rng();
    bytes[2] = uint8_t(r >> 24);
    bytes[3] = uint8_t(r >> 16);
    uint8_t length = prefix_rng() % 10 < 7 ? 48 : 32;
    if (length == 48) {
      bytes[4] = uint8_t(r >> 8);
      bytes[5] = uint8_t(r);
    }
    add(ip_address::from_v6_bytes(bytes), length);
  }
  return batches;
}

/// What bgp_rib::apply does with announcements: one interned id per
/// distinct attribute set of a batch, one reference per route.
template <class Rib>
void apply(attribute_store& store, Rib& rib, const std::vector<bgp_route_batch>& table) {
  std::vector<uint32_t> ids;
  for (auto& batch : table) {
    ids.assign(batch.attributes.size(), 0);
    for (auto& r : batch.announced) {
      uint32_t& id = ids[r.attributes];
      if (id == 0)
        id = store.intern(batch.attributes[r.attributes]);
      else
        store.retain(id);
      if (uint32_t old = rib.insert(r.network, r.length, r.path_id, id))
        store.release(old);
    }
  }
}

using results = std::map<std::string, std::string>;

std::string format(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

/// Runs f in a forked process; returns the lines "key\tvalue" it wrote.
results in_child(const std::function<void(results&)>& f) {
  int fds[2];
  if (::pipe(fds) != 0)
    std::exit(1);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    results out;
    f(out);
    std::string text;
    for (auto& [k, v] : out)
      text += k + "\t" + v + "\n";
    auto written = ::write(fds[1], text.data(), text.size());
    std::_Exit(written == ssize_t(text.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    text.append(buf, size_t(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  results out;
  for (size_t at = 0; at < text.size();) {
    size_t tab = text.find('\t', at);
    size_t end = text.find('\n', tab);
    out[text.substr(at, tab - at)] = text.substr(tab + 1, end - tab - 1);
    at = end + 1;
  }
  return out;
}

/// The IPv4 full table from one neighbor, then a second one, then lookups.
template <class Rib> void ipv4_table(const std::vector<bgp_route_batch>& table, results& out) {
  attribute_store store;
  Rib first;
  Rib second;
  size_t rss0 = rss_bytes();
  double t = cpu_seconds();
  apply(store, first, table);
  double seconds = (cpu_seconds() - t);
  size_t rss1 = rss_bytes();
  auto routes = double(first.size());
  size_t counted1 = first.memory_bytes() + store.memory_bytes();
  apply(store, second, table);
  size_t rss2 = rss_bytes();
  out["1 apply"] = format("%.2f s", seconds) + format(" (%.2f M routes/s)", routes / seconds / 1e6);
  out["2 bytes/route"] = format("%.1f", double(counted1) / routes);
  out["3 rss/route"] = format("%.1f", double(rss1 - rss0) / routes);
  out["4 second bytes/route"] = format("%.1f", double(second.memory_bytes()) / routes);
  out["5 second rss/route"] = format("%.1f", double(rss2 - rss1) / routes);
  std::mt19937 rng(9);
  std::vector<ip_address> probes(1 << 20);
  for (auto& p : probes)
    p = ip_address::from_v4(0x01000000 + rng() % 0xdf000000);
  constexpr int rounds = 10;
  size_t found = 0;
  t = cpu_seconds();
  for (int round = 0; round < rounds; ++round)
    for (auto& p : probes)
      found += first.lookup(p).attributes != 0;
  double lookups = double(probes.size()) * rounds;
  out["6 lookups"] = format("%.1f M/s", lookups / (cpu_seconds() - t) / 1e6) +
                     format(" (%.0f %% matched)", 100.0 * double(found) / lookups);
  if constexpr (requires { first.lookup(probes.data(), size_t{}, nullptr); }) {
    std::vector<typename Rib::match> matches(1024);
    size_t batch_found = 0;
    t = cpu_seconds();
    for (int round = 0; round < rounds; ++round)
      for (size_t at = 0; at < probes.size(); at += matches.size()) {
        first.lookup(probes.data() + at, matches.size(), matches.data());
        for (auto& m : matches)
          batch_found += m.attributes != 0;
      }
    out["7 batched"] = format("%.1f M/s", lookups / (cpu_seconds() - t) / 1e6) +
                       (batch_found == found ? "" : " (DIFFERENT MATCHES)");
  } else {
    out["7 batched"] = "-";
  }
}

/// The IPv6 table from one neighbor.
template <class Rib> void ipv6_table(const std::vector<bgp_route_batch>& table, results& out) {
  attribute_store store;
  Rib rib;
  size_t rss0 = rss_bytes();
  apply(store, rib, table);
  size_t rss1 = rss_bytes();
  out["8 v6 bytes/route"] = format("%.1f", double(rib.memory_bytes()) / double(rib.size()));
  out["9 v6 rss/route"] = format("%.1f", double(rss1 - rss0) / double(rib.size()));
}

} // namespace

int main(int argc, char** argv) {
  size_t v4 = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  size_t v6 = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000;
  size_t paths = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100'000;
  auto table4 = make_table(v4, 0, paths);
  auto table6 = make_table(0, v6, paths);
  results before = in_child([&](results& r) { ipv4_table<bench::stride8_rib>(table4, r); });
  auto before6 = in_child([&](results& r) { ipv6_table<bench::stride8_rib>(table6, r); });
  results after = in_child([&](results& r) { ipv4_table<adj_rib_in>(table4, r); });
  auto after6 = in_child([&](results& r) { ipv6_table<adj_rib_in>(table6, r); });
  before.merge(before6);
  after.merge(after6);
  const std::map<std::string, std::string> rows = {
      {"1 apply", "IPv4 neighbor 1: apply"},
      {"2 bytes/route", "IPv4 neighbor 1: bytes/route, RIB + attribute sets (counted)"},
      {"3 rss/route", "IPv4 neighbor 1: bytes/route (RSS)"},
      {"4 second bytes/route", "IPv4 neighbor 2, same paths: added bytes/route (counted)"},
      {"5 second rss/route", "IPv4 neighbor 2, same paths: added bytes/route (RSS)"},
      {"6 lookups", "IPv4 LPM lookups, one core, single"},
      {"7 batched", "IPv4 LPM lookups, one core, batches of 1024"},
      {"8 v6 bytes/route", "IPv6 one neighbor: RIB bytes/route (counted)"},
      {"9 v6 rss/route", "IPv6 one neighbor: bytes/route (RSS, with attribute sets)"},
  };
  std::printf("%zu IPv4 routes, %zu IPv6 routes, %zu distinct paths\n\n", v4, v6, paths);
  std::printf("| metric | before (256-slot trie) | after (compressed trie) |\n|---|---|---|\n");
  for (auto& [key, label] : rows)
    std::printf("| %s | %s | %s |\n", label.c_str(), before[key].c_str(), after[key].c_str());
  return 0;
}
