#define BOOST_TEST_MODULE bgp_enrichment
#include <boost/test/unit_test.hpp>

#include "actors/enricher/flow_enricher.hpp"
#include "actors/sink/json_encoder.hpp"

using namespace tidewatch;

namespace {

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

ip_prefix prefix(const char* text) {
  ip_prefix p;
  BOOST_REQUIRE(ip_prefix::parse(text, p));
  return p;
}

/// Attributes with an AS_SEQUENCE path and the given communities.
bgp_path_attributes path(std::vector<uint32_t> as_path, const char* next_hop,
                         std::vector<uint32_t> communities = {},
                         std::vector<bgp_large_community> large = {}) {
  bgp_path_attributes a;
  a.origin = 0;
  a.segments = {uint16_t(uint16_t(as_segment_type::sequence) << 8 | as_path.size())};
  a.as_path = std::move(as_path);
  a.next_hop = addr(next_hop);
  a.communities = std::move(communities);
  a.large_communities = std::move(large);
  return a;
}

/// A batch announcing `prefixes` (text, length) with one attribute set.
bgp_route_batch announce(const char* neighbor, bgp_path_attributes a,
                         std::vector<std::pair<const char*, uint8_t>> prefixes) {
  bgp_route_batch b;
  b.neighbor = addr(neighbor);
  b.attributes.push_back(std::move(a));
  for (auto& [network, length] : prefixes)
    b.announced.push_back({addr(network), length, 0, 0});
  return b;
}

flow_record flow(const char* exporter, const char* src, const char* dst) {
  flow_record r;
  r.exporter = addr(exporter);
  r.src_addr = addr(src);
  r.dst_addr = addr(dst);
  r.ip_version = r.src_addr.is_v4() ? 4 : 6;
  r.packets = 1;
  r.bytes = 100;
  return r;
}

enricher_settings bgp_on(bgp_as_mode mode = bgp_as_mode::prefer_bgp,
                         std::vector<bgp_neighbor_binding> neighbors = {}) {
  enricher_settings s;
  s.bgp.enabled = true;
  s.bgp.as_mode = mode;
  s.bgp.neighbors = std::move(neighbors);
  return s;
}

/// A router at 127.0.0.2 with a covering /8 and a more specific /16 and v6 /32.
void load_routes(flow_enricher& e) {
  auto a = path({65001, 4200000001}, "192.0.2.1", {65001u << 16 | 100});
  e.apply_routes(announce("127.0.0.2", a, {{"10.0.0.0", 8}}));
  auto b = path({65001, 64700, 4200000002}, "192.0.2.9", {65001u << 16 | 100, 65001u << 16 | 200},
                {{4200000002, 1, 2}});
  b.flags = bgp_path_attributes::has_local_pref | bgp_path_attributes::has_med;
  b.local_pref = 200;
  b.med = 50;
  e.apply_routes(announce("127.0.0.2", b, {{"10.1.0.0", 16}}));
  e.apply_routes(
      announce("127.0.0.2", path({65001, 4200000003}, "2001:db8::1"), {{"2001:db8:100::", 40}}));
}

} // namespace

BOOST_AUTO_TEST_CASE(a_flow_takes_the_attributes_of_the_longest_match_of_its_exporters_neighbor) {
  flow_enricher e{bgp_on()};
  load_routes(e);
  flow_batch batch;
  batch.records = {flow("127.0.0.2", "198.51.100.7", "10.1.2.3")};
  batch.records[0].src_as = 64512;
  batch.records[0].dst_as = 64999;
  batch.records[0].src_mask = 24;
  e.enrich(batch);
  auto& r = batch.records[0];
  BOOST_TEST(r.dst_as == 4200000002u);
  BOOST_TEST(r.dst_peer_as == 65001u);
  BOOST_TEST(r.dst_mask == 16);
  BOOST_TEST(r.bgp_next_hop.to_string() == "192.0.2.9");
  BOOST_TEST(batch.label(r.as_path) == "65001_64700_4200000002");
  BOOST_TEST(batch.label(r.communities) == "65001:100_65001:200");
  BOOST_TEST(batch.label(r.large_communities) == "4200000002:1:2");
  BOOST_TEST(batch.label(r.extended_communities) == "");
  BOOST_TEST(r.local_pref == 200u);
  BOOST_TEST(r.med == 50u);
  // No route for the source: the export's values stay.
  BOOST_TEST(r.src_as == 64512u);
  BOOST_TEST(r.src_peer_as == 0u);
  BOOST_TEST(r.src_mask == 24);
}

BOOST_AUTO_TEST_CASE(source_and_ipv6_addresses_match_routes_too) {
  flow_enricher e{bgp_on()};
  load_routes(e);
  flow_batch batch;
  batch.records = {flow("127.0.0.2", "10.200.0.1", "10.1.0.1"),
                   flow("127.0.0.2", "2001:db8:1::1", "2001:db8:100:ff::1")};
  e.enrich(batch);
  auto& v4 = batch.records[0];
  BOOST_TEST(v4.src_as == 4200000001u);
  BOOST_TEST(v4.src_peer_as == 65001u);
  BOOST_TEST(v4.src_mask == 8);
  // The source route's own attributes (nfacctd's *_src keys).
  BOOST_TEST(batch.label(v4.src_as_path) == "65001_4200000001");
  BOOST_TEST(batch.label(v4.src_communities) == "65001:100");
  BOOST_TEST(batch.label(v4.src_large_communities) == "");
  // ... and the destination route's, which differ.
  BOOST_TEST(batch.label(v4.as_path) == "65001_64700_4200000002");
  BOOST_TEST(v4.local_pref == 200u);
  BOOST_TEST(v4.src_local_pref == 0u);
  BOOST_TEST(v4.src_med == 0u);
  auto& v6 = batch.records[1];
  BOOST_TEST(v6.src_as == 0u);
  BOOST_TEST(v6.dst_as == 4200000003u);
  BOOST_TEST(v6.dst_mask == 40);
  BOOST_TEST(v6.bgp_next_hop.to_string() == "2001:db8::1");
  BOOST_TEST(batch.label(v6.as_path) == "65001_4200000003");
  BOOST_TEST(v6.src_as_path == 0u); // no route for the source
}

BOOST_AUTO_TEST_CASE(prefer_export_keeps_the_exported_as_numbers_and_fills_only_zeros) {
  flow_enricher e{bgp_on(bgp_as_mode::prefer_export)};
  load_routes(e);
  flow_batch batch;
  batch.records = {flow("127.0.0.2", "10.200.0.1", "10.1.0.1")};
  batch.records[0].dst_as = 64999;
  e.enrich(batch);
  BOOST_TEST(batch.records[0].dst_as == 64999u);
  BOOST_TEST(batch.records[0].src_as == 4200000001u);
  BOOST_TEST(batch.records[0].dst_peer_as == 65001u);
}

BOOST_AUTO_TEST_CASE(exporters_map_to_neighbors_by_address_exporters_list_or_router_id) {
  flow_enricher e{
      bgp_on(bgp_as_mode::prefer_bgp, {{addr("127.0.0.2"), {prefix("203.0.113.0/29")}}})};
  load_routes(e);
  auto with_id = announce("127.0.0.3", path({65010}, "192.0.2.3"), {{"10.1.0.0", 16}});
  with_id.router_id = 0x0a090807; // 10.9.8.7
  e.apply_routes(with_id);
  flow_batch batch;
  batch.records = {
      flow("203.0.113.5", "1.1.1.1", "10.1.0.1"), flow("10.9.8.7", "1.1.1.1", "10.1.0.1"),
      flow("127.0.0.3", "1.1.1.1", "10.1.0.1"), flow("203.0.113.9", "1.1.1.1", "10.1.0.1")};
  e.enrich(batch);
  BOOST_TEST(batch.records[0].dst_as == 4200000002u);
  BOOST_TEST(batch.records[1].dst_as == 65010u);
  BOOST_TEST(batch.records[2].dst_as == 65010u);
  BOOST_TEST(batch.records[3].dst_as == 0u);
  BOOST_TEST(batch.records[3].as_path == 0u);
  std::vector<counter_value> counters;
  e.collect(counters);
  auto value = [&](const char* name) {
    for (auto& c : counters)
      if (c.name == name)
        return c.value;
    return uint64_t(999);
  };
  BOOST_TEST(value("enricher_bgp_no_neighbor_total") == 1u);
  BOOST_TEST(value("enricher_bgp_dst_matches_total") == 3u);
  BOOST_TEST(value("enricher_bgp_routes") == 4u);
}

BOOST_AUTO_TEST_CASE(route_changes_between_batches_change_the_next_batch_only) {
  flow_enricher e{bgp_on()};
  load_routes(e);
  flow_batch first;
  first.records = {flow("127.0.0.2", "1.1.1.1", "10.1.0.1")};
  e.enrich(first);
  BOOST_TEST(first.records[0].dst_mask == 16);
  bgp_route_batch withdraw;
  withdraw.neighbor = addr("127.0.0.2");
  withdraw.withdrawn.push_back({addr("10.1.0.0"), 16, 0, 0});
  e.apply_routes(withdraw);
  flow_batch second;
  second.records = {flow("127.0.0.2", "1.1.1.1", "10.1.0.1")};
  e.enrich(second);
  BOOST_TEST(second.records[0].dst_mask == 8);
  BOOST_TEST(second.records[0].dst_as == 4200000001u);
  BOOST_TEST(second.label(second.records[0].as_path) == "65001_4200000001");
  BOOST_TEST(first.label(first.records[0].as_path) == "65001_64700_4200000002");
  bgp_route_batch reset;
  reset.neighbor = addr("127.0.0.2");
  reset.reset = true;
  e.apply_routes(reset);
  flow_batch third;
  third.records = {flow("127.0.0.2", "1.1.1.1", "10.1.0.1")};
  e.enrich(third);
  BOOST_TEST(third.records[0].dst_as == 0u);
  BOOST_TEST(e.routes().size() == 0u);
}

BOOST_AUTO_TEST_CASE(records_of_an_exporter_without_routes_after_route_changes_take_nothing) {
  // The first batch's matches point into the RIB's attribute sets; new
  // routes then move those sets. A second batch whose exporter has no
  // neighbor must not look at the first batch's matches (ASan saw the
  // enricher read them, freed, in the cluster test).
  flow_enricher e{bgp_on()};
  load_routes(e);
  flow_batch first;
  for (int i = 0; i < 64; ++i)
    first.records.push_back(flow("127.0.0.2", "10.1.0.1", "10.2.0.1"));
  e.enrich(first);
  BOOST_TEST(first.records[63].dst_as == 4200000001u);
  for (uint32_t i = 0; i < 64; ++i) {
    auto a = path({65001, 64800 + i}, "192.0.2.1");
    auto network = "10.3." + std::to_string(i) + ".0";
    e.apply_routes(announce("127.0.0.2", a, {{network.c_str(), 24}}));
  }
  flow_batch second;
  for (int i = 0; i < 64; ++i)
    second.records.push_back(flow("127.0.0.9", "10.1.0.1", "10.2.0.1"));
  e.enrich(second);
  for (auto& r : second.records) {
    BOOST_TEST(r.dst_as == 0u);
    BOOST_TEST(r.as_path == 0u);
  }
  BOOST_TEST(second.labels.tables.size() == 0u);
  std::vector<counter_value> counters;
  e.collect(counters);
  auto no_neighbor = std::find_if(counters.begin(), counters.end(), [](auto& c) {
    return c.name == "enricher_bgp_no_neighbor_total";
  });
  BOOST_REQUIRE(no_neighbor != counters.end());
  BOOST_TEST(no_neighbor->value == 64u);
}

BOOST_AUTO_TEST_CASE(records_reference_each_routes_texts_once_and_the_batch_outlives_the_rib) {
  flow_batch batch;
  {
    flow_enricher e{bgp_on()};
    load_routes(e);
    batch.records = {flow("127.0.0.2", "10.1.0.1", "10.1.0.2"),
                     flow("127.0.0.2", "10.2.0.1", "10.1.0.3"),
                     flow("127.0.0.2", "10.1.0.4", "10.9.0.1")};
    e.enrich(batch);
  } // the enricher and its RIB are gone; the batch keeps the texts alive
  // Two attribute sets matched (the /16's and the /8's), each referenced
  // once, none copied into the batch's own texts.
  BOOST_TEST(batch.labels.tables.size() == 2u);
  BOOST_TEST(batch.labels.text == "");
  const auto& r = batch.records;
  BOOST_TEST(r[0].as_path == r[0].src_as_path);
  BOOST_TEST(r[0].as_path == r[1].as_path);
  BOOST_TEST(r[1].src_as_path == r[2].as_path);
  BOOST_TEST(batch.label(r[0].src_as_path) == "65001_64700_4200000002");
  BOOST_TEST(batch.label(r[0].src_large_communities) == "4200000002:1:2");
  BOOST_TEST(batch.label(r[1].src_as_path) == "65001_4200000001");
  BOOST_TEST(batch.label(r[2].communities) == "65001:100");
  BOOST_TEST(r[2].large_communities == 0u); // an empty text is no label
  BOOST_TEST(r[2].extended_communities == 0u);
}

BOOST_AUTO_TEST_CASE(the_json_line_has_the_bgp_keys_after_as_dst_when_asked) {
  flow_enricher e{bgp_on()};
  load_routes(e);
  flow_batch batch;
  batch.records = {flow("127.0.0.2", "10.200.0.1", "10.1.0.1")};
  e.enrich(batch);
  std::string with, without;
  json_encoder{json_encoder::options{false, true}}.encode(batch.records[0], batch.labels, with);
  json_encoder{}.encode(batch.records[0], batch.labels, without);
  auto from = with.find("\"as_src\"");
  auto to = with.find(", \"iface_in\"");
  BOOST_TEST(with.substr(from, to - from) ==
             "\"as_src\": 4200000001, \"as_dst\": 4200000002, \"comms\": \"65001:100_65001:200\", "
             "\"ecomms\": \"\", \"lcomms\": \"4200000002:1:2\", \"as_path\": \"65001_64700_"
             "4200000002\", \"local_pref\": 200, \"med\": 50, \"peer_as_src\": 65001, "
             "\"peer_as_dst\": 65001, \"peer_ip_src\": \"127.0.0.2\", \"peer_ip_dst\": "
             "\"192.0.2.9\", \"comms_src\": \"65001:100\", \"ecomms_src\": \"\", \"lcomms_src\": "
             "\"\", \"as_path_src\": \"65001_4200000001\", \"local_pref_src\": 0, \"med_src\": 0");
  BOOST_TEST(without.find("comms") == std::string::npos);
  BOOST_TEST(without.find("\"as_dst\": 4200000002, \"peer_ip_src\"") != std::string::npos);
}
