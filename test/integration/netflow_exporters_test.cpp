#define BOOST_TEST_MODULE netflow_exporters
#include <boost/test/unit_test.hpp>

// Real exporters (softflowd, pmacctd's nfprobe) turn a capture the test
// generates into NetFlow v5/v9/IPFIX sent to tidewatchd on loopback; dumpcap
// records those datagrams. tidewatch's records must equal tshark's decoding
// of the same datagrams, `tidewatch decode` of the capture, and nfacctd's
// JSON for a replay of it.

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// What make_traffic_pcap.py reports about the traffic it wrote.
struct traffic {
  std::filesystem::path pcap;
  size_t packets = 0;
  size_t flows = 0; ///< unidirectional
  size_t ipv4_packets = 0;
  size_t ipv4_flows = 0;
};

traffic make_traffic(const scratch_dir& dir) {
  traffic t;
  t.pcap = dir / "traffic.pcap";
  std::string out;
  BOOST_REQUIRE_EQUAL(
      run(python + " " + scripts + "/make_traffic_pcap.py " + t.pcap.string(), &out), 0);
  std::istringstream in(out);
  in >> t.packets >> t.flows >> t.ipv4_packets >> t.ipv4_flows;
  // Fixed by the generator's seed: a change here means the generator changed.
  BOOST_REQUIRE_EQUAL(t.packets, 1534u);
  BOOST_REQUIRE_EQUAL(t.flows, 140u);
  return t;
}

uint64_t total_packets(const std::vector<std::string>& flows) {
  uint64_t sum = 0;
  for (auto& f : flows) {
    std::istringstream in(f);
    std::string skip;
    uint64_t packets = 0;
    for (int i = 0; i < 5; ++i)
      in >> skip;
    in >> packets;
    sum += packets;
  }
  return sum;
}

/// One export run: tidewatchd listening, dumpcap recording, `exporter` sending.
struct export_run {
  scratch_dir dir{"exporters"};
  uint16_t port = free_port();
  std::filesystem::path capture = dir / "export.pcap";
  std::filesystem::path output = dir / "flows.json";
  std::string daemon_log;
  int daemon_exit = -1;

  void execute(const std::string& exporter_command) {
    write_file(dir / "node.yaml", node_config(dir.path, port));
    process daemon({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
    BOOST_REQUIRE(daemon.wait_for("listening on udp", 10s));
    process dumpcap({"dumpcap", "-q", "-i", "lo", "-f", "udp dst port " + std::to_string(port),
                     "-w", capture.string()},
                    dir.path, "dumpcap");
    BOOST_REQUIRE(dumpcap.wait_for("Capturing on", 10s));
    // dumpcap says so before its capture filter is in place.
    std::this_thread::sleep_for(300ms);
    std::string out;
    auto command = exporter_command;
    for (auto at = command.find("{PORT}"); at != std::string::npos; at = command.find("{PORT}"))
      command.replace(at, 6, std::to_string(port));
    for (auto at = command.find("{DIR}"); at != std::string::npos; at = command.find("{DIR}"))
      command.replace(at, 5, dir.path.string());
    BOOST_REQUIRE_MESSAGE(exporter_finished(run(command, &out), out), command << ": " << out);
    std::this_thread::sleep_for(500ms); // the last datagrams reach both receivers
    dumpcap.signal(SIGINT);
    BOOST_REQUIRE(dumpcap.wait_exit(10s).has_value());
    daemon.signal(SIGTERM);
    auto code = daemon.wait_exit(15s);
    BOOST_REQUIRE(code.has_value());
    daemon_exit = *code;
    daemon_log = daemon.err();
  }

  std::vector<std::string> tidewatch_flows() {
    std::string out;
    BOOST_REQUIRE_EQUAL(
        run(python + " " + scripts + "/flows_from_json.py " + output.string(), &out), 0);
    return lines_of(out);
  }

  std::vector<std::string> tshark_flows() {
    std::string out;
    BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/flows_from_tshark.py " + capture.string() +
                                " " + std::to_string(port),
                            &out),
                        0);
    return lines_of(out);
  }

  std::vector<std::string> offline_flows() {
    auto offline = dir / "offline.json";
    std::string out;
    BOOST_REQUIRE_EQUAL(
        run(tidewatch_cli + " decode " + capture.string() + " > " + offline.string()), 0);
    BOOST_REQUIRE_EQUAL(
        run(python + " " + scripts + "/flows_from_json.py " + offline.string(), &out), 0);
    return lines_of(out);
  }

  /// Replays the capture into nfacctd and compares its JSON with ours;
  /// `ignore` names keys left out of the comparison besides receive times;
  /// `extra_config` adds nfacctd configuration lines.
  void compare_with_nfacctd(const std::string& ignore = "", const std::string& extra_config = "") {
    auto nf_port = free_port();
    auto nf_dir = dir / "nfacctd";
    std::filesystem::create_directories(nf_dir);
    write_file(dir / "nfacctd.conf",
               pmacct_print_config("nfacctd", nf_port, nf_dir) + extra_config);
    process nfacctd({"nfacctd", "-f", (dir / "nfacctd.conf").string()}, dir.path, "nfacctd");
    std::this_thread::sleep_for(500ms);
    BOOST_REQUIRE(nfacctd.running());
    BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/replay.py " + capture.string() + " " +
                            std::to_string(nf_port)),
                        0);
    std::this_thread::sleep_for(3s); // two print refreshes
    nfacctd.signal(SIGINT);
    nfacctd.wait_exit(10s);
    std::string out;
    auto code = run(python + " " + scripts + "/compare_with_nfacctd.py " + output.string() + " " +
                        nf_dir.string() + "/*.json" + (ignore.empty() ? "" : " --ignore " + ignore),
                    &out);
    BOOST_TEST_INFO(out);
    BOOST_TEST(code == 0);
    BOOST_TEST(out.find(" 0 differences") != std::string::npos);
  }
};

/// The checks every exporter shares: the daemon stopped cleanly, and its
/// records equal tshark's and the offline decoder's, record for record.
void expect_same_flows(export_run& r, size_t records, uint64_t packets) {
  BOOST_TEST(r.daemon_exit == 0);
  auto ours = r.tidewatch_flows();
  auto reference = r.tshark_flows();
  BOOST_TEST(ours.size() == records);
  BOOST_TEST(total_packets(ours) == packets);
  BOOST_TEST(ours == reference, boost::test_tools::per_element());
  BOOST_TEST(r.offline_flows() == ours, boost::test_tools::per_element());
  BOOST_TEST(r.daemon_log.find("decode errors 0, sequence losses 0") != std::string::npos);
}

std::string softflowd(const traffic& t, const std::string& version) {
  return "softflowd -r " + t.pcap.string() + " -n 127.0.0.1:{PORT} -d -a " + version;
}

std::string pmacctd(const export_run& r, const traffic& t, int version) {
  auto conf = r.dir / ("pmacctd-v" + std::to_string(version) + ".conf");
  write_file(conf, "daemonize: false\npcap_savefile: " + t.pcap.string() +
                       "\npcap_savefile_wait: false\nplugins: nfprobe[nf]\n"
                       "aggregate[nf]: src_host,dst_host,src_port,dst_port,proto,tos,tcpflags\n"
                       "nfprobe_receiver[nf]: 127.0.0.1:" +
                       std::to_string(r.port) +
                       "\nnfprobe_version[nf]: " + std::to_string(version) + "\n");
  return "pmacctd -f " + conf.string();
}

struct traffic_fixture {
  scratch_dir dir{"traffic"};
  traffic t = make_traffic(dir);
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(real_exporters, traffic_fixture)

BOOST_AUTO_TEST_CASE(softflowd_netflow_v5_records_match_tshark_exactly) {
  export_run r;
  r.execute(softflowd(t, "-v 5"));
  // v5 carries IPv4 only; softflowd leaves the IPv6 flows out.
  expect_same_flows(r, t.ipv4_flows, t.ipv4_packets);
}

BOOST_AUTO_TEST_CASE(softflowd_netflow_v9_records_match_tshark_exactly) {
  export_run r;
  r.execute(softflowd(t, "-v 9"));
  expect_same_flows(r, t.flows, t.packets);
}

/// The earliest flow start and latest flow end in a JSON-lines file.
std::pair<std::string, std::string> flow_time_range(const std::filesystem::path& file) {
  auto text = read_file(file);
  std::string first = "9999", last = "0000";
  auto scan = [&](const std::string& key, auto keep) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      auto value = text.substr(at + key.size(), 26);
      keep(value);
    }
  };
  scan("\"timestamp_start\": \"", [&](const std::string& v) { first = std::min(first, v); });
  scan("\"timestamp_end\": \"", [&](const std::string& v) { last = std::max(last, v); });
  return {first, last};
}

BOOST_AUTO_TEST_CASE(softflowd_ipfix_records_match_tshark_and_nfacctd_exactly) {
  export_run r;
  r.execute(softflowd(t, "-v 10"));
  expect_same_flows(r, t.flows, t.packets);
  // softflowd's IPFIX times are uptime-relative (IEs 21/22) with the boot time
  // in options data (IE 160). nfacctd ignores IE 160 and prints the export
  // time as start and no end; tidewatch uses it, so its times lie within the
  // capture's own: it starts at 1700000000 s (2023-11-14 22:13:20 UTC) and
  // lasts under 10 s.
  r.compare_with_nfacctd("timestamp_start,timestamp_end");
  auto [first, last] = flow_time_range(r.output);
  BOOST_TEST(first >= "2023-11-14 22:13:20.000000");
  BOOST_TEST(first < "2023-11-14 22:13:20.100000");
  BOOST_TEST(last > "2023-11-14 22:13:25.000000");
  BOOST_TEST(last < "2023-11-14 22:13:30.000000");
}

BOOST_AUTO_TEST_CASE(softflowd_ipfix_sampled_1_in_10_is_scaled_by_the_announced_rate) {
  export_run r;
  // softflowd announces its sampling as samplingPacketInterval 1 and
  // samplingPacketSpace 9 (IEs 305/306) in options data: rate (1 + 9) / 1.
  r.execute(softflowd(t, "-v 10 -s 10"));
  BOOST_TEST(r.daemon_exit == 0);
  auto ours = r.tidewatch_flows();
  std::vector<std::string> scaled;
  for (auto& line : r.tshark_flows()) {
    std::istringstream in(line);
    std::string field[8];
    for (auto& f : field)
      in >> f;
    field[5] = std::to_string(std::stoull(field[5]) * 10);
    field[6] = std::to_string(std::stoull(field[6]) * 10);
    std::string out;
    for (auto& f : field)
      out += (out.empty() ? "" : " ") + f;
    scaled.push_back(out);
  }
  std::sort(scaled.begin(), scaled.end());
  BOOST_TEST(ours.size() == 102u); // softflowd's own count for this capture at 1 in 10
  BOOST_TEST(ours == scaled, boost::test_tools::per_element());
  auto text = read_file(r.output);
  BOOST_TEST(count_of(text, "\"sampling_rate\": 10, ") == ours.size());
  BOOST_TEST(count_of(text, "\"sampling_source\": \"export\"") == ours.size());
  // nfacctd scales the same way when told to renormalize (it then prints
  // sampling_rate 1, the rate left after scaling).
  r.compare_with_nfacctd("timestamp_start,timestamp_end,sampling_rate",
                         "nfacctd_renormalize: true\n");
}

BOOST_AUTO_TEST_CASE(softflowd_bidirectional_ipfix_yields_both_directions) {
  export_run r;
  r.execute(softflowd(t, "-v 10 -b"));
  // The answered flows arrive as one biflow each and leave as two records.
  expect_same_flows(r, t.flows, t.packets);
}

BOOST_AUTO_TEST_CASE(pmacctd_nfprobe_v9_records_match_tshark_and_nfacctd_exactly) {
  export_run r;
  r.execute(pmacctd(r, t, 9));
  expect_same_flows(r, t.flows, t.packets);
  r.compare_with_nfacctd();
}

BOOST_AUTO_TEST_CASE(pmacctd_nfprobe_ipfix_records_match_tshark_and_nfacctd_exactly) {
  export_run r;
  r.execute(pmacctd(r, t, 10));
  expect_same_flows(r, t.flows, t.packets);
  r.compare_with_nfacctd();
}

BOOST_AUTO_TEST_SUITE_END()
