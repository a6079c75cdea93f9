#define BOOST_TEST_MODULE config_validation
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "config/config_errors.hpp"

using namespace tidewatch;

namespace {

/// The errors for `yaml` read as node.yaml.
std::vector<std::string> errors_of(const std::string& yaml) {
  return test::config_errors(yaml, "node.yaml");
}

void expect_single_error(const std::string& yaml, const std::string& expected) {
  test::expect_single_config_error(yaml, "node.yaml", expected);
}

} // namespace

BOOST_AUTO_TEST_CASE(an_empty_config_is_the_default_single_node_setup) {
  tidewatch_config cfg;
  BOOST_TEST(parse_config("", "empty.yaml", cfg).empty());
  BOOST_TEST(render_config(cfg) == render_config(default_config()));
  auto& nf = cfg.pipelines.netflow;
  BOOST_TEST(nf.enabled);
  BOOST_REQUIRE_EQUAL(nf.listeners.size(), 2u);
  BOOST_TEST(nf.listeners[0].port == 2055);
  BOOST_TEST(nf.listeners[1].port == 4739);
  BOOST_REQUIRE_EQUAL(nf.sinks.size(), 1u);
  BOOST_TEST(nf.sinks[0].path == "/var/lib/tidewatch/flows/netflow.json");
  BOOST_TEST(nf.decoder.template_file == "/var/lib/tidewatch/netflow-templates.bin");
}

BOOST_AUTO_TEST_CASE(state_dir_moves_the_default_paths_with_it) {
  tidewatch_config cfg;
  BOOST_TEST(parse_config("node:\n  state_dir: /srv/tw\n", "x.yaml", cfg).empty());
  BOOST_TEST(cfg.pipelines.netflow.sinks[0].path == "/srv/tw/flows/netflow.json");
  BOOST_TEST(cfg.pipelines.netflow.decoder.template_file == "/srv/tw/netflow-templates.bin");
}

BOOST_AUTO_TEST_CASE(values_with_units_are_read) {
  tidewatch_config cfg;
  auto errors = parse_config("supervision:\n  window: 2m\n  backoff_initial: 250ms\n"
                             "pipelines:\n  netflow:\n    receive_buffer_bytes: 64MiB\n"
                             "    sinks:\n      - type: stdout\n",
                             "x.yaml", cfg);
  BOOST_TEST(errors.empty());
  BOOST_TEST(cfg.supervision.window.count() == 120'000);
  BOOST_TEST(cfg.supervision.backoff_initial.count() == 250);
  BOOST_TEST(cfg.pipelines.netflow.receive_buffer_bytes == 64ull << 20);
  BOOST_TEST(cfg.pipelines.netflow.sinks[0].type == "stdout");
}

BOOST_AUTO_TEST_CASE(the_rendered_config_parses_back_to_itself) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config("node:\n  name: edge-1\npipelines:\n  netflow:\n"
                             "    allowed_exporters: [192.0.2.0/24, 2001:db8::1]\n",
                             "x.yaml", cfg)
                    .empty());
  tidewatch_config again;
  auto text = render_config(cfg);
  BOOST_TEST(parse_config(text, "rendered.yaml", again).empty());
  BOOST_TEST(render_config(again) == text);
  BOOST_TEST(again.pipelines.netflow.allowed_exporters.size() == 2u);
}

// -- bad input: each kind with its exact message ------------------------------------

BOOST_AUTO_TEST_CASE(an_unknown_key_is_reported_with_a_suggestion) {
  expect_single_error("node:\n  nmae: x\n",
                      "node.yaml:2: node.nmae: unknown key (did you mean 'name'?)");
}

BOOST_AUTO_TEST_CASE(an_unknown_top_level_section_is_reported) {
  expect_single_error("logging:\n  level: info\nclustre: {}\n",
                      "node.yaml:3: clustre: unknown key (did you mean 'cluster'?)");
}

BOOST_AUTO_TEST_CASE(a_string_where_a_number_belongs_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    receive_threads: many\n",
                      "node.yaml:3: pipelines.netflow.receive_threads: expected a whole number, "
                      "got 'many'");
}

BOOST_AUTO_TEST_CASE(a_port_out_of_range_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    listeners:\n      - port: 70000\n",
                      "node.yaml:4: pipelines.netflow.listeners[0].port: '70000' is out of range "
                      "(0 to 65535)");
}

BOOST_AUTO_TEST_CASE(port_zero_is_rejected) {
  expect_single_error(
      "pipelines:\n  netflow:\n    listeners:\n      - {address: 127.0.0.1, port: 0}\n",
      "node.yaml:4: pipelines.netflow.listeners[0].port: '0' is out of range "
      "(1 to 65535)");
}

BOOST_AUTO_TEST_CASE(a_negative_count_is_reported) {
  expect_single_error("supervision:\n  max_restarts: -3\n",
                      "node.yaml:2: supervision.max_restarts: '-3' is out of range (0 to "
                      "4294967295)");
}

BOOST_AUTO_TEST_CASE(a_bad_boolean_is_reported) {
  expect_single_error("logging:\n  syslog: maybe\n",
                      "node.yaml:2: logging.syslog: expected true or false, got 'maybe'");
}

BOOST_AUTO_TEST_CASE(a_value_outside_its_choices_is_reported) {
  expect_single_error("logging:\n  level: loud\n",
                      "node.yaml:2: logging.level: 'loud' is not one of: trace, debug, info, "
                      "warn, error, critical, off");
}

BOOST_AUTO_TEST_CASE(a_duration_without_unit_is_reported) {
  expect_single_error("supervision:\n  window: 60\n",
                      "node.yaml:2: supervision.window: expected a duration with a unit (ms, s, "
                      "m, h, d) such as 500ms or 5s, got '60'");
}

BOOST_AUTO_TEST_CASE(a_duration_out_of_range_is_reported) {
  expect_single_error("supervision:\n  window: 10ms\n",
                      "node.yaml:2: supervision.window: '10ms' is out of range (1s to 24h)");
}

BOOST_AUTO_TEST_CASE(a_bad_size_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    receive_buffer_bytes: 12 parsecs\n",
                      "node.yaml:3: pipelines.netflow.receive_buffer_bytes: expected a size such "
                      "as 4096, 64KiB or 32MiB, got '12 parsecs'");
}

BOOST_AUTO_TEST_CASE(a_bad_exporter_prefix_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    allowed_exporters:\n      - 192.0.2.0/33\n",
                      "node.yaml:4: pipelines.netflow.allowed_exporters[0]: '192.0.2.0/33' is not "
                      "an IP address or prefix");
}

BOOST_AUTO_TEST_CASE(a_bad_listen_address_is_reported) {
  expect_single_error(
      "pipelines:\n  netflow:\n    listeners:\n      - {address: localhost, port: 2055}\n",
      "node.yaml:4: pipelines.netflow.listeners[0].address: 'localhost' is not an "
      "IP address");
}

BOOST_AUTO_TEST_CASE(a_list_where_a_mapping_belongs_is_reported) {
  expect_single_error("node:\n  - name\n", "node.yaml:2: node: expected a mapping of keys");
}

BOOST_AUTO_TEST_CASE(a_mapping_where_a_list_belongs_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    listeners:\n      port: 2055\n",
                      "node.yaml:4: pipelines.netflow.listeners: expected a list");
}

BOOST_AUTO_TEST_CASE(a_file_sink_without_path_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: file\n",
                      "node.yaml:4: pipelines.netflow.sinks[0].path: a file sink needs a path");
}

BOOST_AUTO_TEST_CASE(an_unknown_sink_type_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: carrier-pigeon\n",
                      "node.yaml:4: pipelines.netflow.sinks[0].type: 'carrier-pigeon' is not one "
                      "of: file, stdout, kafka");
}

BOOST_AUTO_TEST_CASE(a_kafka_sink_takes_its_keys_and_fills_topic_and_spool_from_the_pipeline) {
  tidewatch_config cfg;
  auto yaml = "node:\n  state_dir: /srv/tw\npipelines:\n  netflow:\n    sinks:\n"
              "      - type: kafka\n        brokers: k1:9092,k2:9092\n        key: src\n"
              "        properties: {acks: all, compression.type: zstd, linger.ms: 5}\n"
              "        queue_max_messages: 5000\n        spool_max_bytes: 64MiB\n"
              "        flush_timeout: 2s\n";
  BOOST_REQUIRE(parse_config(yaml, "node.yaml", cfg).empty());
  BOOST_REQUIRE_EQUAL(cfg.pipelines.netflow.sinks.size(), 1u);
  auto& s = cfg.pipelines.netflow.sinks[0];
  BOOST_TEST(s.brokers == "k1:9092,k2:9092");
  BOOST_TEST(s.topic == "netflow");
  BOOST_TEST(s.key == "src");
  BOOST_TEST(s.properties.size() == 3u);
  BOOST_TEST(s.properties.at("compression.type") == "zstd");
  BOOST_TEST(s.properties.at("linger.ms") == "5");
  BOOST_TEST(s.queue_max_messages == 5000u);
  BOOST_TEST(s.queue_max_bytes == 256ull << 20);
  BOOST_TEST(s.spool_dir == "/srv/tw/netflow-kafka-spool");
  BOOST_TEST(s.spool_max_bytes == 64ull << 20);
  BOOST_TEST(s.flush_timeout.count() == 2000);
  tidewatch_config again;
  BOOST_REQUIRE(parse_config(render_config(cfg), "rendered.yaml", again).empty());
  BOOST_TEST(render_config(again) == render_config(cfg));
}

BOOST_AUTO_TEST_CASE(several_records_per_message_need_a_key_shared_by_many_records) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config("pipelines:\n  netflow:\n    sinks:\n"
                             "      - {type: kafka, brokers: \"k:9092\", key: exporter,"
                             " records_per_message: 500}\n",
                             "node.yaml", cfg)
                    .empty());
  BOOST_TEST(cfg.pipelines.netflow.sinks[0].records_per_message == 500u);
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: kafka\n"
                      "        brokers: k:9092\n        key: src\n"
                      "        records_per_message: 10\n",
                      "node.yaml:7: pipelines.netflow.sinks[0].records_per_message: a message "
                      "holds records of one key: keyed by address, nearly every message would "
                      "hold one record; use key none or exporter");
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: kafka\n"
                      "        brokers: k:9092\n        records_per_message: 0\n",
                      "node.yaml:6: pipelines.netflow.sinks[0].records_per_message: '0' is out "
                      "of range (1 to 100000)");
}

BOOST_AUTO_TEST_CASE(an_unknown_librdkafka_property_is_reported_with_its_line) {
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: kafka\n"
                      "        brokers: 127.0.0.1:9092\n        properties:\n"
                      "          acks: all\n          lingr.ms: 5\n",
                      "node.yaml:8: pipelines.netflow.sinks[0].properties.lingr.ms: No such "
                      "configuration property: \"lingr.ms\"");
}

BOOST_AUTO_TEST_CASE(a_kafka_sink_without_brokers_or_with_a_file_key_is_reported) {
  auto errors = errors_of("pipelines:\n  netflow:\n    sinks:\n      - type: kafka\n"
                          "        path: /tmp/x\n");
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  BOOST_TEST(errors[0].starts_with("node.yaml:5: pipelines.netflow.sinks[0].path: unknown key"));
  BOOST_TEST(errors[1] == "node.yaml:4: pipelines.netflow.sinks[0].brokers: a kafka sink needs "
                          "brokers (host:port, ...)");
}

BOOST_AUTO_TEST_CASE(an_enabled_pipeline_without_listeners_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    listeners: []\n",
                      "node.yaml:3: pipelines.netflow.listeners: an enabled pipeline needs a "
                      "listener");
}

BOOST_AUTO_TEST_CASE(backoff_initial_above_backoff_max_is_reported) {
  expect_single_error("supervision:\n  backoff_initial: 20s\n  backoff_max: 5s\n",
                      "node.yaml:2: supervision.backoff_initial: must not exceed backoff_max (5s)");
}

BOOST_AUTO_TEST_CASE(a_yaml_syntax_error_is_reported_with_its_line) {
  expect_single_error("node:\n  name: [unclosed\n",
                      "node.yaml:3: (document): YAML syntax error: end of sequence flow not found");
}

BOOST_AUTO_TEST_CASE(a_top_level_scalar_is_reported) {
  expect_single_error("just text\n",
                      "node.yaml:1: (document): expected a mapping of sections at the top level");
}

BOOST_AUTO_TEST_CASE(every_problem_in_a_file_is_reported_not_only_the_first) {
  auto errors = errors_of("node:\n  nmae: x\nlogging:\n  level: loud\n  syslog: maybe\n");
  BOOST_TEST(errors.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_reported) {
  tidewatch_config cfg;
  auto errors = load_config_file("/nonexistent/tidewatch.yaml", cfg);
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0].to_string() ==
             "/nonexistent/tidewatch.yaml:0: (file): cannot read: No such file or directory");
}

BOOST_AUTO_TEST_CASE(every_example_config_is_valid) {
  auto dir = std::filesystem::path(std::getenv("TIDEWATCH_SOURCE_DIR")) / "config" / "examples";
  size_t checked = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml")
      continue;
    tidewatch_config cfg;
    auto errors = load_config_file(entry.path().string(), cfg);
    for (auto& e : errors)
      BOOST_ERROR(e.to_string());
    ++checked;
  }
  BOOST_TEST(checked >= 3u);
}

BOOST_AUTO_TEST_CASE(the_sflow_pipeline_is_off_by_default_and_listens_on_6343_once_enabled) {
  tidewatch_config cfg;
  BOOST_TEST(parse_config("node:\n  state_dir: /srv/tw\n", "node.yaml", cfg).empty());
  BOOST_TEST(!cfg.pipelines.sflow.enabled);
  BOOST_TEST(parse_config("node:\n  state_dir: /srv/tw\npipelines:\n  sflow:\n    enabled: true\n"
                          "    enrichment: {prefix_file: /etc/tw/ours.txt}\n",
                          "node.yaml", cfg)
                 .empty());
  auto& sf = cfg.pipelines.sflow;
  BOOST_TEST(sf.enabled);
  BOOST_REQUIRE_EQUAL(sf.listeners.size(), 1u);
  BOOST_TEST(sf.listeners[0].address == "::");
  BOOST_TEST(sf.listeners[0].port == 6343);
  BOOST_REQUIRE_EQUAL(sf.sinks.size(), 1u);
  BOOST_TEST(sf.sinks[0].path == "/srv/tw/flows/sflow.json");
  // Internal traffic only, as the deployment this replaces keeps it.
  BOOST_TEST(sf.sinks[0].scopes == std::vector<std::string>{"internal"});
  BOOST_TEST(cfg.pipelines.netflow.sinks[0].scopes.empty());
  BOOST_TEST(cfg.pipelines.netflow.enabled);
}

BOOST_AUTO_TEST_CASE(selecting_scopes_without_a_prefix_list_is_an_error) {
  expect_single_error("pipelines:\n  sflow:\n    enabled: true\n",
                      "node.yaml:2: pipelines.sflow.sinks[0].scopes: selecting traffic by scope "
                      "needs our prefixes: set pipelines.sflow.enrichment.prefix_file (without it "
                      "every record is external)");
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: stdout\n"
                      "        scopes: [external, bogus]\n",
                      "node.yaml:5: pipelines.netflow.sinks[0].scopes[1]: 'bogus' is not one of: "
                      "inbound, outbound, internal, external, unknown");
}

BOOST_AUTO_TEST_CASE(sflow_pipeline_errors_name_the_sflow_keys) {
  expect_single_error(
      "pipelines:\n  sflow:\n    enabled: true\n    listeners: []\n"
      "    enrichment: {prefix_file: /etc/tw/ours.txt}\n",
      "node.yaml:4: pipelines.sflow.listeners: an enabled pipeline needs a listener");
}

BOOST_AUTO_TEST_CASE(counter_records_go_to_sinks_of_the_sflow_pipeline_only) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config("pipelines:\n  sflow:\n    enabled: true\n"
                             "    enrichment: {prefix_file: /x}\n    sinks:\n"
                             "      - {type: file, path: /c.json, records: counters}\n"
                             "      - {type: file, path: /f.json}\n",
                             "node.yaml", cfg)
                    .empty());
  BOOST_TEST(cfg.pipelines.sflow.sinks[0].records == "counters");
  BOOST_TEST(cfg.pipelines.sflow.sinks[0].scopes.empty()); // no default scope for counters
  BOOST_TEST(cfg.pipelines.sflow.sinks[1].records == "flows");
  BOOST_TEST((cfg.pipelines.sflow.sinks[1].scopes == std::vector<std::string>{"internal"}));
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: file\n"
                      "        path: /c.json\n        records: counters\n",
                      "node.yaml:6: pipelines.netflow.sinks[0].records: counter records come "
                      "from sFlow counter samples: only the sflow pipeline has them");
  expect_single_error("pipelines:\n  sflow:\n    enabled: true\n"
                      "    enrichment: {prefix_file: /x}\n    sinks:\n"
                      "      - {type: kafka, brokers: \"k:9092\", records: counters,"
                      " aggregate: [src_host]}\n",
                      "node.yaml:6: pipelines.sflow.sinks[0].records: a counter sink takes "
                      "every counter record and prints sfacctd's keys: no aggregate, scopes "
                      "or fields");
  expect_single_error("pipelines:\n  sflow:\n    sinks:\n      - {type: file, path: /c.json,"
                      " records: gauges}\n",
                      "node.yaml:4: pipelines.sflow.sinks[0].records: 'gauges' is not one of: "
                      "flows, counters");
}

BOOST_AUTO_TEST_CASE(a_sink_reads_its_fields_and_rejects_unknown_keys_and_fields_with_aggregate) {
  tidewatch_config cfg;
  BOOST_REQUIRE(parse_config("pipelines:\n  netflow:\n    sinks:\n"
                             "      - {type: file, path: /f.json, fields: [ip_src, bytes]}\n",
                             "node.yaml", cfg)
                    .empty());
  BOOST_TEST(
      (cfg.pipelines.netflow.sinks[0].fields == std::vector<std::string>{"ip_src", "bytes"}));
  auto unknown = parse_config("pipelines:\n  netflow:\n    sinks:\n"
                              "      - {type: file, path: /f.json, fields: [ip_src, src_host]}\n",
                              "node.yaml", cfg);
  BOOST_REQUIRE(unknown.size() == 1u);
  BOOST_TEST(unknown[0].to_string().starts_with(
      "node.yaml:4: pipelines.netflow.sinks[0].fields[1]: 'src_host' is not one of: event_type, "
      "mac_src, mac_dst, "));
  expect_single_error("pipelines:\n  netflow:\n    sinks:\n      - type: file\n"
                      "        path: /a.json\n        aggregate: [src_host]\n"
                      "        fields: [ip_src]\n",
                      "node.yaml:7: pipelines.netflow.sinks[0].fields: an aggregating sink prints "
                      "the keys of its aggregate primitives: choose them there, not in fields");
}

BOOST_AUTO_TEST_CASE(replicators_without_sinks_make_a_pipeline_that_only_replicates) {
  tidewatch_config cfg;
  auto yaml = "pipelines:\n  netflow:\n    replicators:\n"
              "      - {address: 10.0.0.1, port: 2055, keep_source: true}\n"
              "      - {address: 10.0.0.2, port: 2055, sample_one_in: 5,"
              " from_exporters: [192.0.2.0/24]}\n";
  BOOST_REQUIRE(parse_config(yaml, "node.yaml", cfg).empty());
  auto& nf = cfg.pipelines.netflow;
  BOOST_TEST(nf.sinks.empty());
  BOOST_REQUIRE_EQUAL(nf.replicators.size(), 2u);
  BOOST_TEST(nf.replicators[0].address == "10.0.0.1");
  BOOST_TEST(nf.replicators[0].sample_one_in == 1u);
  BOOST_TEST(nf.replicators[0].keep_source);
  BOOST_TEST(nf.replicators[1].sample_one_in == 5u);
  BOOST_TEST(!nf.replicators[1].keep_source);
  BOOST_TEST((nf.replicators[1].from_exporters == std::vector<std::string>{"192.0.2.0/24"}));
  tidewatch_config again;
  BOOST_REQUIRE(parse_config(render_config(cfg), "rendered.yaml", again).empty());
  BOOST_TEST(render_config(again) == render_config(cfg));
}

BOOST_AUTO_TEST_CASE(a_replicator_without_port_or_with_sampling_zero_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    replicators:\n      - {address: 10.0.0.1}\n",
                      "node.yaml:4: pipelines.netflow.replicators[0].port: a replicator needs a "
                      "port");
  expect_single_error("pipelines:\n  netflow:\n    replicators:\n"
                      "      - {address: 10.0.0.1, port: 9, sample_one_in: 0}\n",
                      "node.yaml:4: pipelines.netflow.replicators[0].sample_one_in: '0' is out of "
                      "range (1 to 1000000000)");
  expect_single_error("pipelines:\n  netflow:\n    replicators:\n"
                      "      - {address: 10.0.0.1, port: 9, from_exporters: [10.0.0.0/40]}\n",
                      "node.yaml:4: pipelines.netflow.replicators[0].from_exporters[0]: "
                      "'10.0.0.0/40' is not an IP address or prefix");
}

BOOST_AUTO_TEST_CASE(an_enabled_bgp_speaker_needs_its_as_and_router_id_and_neighbors_their_as) {
  tidewatch_config cfg;
  auto errors = parse_config("bgp:\n  enabled: true\n  router_id: \"::1\"\n  neighbors:\n"
                             "    - {address: 192.0.2.2}\n",
                             "node.yaml", cfg);
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  BOOST_TEST(errors[0].to_string() ==
             "node.yaml:1: bgp.local_as: an enabled BGP speaker needs its AS number");
  BOOST_TEST(errors[1].to_string() == "node.yaml:3: bgp.router_id: an enabled BGP speaker needs a "
                                      "router id (a non-zero IPv4 address)");
  BOOST_TEST(errors[2].to_string() ==
             "node.yaml:5: bgp.neighbors[0].remote_as: a neighbor needs its AS");
  BOOST_TEST(parse_config("bgp:\n  enabled: true\n  local_as: 4200000000\n  router_id: 192.0.2.10\n"
                          "  neighbors:\n    - {address: 192.0.2.2, remote_as: 65001}\n",
                          "node.yaml", cfg)
                 .empty());
  BOOST_TEST(cfg.bgp.port == 179);
  BOOST_TEST(cfg.bgp.local_as == 4200000000u);
  BOOST_TEST(cfg.bgp.hold_time.count() == 90'000);
  BOOST_REQUIRE_EQUAL(cfg.bgp.neighbors.size(), 1u);
  BOOST_TEST(!cfg.bgp.neighbors[0].announce_blackhole);
}

// -- the detector -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_detector_example_reads_its_thresholds_hostgroups_and_actions) {
  auto path =
      std::filesystem::path(std::getenv("TIDEWATCH_SOURCE_DIR")) / "config/examples/detector.yaml";
  tidewatch_config cfg;
  BOOST_REQUIRE(load_config_file(path.string(), cfg).empty());
  auto& d = cfg.pipelines.netflow.detector;
  BOOST_TEST(d.enabled);
  BOOST_TEST(d.bucket.count() == 1000);
  BOOST_TEST(d.end_after.count() == 30'000);
  BOOST_TEST(d.ban_time.count() == 300'000);
  BOOST_TEST(d.thresholds.syn_pps == 50'000u);
  BOOST_TEST(d.thresholds.mbps == 2000u);
  BOOST_TEST(d.thresholds.tcp_pps == 0u);
  BOOST_REQUIRE_EQUAL(d.hostgroups.size(), 1u);
  BOOST_TEST(d.hostgroups[0].name == "customer-a");
  BOOST_TEST(d.hostgroups[0].group_thresholds.pps == 300'000u);
  BOOST_TEST(d.whitelist.size() == 2u);
  BOOST_TEST(d.notify.path == "/usr/local/bin/notify_about_attack.sh");
  BOOST_TEST(d.email.to.size() == 1u);
  BOOST_TEST(d.blackhole.enabled);
  BOOST_TEST(!cfg.pipelines.sflow.detector.enabled);
  tidewatch_config again;
  auto text = render_config(cfg);
  BOOST_TEST(parse_config(text, "rendered.yaml", again).empty());
  BOOST_TEST(render_config(again) == text);
}

BOOST_AUTO_TEST_CASE(a_detector_without_our_prefixes_is_reported) {
  expect_single_error("pipelines:\n  netflow:\n    detector:\n      enabled: true\n",
                      "node.yaml:4: pipelines.netflow.detector.enabled: the detector watches our "
                      "hosts: set pipelines.netflow.enrichment.prefix_file (without it no host "
                      "is ours)");
}

BOOST_AUTO_TEST_CASE(a_bad_community_and_a_hostgroup_without_prefixes_are_reported) {
  auto errors = errors_of("pipelines:\n  netflow:\n    enrichment: {prefix_file: /x}\n"
                          "    detector:\n      enabled: true\n"
                          "      hostgroups:\n        - name: a\n"
                          "      blackhole: {communities: [\"65536:1\"]}\n");
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  BOOST_TEST(errors[0] == "node.yaml:8: pipelines.netflow.detector.blackhole.communities[0]: "
                          "'65536:1' is not a BGP community such as 65535:666");
  BOOST_TEST(errors[1] ==
             "node.yaml:7: pipelines.netflow.detector.hostgroups[0].prefixes: a hostgroup needs "
             "prefixes");
}

BOOST_AUTO_TEST_CASE(communities_parse_into_as_and_value) {
  uint32_t c = 0;
  BOOST_TEST(parse_community("65535:666", c));
  BOOST_TEST(c == 0xffff029au);
  BOOST_TEST(!parse_community("65535", c));
  BOOST_TEST(!parse_community(":1", c));
  BOOST_TEST(!parse_community("1:x", c));
}

BOOST_AUTO_TEST_CASE(bgp_as_defaults_to_prefer_bgp_and_takes_only_its_two_choices) {
  tidewatch_config cfg;
  BOOST_TEST(parse_config("", "empty.yaml", cfg).empty());
  BOOST_TEST(cfg.pipelines.netflow.enrichment.bgp_as == "prefer_bgp");
  BOOST_TEST(parse_config("pipelines:\n  netflow:\n    enrichment:\n      bgp_as: prefer_export\n",
                          "node.yaml", cfg)
                 .empty());
  BOOST_TEST(cfg.pipelines.netflow.enrichment.bgp_as == "prefer_export");
  expect_single_error("pipelines:\n  netflow:\n    enrichment:\n      bgp_as: longest\n",
                      "node.yaml:4: pipelines.netflow.enrichment.bgp_as: 'longest' is not one of: "
                      "prefer_bgp, prefer_export");
}

BOOST_AUTO_TEST_CASE(the_address_cache_defaults_to_1_mi_entries_and_may_be_turned_off) {
  tidewatch_config cfg;
  BOOST_TEST(parse_config("", "empty.yaml", cfg).empty());
  BOOST_TEST(cfg.pipelines.netflow.enrichment.address_cache == 1048576u);
  BOOST_TEST(parse_config("pipelines:\n  netflow:\n    enrichment:\n      address_cache: 0\n",
                          "node.yaml", cfg)
                 .empty());
  BOOST_TEST(cfg.pipelines.netflow.enrichment.address_cache == 0u);
  auto errors =
      errors_of("pipelines:\n  netflow:\n    enrichment:\n      address_cache: 100000000\n");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].find("node.yaml:4: pipelines.netflow.enrichment.address_cache") == 0u);
}
