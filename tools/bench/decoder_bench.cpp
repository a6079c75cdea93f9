// decoder_bench: records per second per core of the netflow decoder (v5, v9,
// IPFIX), of the sFlow decoder (flow samples with raw Ethernet/IP/TCP headers,
// as many as fit in 1400 bytes: 11) and of the JSON encoder, from datagrams built in memory by
// flowgen's encoder. Prints a table; no target is asserted here (see README).
//
// usage: decoder_bench [--seconds S] [--records-per-datagram N]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "actors/decoder/netflow_decoder.hpp"
#include "actors/decoder/sflow_decoder.hpp"
#include "actors/sink/json_encoder.hpp"
#include "tools/flowgen/flow_encoder.hpp"
#include "tools/flowgen/flow_synthesizer.hpp"

using namespace tidewatch;

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct workload {
  std::vector<std::vector<uint8_t>> datagrams; ///< templates first
  size_t template_datagrams = 0;
  size_t records = 0; ///< in the data datagrams
};

workload build(export_protocol protocol, size_t records_per_datagram, size_t datagrams) {
  traffic_profile profile;
  address_prefix p;
  address_prefix::parse("10.0.0.0/8", p);
  profile.src_prefixes.push_back(p);
  address_prefix::parse("198.51.100.0/24", p);
  profile.dst_prefixes.push_back(p);
  profile.hosts = 100'000;
  flow_synthesizer synth(profile, 42);
  // Big enough datagrams for the asked record count (v5 caps at 30); sFlow
  // agents keep to the MTU.
  size_t size = protocol == export_protocol::netflow_v5 ? 24 + 48 * 30
                : protocol == export_protocol::sflow_v5 ? 1400
                                                        : 9000;
  flow_encoder encoder(protocol, 1, size);
  encoder.set_sampling_rate(1000);
  int64_t now = 1'700'000'000'000'000;
  workload w;
  auto t = encoder.template_datagram(now);
  if (!t.empty()) {
    w.datagrams.push_back(std::move(t));
    w.template_datagrams = 1;
  }
  size_t per = std::min(records_per_datagram, encoder.max_records_per_datagram(false));
  std::vector<flow_record> records(per);
  for (size_t d = 0; d < datagrams; ++d) {
    for (auto& r : records)
      synth.next_flow(r, now);
    std::vector<uint8_t> out;
    w.records += encoder.data_datagram(records, now, out);
    w.datagrams.push_back(std::move(out));
  }
  return w;
}

/// Decodes the workload's data datagrams over and over for `seconds` of CPU.
template <class Decoder>
double decode_rate(const workload& w, double seconds, size_t& records_out) {
  Decoder decoder;
  datagram_info meta;
  meta.exporter = ip_address::from_v4(0x7F000001);
  meta.received_us = 1'700'000'000'000'000;
  std::vector<flow_record> out;
  out.reserve(64);
  for (auto& d : w.datagrams) // templates (and one pass to warm up)
    decoder.decode(d.data(), d.size(), meta, out);
  size_t first_data = w.template_datagrams;
  records_out = 0;
  auto start = thread_cpu_seconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (size_t i = first_data; i < w.datagrams.size(); ++i) {
      out.clear();
      records_out += decoder.decode(w.datagrams[i].data(), w.datagrams[i].size(), meta, out);
    }
    elapsed = thread_cpu_seconds() - start;
  }
  return double(records_out) / elapsed;
}

/// Records per second one core encodes, in runs of 1,000 records into a
/// buffer reused across runs, as a sink encodes a batch; `fields`: the keys
/// to print (empty: every key).
double encode_rate(const workload& w, double seconds, const json_field_set& fields,
                   size_t& records_out, double& bytes_per) {
  netflow_decoder decoder;
  datagram_info meta;
  meta.exporter = ip_address::from_v4(0x7F000001);
  meta.received_us = 1'700'000'000'000'000;
  std::vector<flow_record> records;
  for (auto& d : w.datagrams)
    decoder.decode(d.data(), d.size(), meta, records);
  json_encoder::options opts;
  opts.fields = fields;
  json_encoder encoder{opts};
  const label_table labels; // decoded, not enriched: no label texts
  constexpr size_t batch = 1000;
  std::string out;
  records_out = 0;
  size_t bytes = 0;
  auto start = thread_cpu_seconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (size_t first = 0; first < records.size(); first += batch) {
      out.clear();
      size_t end = std::min(records.size(), first + batch);
      for (size_t i = first; i < end; ++i)
        encoder.encode(records[i], labels, out);
      bytes += out.size();
    }
    records_out += records.size();
    elapsed = thread_cpu_seconds() - start;
  }
  bytes_per = double(bytes) / double(records_out);
  return double(records_out) / elapsed;
}

} // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  size_t per_datagram = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = std::stod(argv[i + 1]);
    else if (std::strcmp(argv[i], "--records-per-datagram") == 0)
      per_datagram = std::stoul(argv[i + 1]);
  }
  std::printf("%-14s %12s %14s %12s\n", "stage", "rec/datagram", "records/s/core", "ns/record");
  struct row {
    const char* name;
    export_protocol protocol;
  } rows[] = {{"decode v5", export_protocol::netflow_v5},
              {"decode v9", export_protocol::netflow_v9},
              {"decode ipfix", export_protocol::ipfix},
              {"decode sflow", export_protocol::sflow_v5}};
  for (auto& r : rows) {
    auto w = build(r.protocol, per_datagram, 2000);
    size_t n = 0;
    auto rate = r.protocol == export_protocol::sflow_v5
                    ? decode_rate<sflow_decoder>(w, seconds, n)
                    : decode_rate<netflow_decoder>(w, seconds, n);
    std::printf("%-14s %12zu %14.0f %12.1f\n", r.name, w.records / 2000, rate, 1e9 / rate);
  }
  auto w = build(export_protocol::ipfix, per_datagram, 2000);
  // The keys nfacctd prints in tools/bench/e2e_bench.py (its `fields` rows).
  json_field_set nfacctd_keys;
  for (const char* name : {"event_type",
                           "ip_src",
                           "ip_dst",
                           "port_src",
                           "port_dst",
                           "ip_proto",
                           "tos",
                           "tcp_flags",
                           "as_src",
                           "as_dst",
                           "peer_ip_src",
                           "peer_ip_dst",
                           "iface_in",
                           "iface_out",
                           "mask_src",
                           "mask_dst",
                           "sampling_rate",
                           "export_proto_version",
                           "timestamp_start",
                           "timestamp_end",
                           "stamp_inserted",
                           "stamp_updated",
                           "flows",
                           "packets",
                           "bytes"})
    nfacctd_keys.set(size_t(*json_field_by_name(name)));
  for (auto [name, fields] :
       {std::pair{"json encode", json_field_set{}}, std::pair{"json, 25 keys", nfacctd_keys}}) {
    size_t n = 0;
    double bytes_per = 0;
    auto rate = encode_rate(w, seconds, fields, n, bytes_per);
    std::printf("%-14s %12s %14.0f %12.1f   (%.0f bytes/record)\n", name, "-", rate, 1e9 / rate,
                bytes_per);
  }
  return 0;
}
