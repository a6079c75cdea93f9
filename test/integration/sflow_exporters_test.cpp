#define BOOST_TEST_MODULE sflow_exporters
#include <boost/test/unit_test.hpp>

// pmacctd's sfprobe plugin samples every packet of a capture the test
// generates (IPv4, IPv6, 802.1Q-tagged frames; TCP, UDP, ICMP, ICMPv6) and
// sends sFlow v5 to tidewatchd's sflow pipeline on loopback; dumpcap records
// those datagrams. tidewatch's records must equal, one by one, tshark's
// decoding of the same datagrams and `tidewatch decode` of the capture, and
// sfacctd's JSON for a replay of it.

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// Output of a helper script as lines; the script must succeed.
std::vector<std::string> script_lines(const std::string& args) {
  std::string out;
  BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/" + args, &out), 0);
  return lines_of(out);
}

struct sfprobe_run {
  scratch_dir dir{"sflow"};
  uint16_t port = free_port();
  std::filesystem::path traffic = dir / "traffic.pcap";
  std::filesystem::path capture = dir / "sflow.pcap";
  std::filesystem::path internal_output = dir / "sflow.json";
  std::filesystem::path other_output = dir / "sflow-other.json";
  std::filesystem::path output = dir / "all.json"; ///< both sinks' records
  std::string daemon_log;
  int daemon_exit = -1;

  sfprobe_run() {
    std::string out;
    BOOST_REQUIRE_EQUAL(
        run(python + " " + scripts + "/make_traffic_pcap.py " + traffic.string(), &out), 0);
    // The sflow pipeline beside a netflow one on a port nobody sends to.
    // Our prefixes hold both ends of the IPv4 flows, not those of the IPv6
    // ones: the default sink takes the internal (IPv4) records, a second one
    // every other scope (the IPv6 records).
    write_file(dir / "ours.txt", "203.0.113.0/24 edge\n198.51.100.0/24 core\n");
    write_file(dir / "node.yaml",
               node_config(dir.path, free_port()) +
                   "  sflow:\n    enabled: true\n    listeners:\n"
                   "      - {address: 127.0.0.1, port: " +
                   std::to_string(port) +
                   "}\n    enrichment:\n      prefix_file: " + (dir / "ours.txt").string() +
                   "\n    sinks:\n      - type: file\n        path: " + internal_output.string() +
                   "\n      - type: file\n        path: " + other_output.string() +
                   "\n        scopes: [inbound, outbound, external, unknown]\n");
    process daemon({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
    BOOST_REQUIRE(daemon.wait_for("sflow: listening on udp", 10s));
    process dumpcap({"dumpcap", "-q", "-i", "lo", "-f", "udp dst port " + std::to_string(port),
                     "-w", capture.string()},
                    dir.path, "dumpcap");
    BOOST_REQUIRE(dumpcap.wait_for("Capturing on", 10s));
    std::this_thread::sleep_for(300ms); // the capture filter is set after the message
    auto conf = dir / "pmacctd.conf";
    write_file(conf, "daemonize: false\npcap_savefile: " + traffic.string() +
                         "\npcap_savefile_wait: false\nplugins: sfprobe[sf]\n"
                         "sfprobe_receiver[sf]: 127.0.0.1:" +
                         std::to_string(port) +
                         "\nsfprobe_agentip[sf]: 127.0.0.1\nsfprobe_sampling_rate[sf]: 1\n");
    std::string pm_out;
    BOOST_REQUIRE_MESSAGE(exporter_finished(run("pmacctd -f " + conf.string(), &pm_out), pm_out),
                          pm_out);
    std::this_thread::sleep_for(500ms);
    dumpcap.signal(SIGINT);
    BOOST_REQUIRE(dumpcap.wait_exit(10s).has_value());
    daemon.signal(SIGTERM);
    auto code = daemon.wait_exit(15s);
    BOOST_REQUIRE(code.has_value());
    daemon_exit = *code;
    daemon_log = daemon.err();
    write_file(output, read_file(internal_output) + read_file(other_output));
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(pmacctd_sfprobe_samples_match_tshark_and_the_offline_decoder_one_by_one) {
  sfprobe_run r;
  BOOST_TEST(r.daemon_exit == 0);
  auto ours = script_lines("flows_from_json.py " + r.output.string());
  auto reference = script_lines("flows_from_tshark.py " + r.capture.string() + " " +
                                std::to_string(r.port) + " sflow");
  // sfprobe samples every one of the 1534 packets but drops its last,
  // partly filled datagram at exit.
  BOOST_TEST(ours.size() > 1500u);
  BOOST_TEST(ours.size() <= 1534u);
  BOOST_TEST(ours == reference, boost::test_tools::per_element());
  // Split by scope: every IPv4 flow was internal, every IPv6 one external.
  auto internal = read_file(r.internal_output);
  auto other = read_file(r.other_output);
  size_t v4 = 0;
  for (auto& line : reference)
    v4 += line.find(':') == std::string::npos ? 1 : 0;
  BOOST_TEST(v4 > 0u);
  BOOST_TEST(v4 < reference.size());
  BOOST_TEST(count_of(internal, "\n") == v4);
  BOOST_TEST(count_of(internal, R"("ip_version": 4)") == v4);
  BOOST_TEST(count_of(internal, R"("traffic_scope": "internal")") == v4);
  BOOST_TEST(count_of(other, "\n") == reference.size() - v4);
  BOOST_TEST(count_of(other, R"("traffic_scope": "external")") == reference.size() - v4);
  auto offline = r.dir / "offline.json";
  BOOST_REQUIRE_EQUAL(
      run(tidewatch_cli + " decode " + r.capture.string() + " > " + offline.string()), 0);
  BOOST_TEST(script_lines("flows_from_json.py " + offline.string()) == ours,
             boost::test_tools::per_element());
  BOOST_TEST(r.daemon_log.find("decode errors 0, sequence losses 0") != std::string::npos);
  // Every kind of frame of the generated traffic came through.
  auto json = read_file(r.output);
  for (auto text : {R"("ip_proto": "tcp")", R"("ip_proto": "udp")", R"("ip_proto": "icmp")",
                    R"("ip_proto": "ipv6-icmp")", R"("ip_version": 6)", R"("vlan": 101)"})
    BOOST_TEST(json.find(text) != std::string::npos, text);
  // pmacctd has no sub-agents and names itself.
  BOOST_TEST(json.find(R"("peer_ip_src": "127.0.0.1")") != std::string::npos);
  BOOST_TEST(json.find(R"("export_protocol": "sflow_v5")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pmacctd_sfprobe_records_match_sfacctd_json_key_for_key) {
  sfprobe_run r;
  auto sf_port = free_port();
  auto sf_dir = r.dir / "sfacctd";
  std::filesystem::create_directories(sf_dir);
  write_file(r.dir / "sfacctd.conf", pmacct_print_config("sfacctd", sf_port, sf_dir));
  process sfacctd({"sfacctd", "-f", (r.dir / "sfacctd.conf").string()}, r.dir.path, "sfacctd");
  std::this_thread::sleep_for(500ms);
  BOOST_REQUIRE(sfacctd.running());
  BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/replay.py " + r.capture.string() + " " +
                          std::to_string(sf_port)),
                      0);
  std::this_thread::sleep_for(3s); // two print refreshes
  sfacctd.signal(SIGINT);
  sfacctd.wait_exit(10s);
  std::string out;
  // sfacctd sums samples of one flow that arrive together, so both sides are
  // compared as per-flow sums (ORed TCP flags); every key it prints must match.
  auto code = run(python + " " + scripts + "/compare_with_nfacctd.py " + r.output.string() + " " +
                      sf_dir.string() + "/*.json --aggregate",
                  &out);
  BOOST_TEST_INFO(out);
  BOOST_TEST(code == 0);
  BOOST_TEST(out.find("matched 140 of 140 nfacctd records, 0 differences") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(counter_samples_become_the_counter_lines_sfacctd_writes) {
  // flowgen's sFlow (a counter sample per datagram of counters, at start and
  // every second) on a virtual clock, replayed into tidewatchd, whose counter
  // sink writes the samples, and into sfacctd with its counter file.
  scratch_dir dir{"sflow-counters"};
  auto capture = dir / "flowgen.pcap";
  BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol sflow --write-pcap " + capture.string() +
                          " --records 3000 --rate 1000 --template-interval 1"),
                      0);
  uint16_t port = free_port();
  write_file(dir / "ours.txt", "10.0.0.0/8 lab\n");
  write_file(dir / "node.yaml",
             node_config(dir.path, free_port()) +
                 "  sflow:\n    enabled: true\n    listeners:\n"
                 "      - {address: 127.0.0.1, port: " +
                 std::to_string(port) + "}\n    enrichment:\n      prefix_file: " +
                 (dir / "ours.txt").string() + "\n    sinks:\n      - type: file\n        path: " +
                 (dir / "counters.json").string() + "\n        records: counters\n");
  process daemon({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(daemon.wait_for("sflow: listening on udp", 10s));
  uint16_t sf_port = free_port();
  write_file(dir / "sfacctd.conf",
             "daemonize: false\nsfacctd_ip: 127.0.0.1\nsfacctd_port: " + std::to_string(sf_port) +
                 "\nsfacctd_counter_file: " + (dir / "sfacctd-counters.json").string() +
                 "\nsfacctd_counter_output: json\nplugins: print\n"
                 "print_output_file: " +
                 (dir / "sfacctd-flows.json").string() + "\n");
  process sfacctd({"sfacctd", "-f", (dir / "sfacctd.conf").string()}, dir.path, "sfacctd");
  std::this_thread::sleep_for(500ms);
  BOOST_REQUIRE(sfacctd.running());
  for (auto target : {port, sf_port})
    BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/replay.py " + capture.string() + " " +
                            std::to_string(target)),
                        0);
  std::this_thread::sleep_for(1s);
  daemon.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(daemon.wait_exit(15s).value_or(-1), 0);
  sfacctd.signal(SIGINT);
  sfacctd.wait_exit(10s);
  // "seq" and "timestamp" (sfacctd: when it wrote; tidewatch: arrival) aside,
  // every line must be sfacctd's, in the same order.
  auto tail = [](const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (auto& line : lines)
      if (auto at = line.find("\"peer_ip_src\""); at != std::string::npos)
        out.push_back(line.substr(at));
    return out;
  };
  auto ours = lines_of(read_file(dir / "counters.json"));
  auto theirs = tail(lines_of(read_file(dir / "sfacctd-counters.json")));
  // Three counter datagrams (t = 0, 1, 2 s), each with a generic and an
  // Ethernet record per interface.
  BOOST_TEST(ours.size() >= 6u);
  BOOST_TEST(ours.size() % 2 == 0u);
  BOOST_TEST(tail(ours) == theirs, boost::test_tools::per_element());
  for (size_t i = 0; i < ours.size(); ++i)
    BOOST_TEST(ours[i].rfind("{\"seq\": " + std::to_string(i) + ", \"timestamp\": \"", 0) == 0u,
               ours[i]);
  BOOST_TEST(daemon.err().find("wrote 0 records and " + std::to_string(ours.size()) +
                               " counter records") != std::string::npos,
             daemon.err());
}
