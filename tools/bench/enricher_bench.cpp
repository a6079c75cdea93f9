// enricher_bench: nanoseconds per record and records per second per core of
// the enricher alone, with its lookups switched on one by one: sampling
// only; a 10 k-prefix list; country + ASN database lookups with and without
// the address cache, over few or many distinct addresses, uniform or skewed;
// BGP lookups (source and destination) in a synthetic table of 1 M IPv4
// routes with 100 k distinct paths from the exporter's neighbor. Prints a
// table; no target is asserted here (see README).
//
// usage: enricher_bench --database FILE.mmdb [--seconds S] [--only TEXT]
//   FILE.mmdb: a MaxMind-layout database with countries and ASNs, e.g. made by
//   tools/bench/make_large_mmdb.pl (300,000 networks is about a real one's size).
//   --only TEXT: only the rows whose name contains TEXT (e.g. to profile one).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "actors/enricher/enrichment_files.hpp"
#include "actors/enricher/flow_enricher.hpp"

using namespace tidewatch;

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

ip_address random_address(std::mt19937_64& rng, bool v6) {
  if (!v6)
    return ip_address::from_v4(uint32_t(rng()));
  ip_address a;
  uint64_t high = 0x2001000000000000ull | (rng() & 0x0000ffffffffffffull);
  uint64_t low = rng();
  for (int b = 0; b < 8; ++b) {
    a.bytes[size_t(b)] = uint8_t(high >> (56 - 8 * b));
    a.bytes[size_t(8 + b)] = uint8_t(low >> (56 - 8 * b));
  }
  return a;
}

/// 10,000 of our prefixes: IPv4 /16../28 and IPv6 /32../64, random.
std::shared_ptr<prefix_list> our_prefixes(std::mt19937_64& rng) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) {
    bool v6 = i % 5 == 0;
    auto a = random_address(rng, v6);
    unsigned len = v6 ? 32 + unsigned(rng() % 33) : 16 + unsigned(rng() % 13);
    text += a.to_string() + "/" + std::to_string(len) + " site" + std::to_string(i % 50) + "\n";
  }
  auto list = std::make_shared<prefix_list>();
  std::vector<std::string> errors;
  if (!prefix_list::parse(text, "bench", *list, errors)) {
    std::fprintf(stderr, "enricher_bench: %s\n", errors.front().c_str());
    std::exit(1);
  }
  return list;
}

/// A synthetic full table from `neighbor`: `routes` IPv4 prefixes (the 256
/// /8s, then /24 mostly and /16../23 for a quarter) sharing `paths` attribute sets of 2-6 ASNs, two
/// communities and, for a third, a large community; as route batches of 10 k.
std::vector<bgp_route_batch> synthetic_table(const ip_address& neighbor, size_t routes,
                                             size_t paths, std::mt19937_64& rng) {
  std::vector<bgp_path_attributes> sets(paths);
  for (auto& a : sets) {
    size_t hops = 2 + rng() % 5;
    a.origin = 0;
    a.segments = {uint16_t(uint16_t(as_segment_type::sequence) << 8 | hops)};
    for (size_t h = 0; h < hops; ++h)
      a.as_path.push_back(h == 0 ? 65001 : uint32_t(1 + rng() % 4'200'000'000u));
    a.next_hop = ip_address::from_v4(0xc0000201);
    a.communities = {65001u << 16 | uint32_t(rng() % 1000), 65001u << 16 | 3000};
    if (rng() % 3 == 0)
      a.large_communities = {{4200000001, uint32_t(rng() % 100), 1}};
  }
  std::vector<bgp_route_batch> out;
  for (size_t i = 0; i < routes; ++i) {
    if (i % 10'000 == 0) {
      out.emplace_back();
      out.back().neighbor = neighbor;
    }
    auto& b = out.back();
    // The first 256 are the /8s, so that every IPv4 address has a match.
    uint8_t length = i < 256 ? 8 : rng() % 4 == 0 ? uint8_t(16 + rng() % 8) : 24;
    uint32_t network = i < 256 ? uint32_t(i) << 24 : uint32_t(rng()) & ~((1u << (32 - length)) - 1);
    b.attributes.push_back(sets[rng() % paths]);
    b.announced.push_back(
        {ip_address::from_v4(network), length, 0, uint32_t(b.attributes.size() - 1)});
  }
  return out;
}

/// A stream of `draws` addresses over `distinct` ones (20% IPv6), 10% of
/// them inside our prefixes, picked uniformly or, with `zipf`, by a Zipf law
/// of exponent 1 (a few addresses carry most flows, as in real traffic).
/// Records take their source and destination from it in turn, so it must be
/// long enough that its tail, not just its head, reaches the address cache:
/// 4 M draws against a population of 1 M.
std::vector<ip_address> make_stream(size_t distinct, size_t draws, const prefix_list& ours,
                                    std::mt19937_64& rng, bool zipf = false) {
  std::vector<ip_address> pool;
  for (size_t i = 0; i < distinct; ++i) {
    bool v6 = i % 5 == 0;
    if (i % 10 == 1) {
      auto& e = ours.entries()[rng() % ours.entries().size()];
      pool.push_back(e.prefix.network);
    } else {
      pool.push_back(random_address(rng, v6));
    }
  }
  std::vector<double> cdf;
  if (zipf) {
    double sum = 0;
    for (size_t rank = 1; rank <= distinct; ++rank)
      cdf.push_back(sum += 1.0 / double(rank));
    for (auto& c : cdf)
      c /= sum;
  }
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<ip_address> stream(draws);
  for (auto& a : stream) {
    if (!zipf) {
      a = pool[rng() % pool.size()];
      continue;
    }
    auto at = std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin();
    a = pool[std::min<size_t>(size_t(at), pool.size() - 1)];
  }
  return stream;
}

/// CPU ns per record for enriching batches of 1,000 records whose addresses
/// come from `stream`, for `seconds`.
double measure(flow_enricher& e, const std::vector<ip_address>& stream, double seconds) {
  flow_record blank;
  blank.exporter = ip_address::from_v4(0x7f000001);
  blank.packets = 3;
  blank.bytes = 1500;
  blank.sampling_rate = 1000;
  flow_batch work;
  work.pipeline = "netflow";
  size_t records = 0;
  size_t next = 0;
  double spent = 0;
  while (spent < seconds) {
    // Fresh records each round (not timed).
    work.records.assign(1000, blank);
    for (auto& r : work.records) {
      r.src_addr = stream[next];
      r.dst_addr = stream[next + 1];
      r.ip_version = r.src_addr.is_v4() ? 4 : 6;
      next = next + 2 < stream.size() ? next + 2 : 0;
    }
    double start = thread_cpu_seconds();
    e.enrich(work);
    spent += thread_cpu_seconds() - start;
    records += work.records.size();
  }
  return spent * 1e9 / double(records);
}

} // namespace

int main(int argc, char** argv) {
  const char* usage = "usage: enricher_bench --database FILE.mmdb [--seconds S] [--only TEXT]\n";
  std::string database;
  double seconds = 2;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--database") && i + 1 < argc)
      database = argv[++i];
    else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else {
      std::fputs(usage, stderr);
      return 2;
    }
  }
  if (database.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string error;
  auto load_start = std::chrono::steady_clock::now();
  auto db = open_database_copy(database, error);
  double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  if (!db) {
    std::fprintf(stderr, "enricher_bench: %s: %s\n", database.c_str(), error.c_str());
    return 1;
  }
  std::mt19937_64 rng(1);
  auto ours = our_prefixes(rng);
  auto few = make_stream(20'000, 128'000, *ours, rng);
  auto many = make_stream(2'000'000, 4'000'000, *ours, rng);
  auto skewed = make_stream(1'000'000, 4'000'000, *ours, rng, true);

  struct row {
    const char* name;
    bool prefixes;
    bool databases;
    size_t cache;
    const std::vector<ip_address>* stream;
    bool bgp = false;
  };
  // The enricher's default cache (1 Mi entries) unless the row says otherwise.
  const size_t cache = enricher_settings{}.address_cache_size;
  const row rows[] = {
      {"sampling only", false, false, 0, &few},
      {"+ 10k prefixes, no cache, 20k addrs", true, false, 0, &few},
      {"+ 10k prefixes, cache, 20k addrs", true, false, cache, &few},
      {"+ GeoIP/ASN, cache, 20k addrs", true, true, cache, &few},
      {"+ GeoIP/ASN, no cache, 20k addrs", true, true, 0, &few},
      {"+ 10k prefixes, no cache, Zipf 1M addrs", true, false, 0, &skewed},
      {"GeoIP/ASN alone, no cache, Zipf 1M addrs", false, true, 0, &skewed},
      {"+ GeoIP/ASN, cache, Zipf 1M addrs", true, true, cache, &skewed},
      {"+ GeoIP/ASN, cache 64k, Zipf 1M addrs", true, true, 1 << 16, &skewed},
      {"+ GeoIP/ASN, no cache, Zipf 1M addrs", true, true, 0, &skewed},
      {"+ GeoIP/ASN, cache, 2M addrs", true, true, cache, &many},
      {"+ GeoIP/ASN, cache 4M, 2M addrs", true, true, 1 << 22, &many},
      {"+ GeoIP/ASN, no cache, 2M addrs", true, true, 0, &many},
      {"sampling + BGP 1M routes, 20k addrs", false, false, 0, &few, true},
      {"sampling + BGP 1M routes, 2M addrs", false, false, 0, &many, true},
      {"+ GeoIP/ASN, cache, BGP, 20k addrs", true, true, cache, &few, true},
      {"+ GeoIP/ASN, cache, BGP, Zipf 1M", true, true, cache, &skewed, true},
  };
  auto exporter = ip_address::from_v4(0x7f000001);
  auto table = synthetic_table(exporter, 1'000'000, 100'000, rng);
  std::printf("database: %s (%s): loaded in %.2f s, %zu ranges, %zu KiB flattened\n",
              database.c_str(), db->database_type().c_str(), load_seconds, db->ranges(),
              db->memory_bytes() / 1024);
  std::printf("prefix list: %zu prefixes, %zu KiB of tries\n", ours->entries().size(),
              ours->memory_bytes() / 1024);
  std::printf("%-42s %12s %16s %12s\n", "enricher", "ns/record", "records/s/core", "cache hits");
  for (auto& r : rows) {
    if (std::string_view(r.name).find(only) == std::string_view::npos)
      continue;
    enricher_settings s;
    s.region = "bench";
    s.address_cache_size = r.cache;
    s.bgp.enabled = r.bgp;
    flow_enricher e{s};
    if (r.bgp)
      for (auto& b : table)
        e.apply_routes(b);
    if (r.prefixes)
      e.set_prefixes(ours);
    if (r.databases)
      e.set_databases(db, db);
    measure(e, *r.stream, 0.2); // warm caches and the database memo
    double ns = measure(e, *r.stream, seconds);
    std::vector<counter_value> counters;
    e.collect(counters);
    uint64_t hits = 0, misses = 0;
    for (auto& c : counters) {
      if (c.name == "enricher_geoip_cache_hits_total")
        hits = c.value;
      if (c.name == "enricher_geoip_cache_misses_total")
        misses = c.value;
    }
    std::printf("%-42s %12.1f %16.0f %11.1f%%\n", r.name, ns, 1e9 / ns,
                hits + misses == 0 ? 0.0 : 100.0 * double(hits) / double(hits + misses));
  }
  return 0;
}
