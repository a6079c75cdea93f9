#define BOOST_TEST_MODULE message_roundtrip
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/atoms.hpp"
#include "messages/datagram.hpp"
#include "messages/detector.hpp"
#include "messages/flow.hpp"
#include "messages/inspector.hpp"
#include "messages/stats.hpp"
#include "messages/type_ids.hpp"

using namespace tidewatch;
using namespace std::chrono_literals;

namespace {

struct node_config : caf::actor_system_config {
  node_config() {
    load<caf::io::middleman>();
    register_message_types(*this);
  }
};

/// Replies with whatever it receives, so the test sees each value after a
/// serialize / deserialize round trip in both directions. A class rather than
/// a function: CAF 0.17 spawns argument-less function actors through a null
/// shared_ptr<tuple<>>, which UBSan rightly reports.
class echo : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
        [](const flow_batch& x) { return x; },     [](const datagram_batch& x) { return x; },
        [](const stats_snapshot& x) { return x; }, [](const attack_list& x) { return x; },
        [](const top_hosts& x) { return x; },
    };
  }
};

struct two_nodes {
  node_config server_cfg;
  caf::actor_system server{server_cfg};
  node_config client_cfg;
  caf::actor_system client{client_cfg};
  caf::scoped_actor self{client};
  caf::actor remote_echo;

  two_nodes() {
    auto local = server.spawn<echo>();
    auto port = server.middleman().publish(local, 0, "127.0.0.1");
    BOOST_REQUIRE(port);
    auto hdl = client.middleman().remote_actor("127.0.0.1", *port);
    BOOST_REQUIRE(hdl);
    remote_echo = *hdl;
  }
  ~two_nodes() { caf::anon_send_exit(remote_echo, caf::exit_reason::user_shutdown); }

  template <class T> T round_trip(const T& value) {
    T result;
    self->request(remote_echo, 5s, value)
        .receive([&](T& x) { result = std::move(x); },
                 [&](caf::error& e) { BOOST_FAIL("round trip failed: " << client.render(e)); });
    return result;
  }
};

flow_record sample_record() {
  flow_record r;
  r.exporter = ip_address::from_v4(0xC0000201); // 192.0.2.1
  r.observation_domain = 7;
  r.received_us = 1'700'000'000'123'456;
  r.protocol_version = export_protocol::ipfix;
  ip_address::parse("2001:db8::1", r.src_addr);
  ip_address::parse("2001:db8::2", r.dst_addr);
  r.src_port = 443;
  r.dst_port = 51000;
  r.ip_protocol = 6;
  r.ip_version = 6;
  r.tcp_flags = 0x12;
  r.tos = 0x28;
  r.bytes = 1'234'567'890'123ull;
  r.packets = 987654;
  r.input_interface = 11;
  r.output_interface = 12;
  r.src_as = 4200000001u;
  r.dst_as = 64500;
  r.src_mask = 48;
  r.dst_mask = 64;
  r.direction = flow_direction::egress;
  r.next_hop = ip_address::from_v4(0xC0000202);
  r.src_vlan = 100;
  r.dst_vlan = 200;
  r.src_mac = 0x0011223344556677ull & 0xffffffffffffull;
  r.flow_start_us = 1'700'000'000'000'000;
  r.flow_end_us = 1'700'000'001'000'000;
  r.sampler_id = 3;
  r.sampling_rate = 1000;
  r.sample_pool = 123456;
  r.scope = traffic_scope::outbound;
  r.rate_source = sampling_source::exported;
  r.src_net_length = 48;
  r.src_country = country_code('N', 'L');
  r.dst_country = country_code('U', 'S');
  r.src_net_name = 1;
  r.src_as_name = 2;
  r.region = 3;
  return r;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(a_flow_batch_crosses_two_nodes_unchanged, two_nodes) {
  flow_batch batch{"netflow", std::vector<flow_record>(300, sample_record()), {}};
  for (auto* label : {"dc-1", "Example Org", "eu-west"})
    batch.labels.add(label);
  batch.records[299].dst_port = 9;
  auto back = round_trip(batch);
  BOOST_TEST(back.records.size() == 300u);
  BOOST_TEST(back.records[299].dst_port == 9);
  BOOST_TEST(back.records[0].src_addr.to_string() == "2001:db8::1");
  BOOST_TEST(back.label(back.records[0].src_as_name) == "Example Org");
  BOOST_CHECK(back == batch);
}

BOOST_FIXTURE_TEST_CASE(a_flow_batch_takes_the_texts_of_its_shared_labels_across, two_nodes) {
  auto names = std::make_shared<label_table>();
  for (auto* label : {"First Org", "Second Org"})
    names->add(label);
  flow_batch batch{"netflow", std::vector<flow_record>(2, sample_record()), {}};
  auto sites = std::make_shared<label_table>();
  sites->add("dc1");
  batch.labels.shared[1] = names;
  batch.labels.shared[2] = sites;
  batch.records[0].src_as_name = label_table::shared_index(1, 2);
  batch.records[1].src_as_name = label_table::shared_index(0, 1); // no table 0: empty
  batch.records[1].dst_net_name = label_table::shared_index(2, 1);
  auto back = round_trip(batch);
  BOOST_TEST(back.label(back.records[0].src_as_name) == "Second Org");
  BOOST_TEST(back.label(back.records[1].src_as_name) == "");
  BOOST_TEST(back.label(back.records[1].dst_net_name) == "dc1");
  BOOST_TEST(!back.labels.shared[0]);
  BOOST_REQUIRE(back.labels.shared[1]);
  BOOST_TEST(back.labels.shared[1] != names); // a copy on this side
  BOOST_CHECK(back == batch);
}

BOOST_FIXTURE_TEST_CASE(a_flow_batch_takes_the_texts_of_its_attached_tables_across, two_nodes) {
  auto route = std::make_shared<label_table>();
  for (auto* label : {"64500_15169", "", "", "4200000001:1:2"})
    route->add(label);
  flow_batch batch{"netflow", std::vector<flow_record>(2, sample_record()), {}};
  batch.labels.add("dc-1");
  batch.labels.tables = {route, route};
  batch.records[0].as_path = label_table::table_index(1, 1);
  batch.records[1].large_communities = label_table::table_index(0, 4);
  batch.records[1].as_path = label_table::table_index(2, 1); // no table 2: empty
  auto back = round_trip(batch);
  BOOST_TEST(back.label(back.records[0].as_path) == "64500_15169");
  BOOST_TEST(back.label(back.records[1].large_communities) == "4200000001:1:2");
  BOOST_TEST(back.label(back.records[1].as_path) == "");
  BOOST_TEST(back.label(back.records[0].src_net_name) == "dc-1");
  BOOST_REQUIRE(back.labels.tables.size() == 2u);
  BOOST_TEST(back.labels.tables[0] != route); // a copy on this side
  BOOST_CHECK(back == batch);
}

BOOST_FIXTURE_TEST_CASE(a_datagram_batch_crosses_two_nodes_unchanged, two_nodes) {
  datagram_batch batch;
  uint8_t first[] = {0, 5, 0, 1, 2, 3};
  uint8_t second[] = {0, 10, 9, 9};
  datagram_info meta;
  meta.exporter = ip_address::from_v4(0x7F000002);
  meta.exporter_port = 40000;
  meta.local_port = 2055;
  meta.received_us = 42;
  batch.add(first, sizeof(first), meta);
  batch.add(second, sizeof(second), meta);
  auto back = round_trip(batch);
  BOOST_TEST(back.size() == 2u);
  BOOST_TEST(back.datagrams[1].offset == 6u);
  BOOST_TEST(back.datagrams[1].length == 4u);
  BOOST_TEST(back.data(back.datagrams[1])[1] == 10);
  BOOST_TEST(back.datagrams[0].exporter.to_string() == "127.0.0.2");
  BOOST_CHECK(back == batch);
}

BOOST_FIXTURE_TEST_CASE(a_stats_snapshot_crosses_two_nodes_unchanged, two_nodes) {
  stats_snapshot snap{
      "node-a", "netflow", "decoder", 99, {{"records", 1000}, {"errors{reason=\"truncated\"}", 3}}};
  auto back = round_trip(snap);
  BOOST_TEST(back.get("records") == 1000u);
  BOOST_TEST(back.get("errors{reason=\"truncated\"}") == 3u);
  BOOST_CHECK(back == snap);
}

BOOST_FIXTURE_TEST_CASE(detector_answers_cross_two_nodes_unchanged, two_nodes) {
  attack_report a;
  a.id = 7;
  a.address = ip_address::from_v4(0xC0000201);
  a.target = "192.0.2.1/32";
  a.type = "amplification";
  a.service = "ntp";
  a.share_permille = 987;
  a.start_us = 1'700'000'000'000'000;
  a.peak_pps = 123456;
  a.src_ports = {{"123", 5000}, {"53", 7}};
  a.flow_sample = {"203.0.113.9:123 > 192.0.2.1:40000 udp 10 pkts 4680 bytes"};
  a.bpf = "dst host 192.0.2.1 and udp and src port 123";
  attack_list list{{a, a}};
  list.attacks[1].id = 8;
  auto back = round_trip(list);
  BOOST_TEST(back.attacks.size() == 2u);
  BOOST_TEST(back.attacks[1].id == 8u);
  BOOST_TEST(back.attacks[0].src_ports[0].packets == 5000u);
  BOOST_CHECK(back == list);
  top_hosts top{"pps", "in", 42, 3, {{a.address, "customers", 1, 2, 3, 4, 5, 6}}};
  auto top_back = round_trip(top);
  BOOST_TEST(top_back.hosts[0].hostgroup == "customers");
  BOOST_CHECK(top_back == top);
}
