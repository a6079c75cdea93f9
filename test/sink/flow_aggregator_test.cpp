#define BOOST_TEST_MODULE flow_aggregator
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "actors/sink/flow_aggregator.hpp"
#include "actors/sink/json_encoder.hpp"

using namespace tidewatch;
using p = aggregate_primitive;

namespace {

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

/// 2026-11-28 12:00:00 UTC, µs.
constexpr int64_t noon_us = 1'795'867'200'000'000;

flow_record flow(const char* src, const char* dst, uint8_t proto, uint64_t packets, uint64_t bytes,
                 int64_t received_us) {
  flow_record r;
  r.exporter = addr("192.0.2.1");
  r.src_addr = addr(src);
  r.dst_addr = addr(dst);
  r.ip_version = r.src_addr.is_v4() ? 4 : 6;
  r.ip_protocol = proto;
  r.src_port = 40000;
  r.dst_port = 443;
  r.packets = packets;
  r.bytes = bytes;
  r.received_us = received_us;
  return r;
}

flow_batch batch_of(std::vector<flow_record> records) {
  flow_batch b;
  b.records = std::move(records);
  return b;
}

/// Sorted by bucket, then source address, for stable comparisons.
void sort_out(std::vector<flow_record>& out) {
  std::sort(out.begin(), out.end(), [](const flow_record& a, const flow_record& b) {
    return std::tie(a.received_us, a.src_addr, a.dst_addr, a.ip_protocol) <
           std::tie(b.received_us, b.src_addr, b.dst_addr, b.ip_protocol);
  });
}

} // namespace

BOOST_AUTO_TEST_CASE(primitives_are_known_by_pmacct_names_and_others_are_refused) {
  BOOST_TEST(int(*parse_aggregate_primitive("src_host")) == int(p::src_host));
  BOOST_TEST(int(*parse_aggregate_primitive("dst_host_country")) == int(p::dst_host_country));
  BOOST_TEST(int(*parse_aggregate_primitive("traffic_scope")) == int(p::traffic_scope));
  BOOST_TEST(!parse_aggregate_primitive("src_hostname"));
  BOOST_TEST(aggregate_primitive_names().size() == size_t(p::count_));
}

BOOST_AUTO_TEST_CASE(counters_are_summed_per_key_and_bucket_and_other_fields_are_dropped) {
  flow_aggregator agg({bit(p::src_host) | bit(p::dst_host) | bit(p::proto), 60'000'000, 2'000'000});
  agg.add(batch_of({
      flow("198.51.100.1", "192.0.2.10", 6, 10, 1000, noon_us + 1'000'000),
      flow("198.51.100.1", "192.0.2.10", 6, 5, 700, noon_us + 59'999'999),
      flow("198.51.100.1", "192.0.2.10", 17, 1, 100, noon_us + 2'000'000), // other proto
      flow("198.51.100.2", "192.0.2.10", 6, 3, 300, noon_us + 3'000'000),  // other source
      flow("198.51.100.1", "192.0.2.10", 6, 7, 777, noon_us + 60'000'000), // next minute
  }));
  BOOST_TEST(agg.records_in() == 5u);
  BOOST_TEST(agg.open_entries() == 4u);
  std::vector<flow_record> out;
  // The first minute ends at noon+60 s; with 2 s grace it closes at noon+62 s.
  BOOST_TEST(agg.flush(noon_us + 61'999'999, false, out) == 0u);
  BOOST_TEST(agg.flush(noon_us + 62'000'000, false, out) == 3u);
  sort_out(out);
  BOOST_TEST(out[0].received_us == noon_us);
  BOOST_TEST(out[0].src_addr.to_string() == "198.51.100.1");
  BOOST_TEST(out[0].ip_protocol == 6);
  BOOST_TEST(out[0].packets == 15u);
  BOOST_TEST(out[0].bytes == 1700u);
  BOOST_TEST(out[0].flows == 2u);
  BOOST_TEST(out[0].src_port == 0); // not a primitive: not part of the key, not printed
  BOOST_TEST((out[0].exporter == ip_address{}));
  BOOST_TEST(out[1].ip_protocol == 17);
  BOOST_TEST(out[1].flows == 1u);
  BOOST_TEST(out[2].src_addr.to_string() == "198.51.100.2");
  BOOST_TEST(out[2].bytes == 300u);
  BOOST_TEST(agg.open_entries() == 1u);
  // Everything, e.g. at shutdown: the open minute goes out as it is.
  out.clear();
  BOOST_TEST(agg.flush(noon_us + 63'000'000, true, out) == 1u);
  BOOST_TEST(out[0].received_us == noon_us + 60'000'000);
  BOOST_TEST(out[0].bytes == 777u);
  BOOST_TEST(agg.late_records() == 0u);
}

BOOST_AUTO_TEST_CASE(a_record_for_an_emitted_bucket_is_counted_late_and_emitted_next_time) {
  flow_aggregator agg({bit(p::dst_host), 10'000'000, 1'000'000});
  std::vector<flow_record> out;
  agg.add(batch_of({flow("198.51.100.1", "192.0.2.10", 6, 1, 100, noon_us + 5'000'000)}));
  BOOST_TEST(agg.flush(noon_us + 11'000'000, false, out) == 1u);
  agg.add(batch_of({flow("198.51.100.1", "192.0.2.10", 6, 2, 200, noon_us + 9'000'000)}));
  BOOST_TEST(agg.late_records() == 1u);
  BOOST_TEST(agg.flush(noon_us + 12'000'000, false, out) == 1u);
  BOOST_TEST(out[1].received_us == noon_us);
  BOOST_TEST(out[1].bytes == 200u);
}

BOOST_AUTO_TEST_CASE(networks_are_keyed_by_the_exported_mask) {
  flow_aggregator agg({bit(p::src_net) | bit(p::dst_net), 60'000'000, 0});
  auto a = flow("198.51.100.77", "2001:db8:1:2::5", 6, 1, 10, noon_us);
  a.src_mask = 24;
  a.dst_mask = 48;
  auto b = flow("198.51.100.200", "2001:db8:1:ffff::9", 6, 2, 20, noon_us);
  b.src_mask = 24;
  b.dst_mask = 48;
  agg.add(batch_of({a, b}));
  std::vector<flow_record> out;
  BOOST_TEST(agg.flush(noon_us + 60'000'000, false, out) == 1u);
  BOOST_TEST(out[0].src_addr.to_string() == "198.51.100.0");
  BOOST_TEST(out[0].dst_addr.to_string() == "2001:db8:1::");
  BOOST_TEST(out[0].bytes == 30u);
  json_encoder encoder;
  std::string line;
  encoder.encode_aggregate(out[0], agg.config().primitives, noon_us + 61'500'000, line);
  BOOST_TEST(line == "{\"event_type\": \"purge\", \"net_src\": \"198.51.100.0\", \"net_dst\": "
                     "\"2001:db8:1::\", \"stamp_inserted\": \"2026-11-28 12:00:00\", "
                     "\"stamp_updated\": \"2026-11-28 12:01:01\", \"flows\": 2, \"packets\": 3, "
                     "\"bytes\": 30}\n");
}

BOOST_AUTO_TEST_CASE(an_aggregated_line_prints_the_chosen_keys_in_pmacct_order) {
  auto r = flow("198.51.100.1", "192.0.2.10", 17, 4, 400, noon_us);
  r.src_port = 123;
  r.src_country = country_code('D', 'E');
  r.scope = traffic_scope::inbound;
  r.flows = 4;
  json_encoder encoder;
  std::string line;
  encoder.encode_aggregate(r,
                           bit(p::traffic_scope) | bit(p::proto) | bit(p::src_port) |
                               bit(p::src_host) | bit(p::src_host_country),
                           noon_us, line);
  BOOST_TEST(line == "{\"event_type\": \"purge\", \"ip_src\": \"198.51.100.1\", \"port_src\": 123, "
                     "\"ip_proto\": \"udp\", \"country_ip_src\": \"DE\", \"traffic_scope\": "
                     "\"inbound\", \"stamp_inserted\": \"2026-11-28 12:00:00\", \"stamp_updated\": "
                     "\"2026-11-28 12:00:00\", \"flows\": 4, \"packets\": 4, \"bytes\": 400}\n");
}

BOOST_AUTO_TEST_CASE(timestamps_as_primitives_keep_flows_apart_and_print_as_nfacctd_prints_them) {
  auto a = flow("198.51.100.1", "192.0.2.10", 6, 2, 200, noon_us + 10);
  a.flow_start_us = noon_us - 5'000'000;
  a.flow_end_us = noon_us - 1'250'000;
  auto b = a; // the same flow's next record: same start, later end
  b.flow_end_us = noon_us - 250'000;
  auto c = a; // a record with a's times again: summed with a
  flow_aggregator agg(
      {bit(p::src_host) | bit(p::timestamp_start) | bit(p::timestamp_end), 1'000'000, 0});
  agg.add(batch_of({a, b, c}));
  std::vector<flow_record> out;
  BOOST_REQUIRE_EQUAL(agg.flush(noon_us + 2'000'000, true, out), 2u);
  std::sort(out.begin(), out.end(), [](const flow_record& x, const flow_record& y) {
    return x.flow_end_us < y.flow_end_us;
  });
  BOOST_TEST(out[0].packets == 4u);
  BOOST_TEST(out[1].packets == 2u);
  json_encoder encoder;
  std::string line;
  encoder.encode_aggregate(out[0],
                           bit(p::src_host) | bit(p::timestamp_start) | bit(p::timestamp_end),
                           noon_us + 1'000'000, line);
  BOOST_TEST(line == "{\"event_type\": \"purge\", \"ip_src\": \"198.51.100.1\", "
                     "\"timestamp_start\": \"2026-11-28 11:59:55.000000\", \"timestamp_end\": "
                     "\"2026-11-28 11:59:58.750000\", \"stamp_inserted\": \"2026-11-28 12:00:00\", "
                     "\"stamp_updated\": \"2026-11-28 12:00:01\", \"flows\": 2, \"packets\": 4, "
                     "\"bytes\": 400}\n");
}
