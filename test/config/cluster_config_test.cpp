#define BOOST_TEST_MODULE cluster_config
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "config/config.hpp"
#include "config/config_errors.hpp"

using namespace tidewatch;

namespace {

/// A config with netflow, sflow and BGP enabled; `nodes` is the list under
/// cluster.nodes, from line 13 on.
std::string cluster_yaml(const std::string& node_name, const std::string& nodes) {
  return "node:\n  name: " + node_name +
         "\n"                                                // line 2
         "pipelines:\n"                                      // 3
         "  sflow:\n"                                        // 4
         "    enabled: true\n"                               // 5
         "    enrichment: {prefix_file: /etc/tw/ours.txt}\n" // 6
         "bgp:\n"                                            // 7
         "  enabled: true\n"                                 // 8
         "  local_as: 65000\n"                               // 9
         "  router_id: 192.0.2.10\n"                         // 10
         "cluster:\n"                                        // 11
         "  nodes:\n" +                                      // 12
         nodes;
}

const std::string three_nodes = "    - {name: a, inspector: \"127.0.0.1:7001\", roles: [netflow]}\n"
                                "    - {name: b, inspector: \"127.0.0.1:7002\", roles: [sflow]}\n"
                                "    - name: c\n"
                                "      inspector: \"127.0.0.1:7003\"\n"
                                "      metrics: \"127.0.0.1:9003\"\n"
                                "      roles: [bgp]\n";

/// The errors for `yaml` read as cluster.yaml, as node `node_name` when given.
std::vector<std::string> errors_of(const std::string& yaml, const std::string& node_name = {}) {
  return test::config_errors(yaml, "cluster.yaml", node_name);
}

void expect_single_error(const std::string& yaml, const std::string& expected) {
  test::expect_single_config_error(yaml, "cluster.yaml", expected);
}

} // namespace

BOOST_AUTO_TEST_CASE(each_node_of_a_cluster_runs_only_the_roles_placed_on_it) {
  for (auto [name, netflow, sflow, bgp] :
       {std::tuple{"a", true, false, false}, std::tuple{"b", false, true, false},
        std::tuple{"c", false, false, true}}) {
    tidewatch_config cfg;
    auto errors = parse_config(cluster_yaml("a", three_nodes), "cluster.yaml", cfg, name);
    BOOST_REQUIRE(errors.empty());
    BOOST_TEST(cfg.node.name == name);
    BOOST_TEST(runs_role(cfg, "netflow") == netflow);
    BOOST_TEST(runs_role(cfg, "sflow") == sflow);
    BOOST_TEST(runs_role(cfg, "bgp") == bgp);
    BOOST_REQUIRE(this_cluster_node(cfg) != nullptr);
    BOOST_TEST(this_cluster_node(cfg)->name == name);
    BOOST_REQUIRE(cluster_node_running(cfg, "bgp") != nullptr);
    BOOST_TEST(cluster_node_running(cfg, "bgp")->inspector == "127.0.0.1:7003");
    BOOST_TEST(cluster_node_running(cfg, "bgp")->metrics == "127.0.0.1:9003");
  }
}

BOOST_AUTO_TEST_CASE(without_a_cluster_one_node_runs_every_enabled_role) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config("pipelines:\n  sflow:\n    enabled: true\n"
                             "    enrichment: {prefix_file: /etc/tw/ours.txt}\n",
                             "x.yaml", cfg)
                    .empty());
  BOOST_TEST(runs_role(cfg, "netflow"));
  BOOST_TEST(runs_role(cfg, "sflow"));
  BOOST_TEST(!runs_role(cfg, "bgp"));
  BOOST_TEST(this_cluster_node(cfg) == nullptr);
  BOOST_TEST(cluster_node_running(cfg, "netflow") == nullptr);
}

BOOST_AUTO_TEST_CASE(the_retry_and_grace_times_default_to_half_a_second_30_s_and_5_min) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config(cluster_yaml("a", three_nodes), "cluster.yaml", cfg).empty());
  BOOST_TEST(cfg.cluster.retry_initial.count() == 500);
  BOOST_TEST(cfg.cluster.retry_max.count() == 30'000);
  BOOST_TEST(cfg.cluster.bgp_stale_time.count() == 300'000);
  // The effective config reads back as the same config.
  tidewatch_config again;
  BOOST_REQUIRE(parse_config(render_config(cfg), "rendered.yaml", again).empty());
  BOOST_TEST(render_config(again) == render_config(cfg));
}

BOOST_AUTO_TEST_CASE(an_unknown_role_is_reported_with_its_line) {
  auto nodes = three_nodes;
  nodes.replace(nodes.find("[sflow]"), 7, "[sflow, dns]");
  auto errors = errors_of(cluster_yaml("a", nodes));
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(
      errors[0] ==
      "cluster.yaml:14: cluster.nodes[1].roles[1]: 'dns' is not one of: netflow, sflow, bgp");
}

BOOST_AUTO_TEST_CASE(a_role_placed_twice_names_the_node_that_has_it) {
  auto nodes = three_nodes + "    - {name: d, inspector: \"127.0.0.1:7004\", roles: [sflow]}\n";
  expect_single_error(cluster_yaml("a", nodes),
                      "cluster.yaml:19: cluster.nodes[3].roles[0]: role 'sflow' is already placed "
                      "on node 'b'");
}

BOOST_AUTO_TEST_CASE(a_node_name_not_in_the_cluster_is_reported) {
  auto errors = errors_of(cluster_yaml("a", three_nodes), "z");
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0] == "cluster.yaml:2: node.name: 'z' is not in cluster.nodes (a, b, c): set "
                          "node.name or start tidewatchd with --node NAME");
}

BOOST_AUTO_TEST_CASE(an_inspector_beyond_loopback_needs_tls) {
  auto nodes = three_nodes;
  nodes.replace(nodes.find("127.0.0.1:7002"), 14, "10.0.0.12:7790");
  expect_single_error(cluster_yaml("a", nodes),
                      "cluster.yaml:14: cluster.nodes[1].inspector: '10.0.0.12' is not loopback: "
                      "nodes talk over TLS there; set node.inspector.certificate, key and ca_file");
  auto with_tls = cluster_yaml("a", nodes) + "\n";
  with_tls.insert(with_tls.find("pipelines:"),
                  "  inspector: {certificate: /etc/tw/n.pem, key: /etc/tw/n.key, "
                  "ca_file: /etc/tw/ca.pem}\n");
  BOOST_TEST(errors_of(with_tls).empty());
}

BOOST_AUTO_TEST_CASE(a_node_needs_a_fixed_inspector_port_a_unique_name_and_a_role) {
  auto nodes = three_nodes;
  nodes.replace(nodes.find("inspector: \"127.0.0.1:7001\", "), 29, "");
  expect_single_error(cluster_yaml("a", nodes),
                      "cluster.yaml:13: cluster.nodes[0].inspector: a node needs its inspector's "
                      "host:port (a fixed port: the other nodes connect to it)");
  // The duplicate role is reported too, at the same node.
  auto errors =
      errors_of(cluster_yaml("a", three_nodes + "    - {name: b, inspector: \"127.0.0.1:0\", "
                                                "roles: []}\n"));
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  BOOST_TEST(errors[0] == "cluster.yaml:19: cluster.nodes[3].name: node name 'b' is used twice");
  BOOST_TEST(errors[1] == "cluster.yaml:19: cluster.nodes[3].inspector: a node needs its "
                          "inspector's host:port (a fixed port: the other nodes connect to it)");
  BOOST_TEST(errors[2] == "cluster.yaml:19: cluster.nodes[3].roles: a node needs at least one role "
                          "(netflow, sflow, bgp)");
}

BOOST_AUTO_TEST_CASE(an_enabled_role_no_node_runs_and_a_placed_role_not_enabled_are_reported) {
  auto nodes = three_nodes;
  nodes.replace(nodes.find("[sflow]"), 7, "[]");
  nodes.replace(nodes.find("roles: []"), 9, "roles: [netflow]");
  auto yaml = cluster_yaml("a", nodes);
  yaml.replace(yaml.find("  enabled: true\n  local_as"), 15, "  enabled: false");
  auto errors = errors_of(yaml);
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  BOOST_TEST(errors[0] == "cluster.yaml:14: cluster.nodes[1].roles[0]: role 'netflow' is already "
                          "placed on node 'a'");
  BOOST_TEST(errors[1] == "cluster.yaml:18: cluster.nodes[2].roles[0]: role 'bgp' needs "
                          "bgp.enabled: true");
  BOOST_TEST(errors[2] == "cluster.yaml:12: cluster.nodes: pipelines.sflow is enabled but no node "
                          "runs role 'sflow'");
}

BOOST_AUTO_TEST_CASE(the_cluster_example_is_valid_for_each_of_its_nodes) {
  auto path = std::filesystem::path(std::getenv("TIDEWATCH_SOURCE_DIR")) / "config" / "examples" /
              "cluster.yaml";
  for (auto [name, netflow, sflow, bgp] :
       {std::tuple{"collector-a", true, false, false},
        std::tuple{"collector-b", false, true, false}, std::tuple{"route-1", false, false, true}}) {
    tidewatch_config cfg;
    auto errors = load_config_file(path.string(), cfg, name);
    for (auto& e : errors)
      BOOST_ERROR(e.to_string());
    BOOST_TEST(runs_role(cfg, "netflow") == netflow);
    BOOST_TEST(runs_role(cfg, "sflow") == sflow);
    BOOST_TEST(runs_role(cfg, "bgp") == bgp);
  }
}
