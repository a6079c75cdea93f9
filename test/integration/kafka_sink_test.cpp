#define BOOST_TEST_MODULE kafka_sink
#include <boost/test/unit_test.hpp>

#include <cctype>

#include "integration/harness.hpp"

// The broker is librdkafka's mock cluster in a process of its own (kmock, on a
// port the test picks, so that a stopped broker can come back at the same
// address); kcat reads the topic back as an independent consumer.

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

const std::string kmock = env_or("KMOCK", "kmock");

/// A mock Kafka broker on 127.0.0.1:port with topic netflow (3 partitions),
/// or the topic given (name:partitions).
struct broker {
  std::unique_ptr<process> proc;
  broker(const scratch_dir& dir, uint16_t port, const std::string& tag,
         const std::string& topic = "netflow:3") {
    auto file = dir / (tag + ".bootstrap");
    std::filesystem::remove(file);
    proc = std::make_unique<process>(std::vector<std::string>{kmock, "-t", topic, "-p",
                                                              std::to_string(port), "-f",
                                                              file.string()},
                                     dir.path, tag);
    BOOST_REQUIRE(proc->wait_for("BOOTSTRAP=127.0.0.1:" + std::to_string(port), 10s, true));
  }
  void stop() {
    proc->signal(SIGTERM);
    BOOST_REQUIRE(proc->wait_exit(10s).has_value());
  }
};

/// A node config whose netflow pipeline has one Kafka sink; `sink_extra`
/// adds keys to the sink (indented by 8).
std::string kafka_config(const scratch_dir& dir, uint16_t udp_port, uint16_t kafka_port,
                         const std::string& sink_extra = "") {
  return "node:\n  name: test\n  state_dir: " + dir.path.string() +
         "\n  shutdown_timeout: 20s\nlogging:\n  level: info\npipelines:\n  netflow:\n"
         "    listeners:\n      - {address: 127.0.0.1, port: " +
         std::to_string(udp_port) +
         "}\n    sinks:\n      - type: kafka\n        brokers: 127.0.0.1:" +
         std::to_string(kafka_port) +
         "\n        key: exporter\n        properties:\n"
         "          reconnect.backoff.max.ms: 200\n" +
         sink_extra;
}

/// The number written right after the first `label` in text (spaces skipped).
uint64_t number_after(const std::string& text, const std::string& label) {
  auto at = text.find(label);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no '" << label << "' in: " << text);
  at = text.find_first_not_of(' ', at + label.size());
  auto end = text.find_first_not_of("0123456789", at);
  BOOST_REQUIRE_MESSAGE(end != at, "no number after '" << label << "' in: " << text);
  return std::stoull(text.substr(at, end - at));
}

/// The number written right before the first ` label` that follows a number.
uint64_t number_before(const std::string& text, const std::string& label) {
  for (auto at = text.find(" " + label); at != std::string::npos;
       at = text.find(" " + label, at + 1)) {
    auto begin = at;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(text[begin - 1])))
      --begin;
    if (begin < at)
      return std::stoull(text.substr(begin, at - begin));
  }
  BOOST_FAIL("no number before '" << label << "' in: " << text);
  return 0;
}

/// flowgen's totals: records, flow packets, flow bytes.
struct sent {
  uint64_t records = 0, packets = 0, bytes = 0;
};

sent send(uint16_t port, uint64_t records, uint64_t rate, int seed) {
  std::string out;
  BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(port) +
                              " --protocol ipfix --records " + std::to_string(records) +
                              " --rate " + std::to_string(rate) + " --seed " + std::to_string(seed),
                          &out),
                      0);
  sent s;
  s.records = records;
  s.packets = number_after(out, "flow packets");
  s.bytes = number_after(out, "flow bytes");
  return s;
}

/// What kcat reads from topic netflow, summarised by kafka_records.py.
struct topic_summary {
  uint64_t messages = 0, records = 0, bad_json = 0, packets = 0, bytes = 0, flows = 0,
           key_is_exporter = 0, missing_fields = 0, distinct = 0;
};

/// Reads the topic with kcat, one line per message, or with `several
/// records per message` as kcat's JSON envelopes (a payload may hold
/// newlines then).
topic_summary read_topic(uint16_t kafka_port, bool several_records_per_message = false) {
  std::string out;
  BOOST_REQUIRE_EQUAL(
      run("kcat -C -b 127.0.0.1:" + std::to_string(kafka_port) + " -t netflow -o beginning -e -q " +
              (several_records_per_message ? "-J" : "-f '%k\\t%s\\n'") + " | /usr/bin/python3 " +
              scripts + "/kafka_records.py" + (several_records_per_message ? " --envelope" : ""),
          &out),
      0);
  topic_summary s;
  auto get = [&](const char* name) { return number_after(out, std::string("\"") + name + "\":"); };
  s.messages = get("messages");
  s.records = get("records");
  s.bad_json = get("bad_json");
  s.packets = get("packets");
  s.bytes = get("bytes");
  s.flows = get("flows");
  s.key_is_exporter = get("key_is_exporter");
  s.missing_fields = get("missing_fields");
  s.distinct = get("distinct");
  return s;
}

/// Waits until the topic holds at least n messages; returns the last summary.
topic_summary wait_for_messages(uint16_t kafka_port, uint64_t n, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto s = read_topic(kafka_port);
    if (s.messages >= n || std::chrono::steady_clock::now() > deadline)
      return s;
    std::this_thread::sleep_for(200ms);
  }
}

/// A number the daemon logged as `<number> <label>` in its sink summary.
uint64_t logged(const process& d, const std::string& label) {
  return number_before(d.err(), label);
}

void stop_daemon(process& d) {
  d.signal(SIGTERM);
  auto code = d.wait_exit(30s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(every_record_flowgen_sends_arrives_in_kafka_as_json_with_the_values_sent) {
  scratch_dir dir("kafka-all");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM);
  broker b(dir, kafka_port, "kmock");
  write_file(dir / "node.yaml", kafka_config(dir, udp_port, kafka_port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto s = send(udp_port, 20000, 100000, 7);
  stop_daemon(d);
  auto t = read_topic(kafka_port);
  BOOST_TEST(t.messages == 20000u);
  BOOST_TEST(t.distinct == 20000u);
  BOOST_TEST(t.bad_json == 0u);
  BOOST_TEST(t.missing_fields == 0u);
  BOOST_TEST(t.key_is_exporter == 20000u);
  BOOST_TEST(t.flows == 20000u);
  BOOST_TEST(t.packets == s.packets);
  BOOST_TEST(t.bytes == s.bytes);
  BOOST_TEST(logged(d, "delivered") == 20000u);
  BOOST_TEST(logged(d, "dropped") == 0u);
  BOOST_TEST(logged(d, "bytes left in the spool") == 0u);
  // The example Druid ingestion spec reads exactly the fields a message has.
  std::string diff;
  BOOST_REQUIRE_EQUAL(
      run("kcat -C -b 127.0.0.1:" + std::to_string(kafka_port) +
              " -t netflow -o beginning -e -q 2>/dev/null | head -1 | /usr/bin/python3 " + scripts +
              "/check_druid_spec.py " + env_or("TIDEWATCH_SOURCE_DIR", ".") +
              "/config/examples/druid-kafka-ingestion.json",
          &diff),
      0);
  BOOST_TEST(diff == "");
}

BOOST_AUTO_TEST_CASE(a_kafka_sink_with_fields_sends_every_record_with_only_those_keys) {
  scratch_dir dir("kafka-fields");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM);
  broker b(dir, kafka_port, "kmock");
  // The keys every record must have (kafka_records.py), and no other.
  write_file(dir / "node.yaml",
             kafka_config(dir, udp_port, kafka_port,
                          "        fields: [event_type, peer_ip_src, ip_src, ip_dst, port_src, "
                          "port_dst, ip_proto, timestamp_start, timestamp_end, "
                          "export_proto_version, flows, packets, bytes, export_protocol, "
                          "ip_version]\n"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto s = send(udp_port, 5000, 100000, 11);
  stop_daemon(d);
  auto t = read_topic(kafka_port);
  BOOST_TEST(t.messages == 5000u);
  BOOST_TEST(t.distinct == 5000u);
  BOOST_TEST(t.missing_fields == 0u);
  BOOST_TEST(t.key_is_exporter == 5000u);
  BOOST_TEST(t.packets == s.packets);
  BOOST_TEST(t.bytes == s.bytes);
  std::string key_lists;
  BOOST_REQUIRE_EQUAL(run("kcat -C -b 127.0.0.1:" + std::to_string(kafka_port) +
                              " -t netflow -o beginning -e -q | /usr/bin/python3 -c 'import json, "
                              "sys; print(sorted({\" \".join(json.loads(l)) for l in sys.stdin}))'",
                          &key_lists),
                      0);
  BOOST_TEST(key_lists == "['event_type peer_ip_src ip_src ip_dst port_src port_dst ip_proto "
                          "timestamp_start timestamp_end export_proto_version flows packets bytes "
                          "export_protocol ip_version']\n");
}

BOOST_AUTO_TEST_CASE(records_per_message_packs_records_of_one_exporter_into_fewer_messages) {
  scratch_dir dir("kafka-multi");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM);
  broker b(dir, kafka_port, "kmock");
  write_file(dir / "node.yaml",
             kafka_config(dir, udp_port, kafka_port, "        records_per_message: 1000\n"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto s = send(udp_port, 20000, 100000, 13);
  stop_daemon(d);
  auto t = read_topic(kafka_port, true);
  BOOST_TEST(t.records == 20000u);
  BOOST_TEST(t.distinct == 20000u);
  BOOST_TEST(t.bad_json == 0u);
  BOOST_TEST(t.missing_fields == 0u);
  // Every record under its exporter's key, though a message holds many.
  BOOST_TEST(t.key_is_exporter == 20000u);
  BOOST_TEST(t.packets == s.packets);
  BOOST_TEST(t.bytes == s.bytes);
  // A message closes at 1000 records or at the end of a batch: at least 20.
  BOOST_TEST(t.messages >= 20u);
  BOOST_TEST(t.messages < 2000u);
  // The counters count records, not messages.
  BOOST_TEST(logged(d, "delivered") == 20000u);
  BOOST_TEST(logged(d, "dropped") == 0u);
}

BOOST_AUTO_TEST_CASE(a_broker_outage_mid_stream_loses_no_record_once_a_broker_is_back) {
  scratch_dir dir("kafka-outage");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM);
  auto first = std::make_unique<broker>(dir, kafka_port, "kmock1");
  // A small in-memory queue, so that the outage spills into the spool.
  write_file(dir / "node.yaml",
             kafka_config(dir, udp_port, kafka_port, "        queue_max_messages: 2000\n"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto before = send(udp_port, 10000, 100000, 1);
  auto t1 = wait_for_messages(kafka_port, before.records, 30s);
  BOOST_REQUIRE_EQUAL(t1.messages, before.records);
  first->stop(); // the broker and everything it held are gone
  auto during = send(udp_port, 30000, 100000, 2);
  std::this_thread::sleep_for(500ms);
  broker second(dir, kafka_port, "kmock2"); // same address, empty
  auto t2 = wait_for_messages(kafka_port, during.records, 60s);
  stop_daemon(d);
  t2 = read_topic(kafka_port);
  BOOST_TEST(t2.distinct == during.records);
  BOOST_TEST(t2.messages == during.records);
  BOOST_TEST(t2.packets == during.packets);
  BOOST_TEST(t2.bytes == during.bytes);
  BOOST_TEST(t2.bad_json == 0u);
  BOOST_TEST(logged(d, "spooled") > 0u);
  BOOST_TEST(logged(d, "dropped") == 0u);
}

BOOST_AUTO_TEST_CASE(
    sigterm_with_the_broker_down_spools_every_record_and_the_next_start_sends_them) {
  scratch_dir dir("kafka-restart");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM); // nothing listens there yet
  write_file(dir / "node.yaml",
             kafka_config(dir, udp_port, kafka_port,
                          "        queue_max_messages: 5000\n        flush_timeout: 1s\n"));
  auto s = [&] {
    process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd1");
    BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
    auto sent = send(udp_port, 20000, 200000, 3);
    stop_daemon(d); // at once: records are still queued, nothing can be delivered
    BOOST_TEST(logged(d, "delivered") == 0u);
    BOOST_TEST(logged(d, "dropped") == 0u);
    BOOST_TEST(logged(d, "bytes left in the spool") > 20000u * 800);
    return sent;
  }();
  broker b(dir, kafka_port, "kmock");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd2");
  BOOST_REQUIRE(d.wait_for("sending", 10s));
  BOOST_TEST(d.err().find("spooled by an earlier run first") != std::string::npos);
  auto t = wait_for_messages(kafka_port, s.records, 60s);
  stop_daemon(d);
  t = read_topic(kafka_port);
  BOOST_TEST(t.messages == s.records);
  BOOST_TEST(t.distinct == s.records);
  BOOST_TEST(t.packets == s.packets);
  BOOST_TEST(t.bytes == s.bytes);
  BOOST_TEST(logged(d, "delivered") == s.records);
  BOOST_TEST(logged(d, "bytes left in the spool") == 0u);
}

BOOST_AUTO_TEST_CASE(past_both_bounds_the_drop_counter_equals_the_records_missing_downstream) {
  scratch_dir dir("kafka-bounds");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM); // the broker starts late
  write_file(dir / "node.yaml",
             kafka_config(dir, udp_port, kafka_port,
                          "        queue_max_messages: 1000\n        spool_max_bytes: 1MiB\n"
                          "        flush_timeout: 20s\n"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto s = send(udp_port, 10000, 100000, 4);
  BOOST_REQUIRE(d.wait_for("records dropped (queue and spool full)", 10s));
  broker b(dir, kafka_port, "kmock");
  stop_daemon(d); // flushes the queue; the spool goes out on the next start
  auto dropped = logged(d, "dropped;");
  auto in_spool = logged(d, "bytes left in the spool");
  BOOST_TEST(dropped > 0u);
  BOOST_TEST(in_spool > 0u);
  process again({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd2");
  BOOST_REQUIRE(again.wait_for("listening on udp", 10s));
  wait_for_messages(kafka_port, s.records - dropped, 60s);
  stop_daemon(again);
  auto t = read_topic(kafka_port);
  BOOST_TEST(t.messages == s.records - dropped);
  BOOST_TEST(t.distinct == s.records - dropped);
  BOOST_TEST(logged(again, "dropped;") == 0u);
  BOOST_TEST(logged(again, "bytes left in the spool") == 0u);
}

BOOST_AUTO_TEST_CASE(sflow_counter_records_arrive_in_kafka_as_the_counter_file_has_them) {
  // flowgen's sFlow carries a counter sample (generic + Ethernet records)
  // at start and every second; a file and a Kafka counter sink of the same
  // pipeline get the same samples in the same order.
  scratch_dir dir("kafka-counters");
  auto udp_port = free_port();
  auto kafka_port = free_port(SOCK_STREAM);
  broker b(dir, kafka_port, "kmock", "sflow_counters:1");
  write_file(dir / "ours.txt", "10.0.0.0/8 lab\n");
  write_file(dir / "node.yaml",
             "node:\n  name: test\n  state_dir: " + dir.path.string() +
                 "\n  shutdown_timeout: 20s\nlogging:\n  level: info\npipelines:\n"
                 "  netflow:\n    enabled: false\n  sflow:\n    enabled: true\n"
                 "    listeners:\n      - {address: 127.0.0.1, port: " +
                 std::to_string(udp_port) +
                 "}\n    enrichment:\n      prefix_file: " + (dir / "ours.txt").string() +
                 "\n    sinks:\n      - {type: file, path: " + (dir / "counters.json").string() +
                 ", records: counters}\n      - {type: kafka, brokers: \"127.0.0.1:" +
                 std::to_string(kafka_port) +
                 "\", topic: sflow_counters, key: exporter, records: counters}\n");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("sflow: listening on udp", 10s));
  BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(udp_port) +
                          " --protocol sflow --records 3000 --rate 1000 --template-interval 1"),
                      0);
  stop_daemon(d);
  auto lines = lines_of(read_file(dir / "counters.json"));
  // Three or four samples (t = 0, 1, 2 s and maybe 3), two records each.
  BOOST_TEST_INFO(read_file(dir / "counters.json"));
  BOOST_TEST((lines.size() == 6u || lines.size() == 8u));
  std::string out;
  BOOST_REQUIRE_EQUAL(run("kcat -C -b 127.0.0.1:" + std::to_string(kafka_port) +
                              " -t sflow_counters -o beginning -e -q -f '%k\\t%s\\n'",
                          &out),
                      0);
  std::vector<std::string> keys, values;
  for (auto& line : lines_of(out)) {
    auto tab = line.find('\t');
    BOOST_REQUIRE(tab != std::string::npos);
    keys.push_back(line.substr(0, tab));
    values.push_back(line.substr(tab + 1));
  }
  BOOST_TEST(values == lines, boost::test_tools::per_element());
  for (size_t i = 0; i < keys.size(); ++i)
    BOOST_TEST(keys[i] == field(values[i], "peer_ip_src"));
  BOOST_TEST(field(lines[0], "sf_cnt_type") == "sflow_cnt_generic");
  BOOST_TEST(field(lines[1], "sf_cnt_type") == "sflow_cnt_ethernet");
}
