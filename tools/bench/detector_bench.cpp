// detector_bench: records per second per core of the DoS detector alone
// (flow_detector) with 1 M tracked hosts, and the memory a tracked host
// takes. Records arrive in batches of 1024 at 10 M records/s of simulated
// arrival time, so buckets roll as they would at that rate. Prints a table;
// no target is asserted here (see README, "Benchmarks").
//
// usage: detector_bench [--hosts N] [--seconds S] [--uniform-only]

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "actors/detector/flow_detector.hpp"

using namespace tidewatch;

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

constexpr size_t batch_size = 1024;
constexpr int64_t arrival_step_ns = 100; // 10 M records/s

/// Inbound records from the internet to our hosts 10.0.0.0 + [0, hosts):
/// `hot_share` of them go to the first 1000 hosts (a skewed mix), the rest
/// uniformly to all; protocols TCP (some SYN only), UDP and ICMP.
std::vector<flow_record> make_pool(size_t count, uint32_t hosts, double hot_share,
                                   std::mt19937_64& rng) {
  std::vector<flow_record> pool(count);
  std::uniform_real_distribution<double> unit(0, 1);
  for (auto& r : pool) {
    uint32_t host = unit(rng) < hot_share ? uint32_t(rng() % 1000) : uint32_t(rng() % hosts);
    r.dst_addr = ip_address::from_v4(0x0a000000u + host);
    r.src_addr = ip_address::from_v4(uint32_t(rng()) | 0x80000000u);
    r.ip_version = 4;
    auto kind = rng() % 10;
    r.ip_protocol = kind < 6 ? 6 : kind < 9 ? 17 : 1;
    r.tcp_flags = kind == 0 ? 0x02 : 0x1b;
    r.src_port = uint16_t(rng());
    r.dst_port = kind < 6 ? 443 : 53;
    r.packets = 1 + rng() % 20;
    r.bytes = r.packets * (60 + rng() % 1400);
    r.scope = traffic_scope::inbound;
  }
  return pool;
}

struct result {
  double records_per_second;
  size_t hosts_tracked;
  size_t attacks;
};

result run(flow_detector& d, std::vector<flow_record>& pool, double seconds, int64_t& clock_ns) {
  flow_batch batch;
  batch.pipeline = "bench";
  batch.records.resize(batch_size);
  std::vector<attack_event> events;
  size_t next = 0;
  uint64_t records = 0;
  double cpu = 0;
  while (cpu < seconds) {
    // Filling the batch (a copy and a time stamp per record) is not timed.
    for (auto& r : batch.records) {
      r = pool[next];
      next = next + 1 == pool.size() ? 0 : next + 1;
      clock_ns += arrival_step_ns;
      r.received_us = clock_ns / 1000;
    }
    double start = thread_cpu_seconds();
    d.add(batch, clock_ns / 1000, events);
    if (records % (batch_size * 256) == 0)
      d.tick(clock_ns / 1000, events);
    cpu += thread_cpu_seconds() - start;
    events.clear();
    records += batch_size;
  }
  return {double(records) / cpu, d.hosts_tracked(), d.active_attacks()};
}

} // namespace

int main(int argc, char** argv) {
  uint32_t hosts = 1 << 20;
  double seconds = 3;
  bool uniform_only = false;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--uniform-only") == 0)
      uniform_only = true;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--hosts") == 0)
      hosts = uint32_t(std::atol(argv[i + 1]));
    else if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = std::atof(argv[i + 1]);
  }
  std::mt19937_64 rng(42);
  std::printf("| traffic | thresholds | hosts tracked | records/s per core | ns/record | "
              "active attacks |\n|---|---|---|---|---|---|\n");
  struct scenario {
    const char* traffic;
    double hot_share;
    const char* thresholds;
    bool flood;
  };
  const scenario scenarios[] = {
      {"uniform over all hosts", 0.0, "none", false},
      {"uniform over all hosts", 0.0, "5 global", false},
      {"90% to 1000 hot hosts", 0.9, "5 global", false},
      {"90% to 1000 hot hosts + SYN flood on one", 0.9, "5 global", true},
  };
  size_t bytes_per_host = 0;
  size_t memory = 0;
  for (auto& sc : scenarios) {
    if (uniform_only && sc.hot_share != 0)
      continue;
    detector_settings s;
    s.max_hosts = hosts;
    s.host_idle_us = 3'600'000'000;
    if (std::strcmp(sc.thresholds, "none") != 0)
      s.limits = {{traffic_kind::all, rate_metric::packets, 50'000'000},
                  {traffic_kind::all, rate_metric::bits, 100'000'000'000},
                  {traffic_kind::all, rate_metric::flows, 5'000'000},
                  {traffic_kind::tcp_syn, rate_metric::packets, sc.flood ? 100'000u : 10'000'000u},
                  {traffic_kind::udp, rate_metric::packets, 20'000'000}};
    flow_detector d{s};
    int64_t clock_ns = 1'700'000'000'000'000'000;
    // Every host once, so that the table holds them all before timing.
    {
      flow_batch fill;
      std::vector<attack_event> events;
      for (uint32_t h = 0; h < hosts; ++h) {
        flow_record r;
        r.dst_addr = ip_address::from_v4(0x0a000000u + h);
        r.src_addr = ip_address::from_v4(0x80000001u);
        r.packets = 1;
        r.bytes = 60;
        r.scope = traffic_scope::inbound;
        r.received_us = clock_ns / 1000;
        fill.records.push_back(r);
      }
      d.add(fill, clock_ns / 1000, events);
    }
    auto pool = make_pool(1 << 18, hosts, sc.hot_share, rng);
    if (sc.flood)
      for (size_t i = 0; i < pool.size(); i += 10) {
        pool[i].dst_addr = ip_address::from_v4(0x0a000005u);
        pool[i].ip_protocol = 6;
        pool[i].tcp_flags = 0x02;
      }
    auto r = run(d, pool, seconds, clock_ns);
    std::printf("| %s | %s | %zu | %.2f M | %.1f | %zu |\n", sc.traffic, sc.thresholds,
                r.hosts_tracked, r.records_per_second / 1e6, 1e9 / r.records_per_second, r.attacks);
    bytes_per_host = d.bytes_per_host();
    std::vector<counter_value> counters;
    d.collect(counters);
    for (auto& c : counters)
      if (c.name == "detector_memory_bytes")
        memory = c.value;
  }
  std::printf("\nbytes per tracked host (lines %zu + windows %zu + index share): %zu; table in "
              "use: %.1f MiB for %u hosts\n",
              sizeof(host_lines), sizeof(host_windows), bytes_per_host, double(memory) / (1 << 20),
              hosts);
  return 0;
}
