#define BOOST_TEST_MODULE inspect_views
#include <boost/test/unit_test.hpp>

#include "actors/inspector/inspect_views.hpp"
#include "config/config.hpp"

using namespace tidewatch;

namespace {

stats_snapshot snapshot(std::string stage, std::vector<counter_value> counters) {
  stats_snapshot s;
  s.pipeline = "netflow";
  s.stage = std::move(stage);
  s.counters = std::move(counters);
  return s;
}

} // namespace

BOOST_AUTO_TEST_CASE(counter_names_split_into_family_and_labels) {
  auto x = split_counter_name("netflow_decode_errors_total{reason=\"truncated\"}");
  BOOST_TEST(x.family == "netflow_decode_errors_total");
  BOOST_TEST(x.labels == "reason=\"truncated\"");
  auto y = split_counter_name("sink_records_total");
  BOOST_TEST(y.family == "sink_records_total");
  BOOST_TEST(y.labels.empty());
  BOOST_TEST(label_value("exporter=\"192.0.2.1\",domain=\"7\"", "domain") == "7");
  BOOST_TEST(label_value("exporter=\"192.0.2.1\",domain=\"7\"", "exporter") == "192.0.2.1");
  BOOST_TEST(label_value("a=\"x\\\"y\"", "a") == "x\"y");
  BOOST_TEST(label_value("a=\"x\"", "b") == "");
}

BOOST_AUTO_TEST_CASE(stage_rows_sum_columns_and_compute_rates_between_snapshots) {
  std::vector<stats_snapshot> before = {
      snapshot("listener:2055", {{"listener_datagrams_total", 100},
                                 {"listener_kernel_drops_total", 0},
                                 {"listener_in_flight_batches", 1}}),
      snapshot("decoder", {{"netflow_datagrams_total", 100}, {"netflow_records_total", 1000}})};
  std::vector<stats_snapshot> after = {
      snapshot("listener:2055", {{"listener_datagrams_total", 300},
                                 {"listener_denied_datagrams_total", 4},
                                 {"listener_kernel_drops_total", 7},
                                 {"listener_in_flight_batches", 3}}),
      snapshot("decoder", {{"netflow_datagrams_total", 300},
                           {"netflow_records_total", 5000},
                           {"netflow_decode_errors_total{reason=\"truncated\"}", 2},
                           {"netflow_exporter_decode_errors_total{exporter=\"a\"}", 2},
                           {"decoder_held_acks", 5}})};
  auto rows = stage_rows(before, after, 2.0);
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0].stage == "listener:2055");
  BOOST_TEST(rows[0].datagrams == 300u);
  BOOST_TEST(rows[0].kernel_drops == 7u);
  BOOST_TEST(rows[0].queue == 3u);
  BOOST_TEST(rows[0].datagrams_per_s == 100.0);
  BOOST_REQUIRE_EQUAL(rows[0].errors.size(), 1u);
  BOOST_TEST(rows[0].errors[0].name == "listener_denied_datagrams_total");
  BOOST_TEST(rows[1].records == 5000u);
  BOOST_TEST(rows[1].records_per_s == 2000.0);
  BOOST_TEST(rows[1].queue == 5u);
  // The per-exporter copy of an error is not counted a second time.
  BOOST_REQUIRE_EQUAL(rows[1].errors.size(), 1u);
  BOOST_TEST(rows[1].errors[0].value == 2u);
  auto text = render_stats(rows, false);
  BOOST_TEST(text.find("netflow   decoder") != std::string::npos, text);
  BOOST_TEST(text.find("netflow_decode_errors_total{reason=\"truncated\"}      2") !=
                 std::string::npos,
             text);
  auto json = render_stats(rows, true);
  BOOST_TEST(json.find("\"stage\":\"decoder\",\"datagrams\":300,\"records\":5000,"
                       "\"kernel_drops\":0,\"queue\":5,\"datagrams_per_second\":100.0,"
                       "\"records_per_second\":2000.0,\"errors\":{\"netflow_decode_errors_total{"
                       "reason=\\\"truncated\\\"}\":2}") != std::string::npos,
             json);
}

BOOST_AUTO_TEST_CASE(stages_of_the_same_name_are_numbered_in_report_order) {
  std::vector<stats_snapshot> xs = {snapshot("sink:file", {{"sink_records_total", 1}}),
                                    snapshot("sink:file", {{"sink_records_total", 2}})};
  auto rows = stage_rows({}, xs, 1.0);
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0].stage == "sink:file");
  BOOST_TEST(rows[1].stage == "sink:file#2");
  BOOST_TEST(rows[1].records == 2u);
  BOOST_TEST(rows[1].records_per_s == 0.0);
}

BOOST_AUTO_TEST_CASE(exporter_rows_come_from_the_decoders_labelled_counters) {
  std::string a = "{exporter=\"192.0.2.1\",domain=\"7\",version=\"10\"}";
  std::vector<stats_snapshot> before = {
      snapshot("decoder", {{"netflow_exporter_records_total" + a, 100}})};
  std::vector<stats_snapshot> after = {
      snapshot("decoder", {{"netflow_exporter_datagrams_total" + a, 20},
                           {"netflow_exporter_records_total" + a, 600},
                           {"netflow_exporter_sequence_lost_total" + a, 3},
                           {"netflow_exporter_templates_active" + a, 2},
                           {"netflow_exporter_sampling_rate" + a, 1000},
                           {"netflow_exporter_decode_errors_total{exporter=\"192.0.2.1\","
                            "reason=\"truncated\"}",
                            9}})};
  after.push_back(snapshot("decoder", {{"sflow_agent_flow_samples_total{agent=\"10.0.0.1\","
                                        "sub_agent=\"2\"}",
                                        44}}));
  after.back().pipeline = "sflow";
  auto rows = exporter_rows(before, after, 0.5);
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  auto& r = rows[0];
  BOOST_TEST(r.pipeline == "netflow");
  BOOST_TEST(r.exporter == "192.0.2.1");
  BOOST_TEST(r.domain == 7u);
  BOOST_TEST(r.protocol == "ipfix");
  BOOST_TEST(r.datagrams == 20u);
  BOOST_TEST(r.records == 600u);
  BOOST_TEST(r.records_per_s == 1000.0);
  BOOST_TEST(r.sequence_lost == 3u);
  BOOST_TEST(r.templates == 2u);
  BOOST_TEST(r.sampling_rate == 1000u);
  BOOST_TEST(rows[1].protocol == "sflow_v5");
  BOOST_TEST(rows[1].exporter == "10.0.0.1");
  BOOST_TEST(rows[1].domain == 2u);
  BOOST_TEST(rows[1].records == 44u);
  auto text = render_exporters(rows, false);
  BOOST_TEST(text.find("192.0.2.1       7  ipfix") != std::string::npos, text);
  BOOST_TEST(text.find("1:1000") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(status_shows_uptime_roles_children_and_restarts) {
  node_status s;
  s.node = "edge-1";
  s.version = "0.1.0";
  s.started_us = 1'000'000;
  s.now_us = 1'000'000 + (86400 + 3600 + 61) * 1'000'000ll;
  s.roles.push_back({"netflow", 12, {{"sink[0]", {}, 14, 0}, {"decoder", {}, 0, 3}}});
  auto text = render_status(s, false);
  BOOST_TEST(text.find("node edge-1, tidewatch 0.1.0, up 1d 01:01:01\n") == 0u, text);
  BOOST_TEST(text.find("netflow  #12") != std::string::npos, text);
  BOOST_TEST(text.find("decoder  -                   3") != std::string::npos, text);
  BOOST_TEST(render_status(s, true) ==
             "{\"node\":\"edge-1\",\"version\":\"0.1.0\",\"uptime_seconds\":90061,\"roles\":[{"
             "\"role\":\"netflow\",\"actor_id\":12,\"children\":[{\"name\":\"sink[0]\",\"actor_"
             "id\":14,\"running\":true,\"restarts\":0},{\"name\":\"decoder\",\"actor_id\":0,"
             "\"running\":false,\"restarts\":3}]}]}\n");
}

BOOST_AUTO_TEST_CASE(templates_list_fields_as_type_and_length) {
  template_info t;
  t.exporter = "192.0.2.1";
  t.observation_domain = 1;
  t.version = 10;
  t.id = 256;
  t.record_length = 12;
  t.fields = {uint64_t(8) << 16 | 4, uint64_t(29305) << 32 | uint64_t(1) << 16 | 8};
  auto text = render_templates({{"netflow", {t}}}, false);
  BOOST_TEST(text.find("8:4 29305/1:8") != std::string::npos, text);
  BOOST_TEST(render_templates({{"netflow", {t}}}, true) ==
             "[{\"pipeline\":\"netflow\",\"exporter\":\"192.0.2.1\",\"domain\":1,\"version\":10,"
             "\"id\":256,\"kind\":\"data\",\"scope_fields\":0,\"record_length\":12,"
             "\"variable_length\":false,\"fields\":[\"8:4\",\"29305/1:8\"]}]\n");
}

BOOST_AUTO_TEST_CASE(prometheus_output_groups_families_with_help_and_type) {
  std::vector<stats_snapshot> xs = {
      snapshot("listener:2055", {{"listener_datagrams_total", 5}, {"listener_port", 2055}}),
      snapshot("decoder", {{"netflow_decode_errors_total{reason=\"truncated\"}", 2},
                           {"netflow_decode_errors_total{reason=\"bad_version\"}", 0}})};
  BOOST_TEST(render_prometheus(xs) ==
             "# HELP tidewatch_listener_datagrams_total tidewatch counter "
             "listener_datagrams_total, per pipeline stage\n"
             "# TYPE tidewatch_listener_datagrams_total counter\n"
             "tidewatch_listener_datagrams_total{pipeline=\"netflow\",stage=\"listener:2055\"} 5\n"
             "# HELP tidewatch_listener_port tidewatch gauge listener_port, per pipeline stage\n"
             "# TYPE tidewatch_listener_port gauge\n"
             "tidewatch_listener_port{pipeline=\"netflow\",stage=\"listener:2055\"} 2055\n"
             "# HELP tidewatch_netflow_decode_errors_total tidewatch counter "
             "netflow_decode_errors_total, per pipeline stage\n"
             "# TYPE tidewatch_netflow_decode_errors_total counter\n"
             "tidewatch_netflow_decode_errors_total{pipeline=\"netflow\",stage=\"decoder\","
             "reason=\"truncated\"} 2\n"
             "tidewatch_netflow_decode_errors_total{pipeline=\"netflow\",stage=\"decoder\","
             "reason=\"bad_version\"} 0\n");
}

BOOST_AUTO_TEST_CASE(host_port_text_is_parsed_and_loopback_recognised) {
  std::string host;
  uint16_t port = 0;
  BOOST_TEST(parse_host_port("127.0.0.1:7790", host, port));
  BOOST_TEST(host == "127.0.0.1");
  BOOST_TEST(port == 7790u);
  BOOST_TEST(parse_host_port("[::1]:0", host, port));
  BOOST_TEST(host == "::1");
  BOOST_TEST(port == 0u);
  BOOST_TEST(!parse_host_port("::1:7790", host, port));
  BOOST_TEST(!parse_host_port("127.0.0.1", host, port));
  BOOST_TEST(!parse_host_port("127.0.0.1:70000", host, port));
  BOOST_TEST(is_loopback_host("127.3.4.5"));
  BOOST_TEST(is_loopback_host("::1"));
  BOOST_TEST(is_loopback_host("localhost"));
  BOOST_TEST(!is_loopback_host("0.0.0.0"));
  BOOST_TEST(!is_loopback_host("192.0.2.1"));
}

BOOST_AUTO_TEST_CASE(an_inspector_beyond_loopback_without_tls_is_a_config_error) {
  tidewatch_config cfg;
  auto errors = parse_config("node:\n  inspector:\n    listen: \"0.0.0.0:7790\"\n", "n.yaml", cfg);
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0].to_string() ==
             "n.yaml:3: node.inspector.listen: listening on '0.0.0.0' (not loopback) needs TLS: "
             "set certificate, key and ca_file");
  errors = parse_config("node:\n  inspector:\n    listen: \"0.0.0.0:7790\"\n    certificate: c\n",
                        "n.yaml", cfg);
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0].message == "TLS needs certificate, key and ca_file together");
  errors = parse_config("node:\n  inspector:\n    listen: \"0.0.0.0:7790\"\n    certificate: c\n"
                        "    key: k\n    ca_file: ca\n",
                        "n.yaml", cfg);
  BOOST_TEST(errors.empty());
  BOOST_TEST(cfg.node.inspector.ca_file == "ca");
  BOOST_TEST(cfg.node.metrics.listen == "127.0.0.1:9790");
}
