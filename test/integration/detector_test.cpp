#define BOOST_TEST_MODULE detector
#include <boost/test/unit_test.hpp>

// tidewatchd's DoS detector on real exports: floods built as captures here
// and exported by softflowd or pmacctd, and flowgen's attack mode. Each is found with
// its type and target; the notify script (FastNetMon's arguments), the
// details file and the mail (a fake sendmail) see the ban and the unban.
// Normal traffic and a single large download are never banned.

#include <algorithm>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

struct detector_fixture {
  scratch_dir dir{"detector"};
  uint16_t port = free_port();
  std::filesystem::path calls = dir / "calls";
  std::filesystem::path mail = dir / "mail";
  std::filesystem::path attacks = dir / "attacks";

  /// A node whose detector watches 100.64.0.0/24 (servers) and
  /// 198.51.100.0/24 (customers, with a total threshold against carpet
  /// bombing); attacks end 1 s after the traffic, bans last 2 s.
  detector_fixture() {
    write_file(dir / "ours.txt", "100.64.0.0/24 servers\n198.51.100.0/24 customers\n");
    write_file(dir / "notify.sh", "#!/bin/sh\necho \"$@\" >> " + calls.string() + "\ncat > " +
                                      (dir / "stdin-").string() + "$4\n");
    write_file(dir / "sendmail", "#!/bin/sh\necho \"args: $@\" >> " + mail.string() + "\ncat >> " +
                                     mail.string() + "\n");
    std::filesystem::permissions(dir / "notify.sh", std::filesystem::perms::owner_all);
    std::filesystem::permissions(dir / "sendmail", std::filesystem::perms::owner_all);
    write_file(dir / "node.yaml",
               node_config(dir.path, port) +
                   "    enrichment:\n      prefix_file: " + (dir / "ours.txt").string() +
                   "\n    detector:\n      enabled: true\n      end_after: 1s\n"
                   "      ban_time: 2s\n      thresholds: {pps: 20000, syn_pps: 2000, "
                   "syn_flows: 1000, udp_pps: 3000, icmp_pps: 2000, mbps: 20}\n"
                   "      hostgroups:\n        - name: customers\n"
                   "          prefixes: [198.51.100.0/24]\n"
                   "          group_thresholds: {udp_pps: 4000}\n"
                   "      details: {directory: " +
                   attacks.string() + "}\n      notify: {path: " + (dir / "notify.sh").string() +
                   ", details_delay: 0s}\n      email: {enabled: true, command: " +
                   (dir / "sendmail").string() + " -t, to: [noc@example.net]}\n");
  }

  /// Waits until `file` contains `text` (10 s at most).
  bool wait_for_text(const std::filesystem::path& file, const std::string& text) {
    for (int i = 0; i < 1000; ++i) {
      if (read_file(file).find(text) != std::string::npos)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  /// Builds a capture of `kind` towards `target`; returns its path.
  std::filesystem::path flood_pcap(const std::string& kind, const std::string& target) {
    auto pcap = dir / (kind + ".pcap");
    BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/make_flood_pcap.py " + pcap.string() + " " +
                            kind + " " + target),
                        0);
    return pcap;
  }

  /// Builds a capture of `kind` towards `target` and exports it with softflowd.
  void export_flood(const std::string& kind, const std::string& target) {
    BOOST_REQUIRE_EQUAL(run("softflowd -r " + flood_pcap(kind, target).string() +
                            " -n 127.0.0.1:" + std::to_string(port) + " -d -a -v 9 > /dev/null"),
                        0);
  }

  /// The same with pmacctd's nfprobe plugin (NetFlow v9), which exports
  /// every flow when it reaches the end of the capture.
  void export_flood_with_pmacctd(const std::string& kind, const std::string& target) {
    auto conf = dir / "pmacctd.conf";
    write_file(conf, "daemonize: false\npcap_savefile: " + flood_pcap(kind, target).string() +
                         "\npcap_savefile_wait: false\nplugins: nfprobe[nf]\n"
                         "aggregate[nf]: src_host,dst_host,src_port,dst_port,proto,tos,tcpflags\n"
                         "nfprobe_receiver[nf]: 127.0.0.1:" +
                         std::to_string(port) + "\nnfprobe_version[nf]: 9\n");
    std::string out;
    int rc = run("pmacctd -f " + conf.string(), &out);
    BOOST_REQUIRE_MESSAGE(exporter_finished(rc, out), out);
  }

  /// Checks one attack from ban to unban: the script's arguments, the
  /// details file, the mail.
  void expect_attack(process& d, const std::string& address, const std::string& target,
                     const std::string& type) {
    BOOST_REQUIRE_MESSAGE(wait_for_text(calls, address + " incoming "), d.err());
    auto first = lines_of(read_file(calls)).front();
    BOOST_TEST(first.starts_with(address + " incoming "));
    BOOST_TEST(first.ends_with(" ban"));
    BOOST_TEST(std::stoul(first.substr(address.size() + 10)) > 0u);
    BOOST_REQUIRE(wait_for_text(calls, " unban"));
    auto all = lines_of(read_file(calls));
    BOOST_REQUIRE_EQUAL(all.size(), 3u);
    BOOST_TEST(all[1].ends_with(" attack_details"));
    BOOST_TEST(all[2].starts_with(address + " incoming "));
    BOOST_TEST(read_file(dir / "stdin-ban").find("Type: " + type) != std::string::npos);
    // The script writes its arguments first, then its stdin.
    BOOST_TEST(wait_for_text(dir / "stdin-unban", "Target: " + target + "\n"));
    std::string name = target;
    std::replace(name.begin(), name.end(), '/', '_');
    auto details = read_file(attacks / ("attack-1-" + name + ".txt"));
    BOOST_TEST(details.find("Type: " + type) != std::string::npos);
    BOOST_TEST(details.find("End: active") == std::string::npos);
    BOOST_REQUIRE(wait_for_text(mail, "Subject: tidewatch: unban"));
    auto m = read_file(mail);
    BOOST_TEST(m.find("args: -t\nFrom: tidewatch@localhost\nTo: noc@example.net\n"
                      "Subject: tidewatch: ban " +
                      target + " incoming " + type + "\n") != std::string::npos);
  }

  /// An NTP amplification on 100.64.0.8, exported by `exporter`, is found
  /// with its type, source port and BPF, and banned and unbanned.
  void expect_ntp_amplification(void (detector_fixture::*exporter)(const std::string&,
                                                                   const std::string&)) {
    process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
    BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
    (this->*exporter)("ntp", "100.64.0.8");
    expect_attack(d, "100.64.0.8", "100.64.0.8/32", "amplification");
    auto details = read_file(dir / "stdin-ban");
    BOOST_TEST(details.find("Type: amplification (ntp)\n") != std::string::npos);
    BOOST_TEST(details.find("Source ports: 123 (") != std::string::npos);
    BOOST_TEST(details.find("BPF: dst host 100.64.0.8 and udp and src port 123\n") !=
               std::string::npos);
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_syn_flood_from_many_sources_exported_by_softflowd_is_banned_and_unbanned,
                        detector_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  export_flood("syn", "100.64.0.7");
  expect_attack(d, "100.64.0.7", "100.64.0.7/32", "syn_flood");
  BOOST_TEST(read_file(dir / "stdin-ban").find("TCP flags: SYN (") != std::string::npos);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(ntp_amplification_is_banned_as_amplification_from_port_123,
                        detector_fixture) {
  expect_ntp_amplification(&detector_fixture::export_flood);
}

BOOST_FIXTURE_TEST_CASE(ntp_amplification_exported_by_pmacctd_nfprobe_is_banned_and_unbanned,
                        detector_fixture) {
  expect_ntp_amplification(&detector_fixture::export_flood_with_pmacctd);
}

BOOST_FIXTURE_TEST_CASE(an_icmp_flood_is_banned_as_icmp_flood, detector_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  export_flood("icmp", "100.64.0.9");
  expect_attack(d, "100.64.0.9", "100.64.0.9/32", "icmp_flood");
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(carpet_bombing_over_a_24_is_banned_as_a_hostgroup_attack,
                        detector_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  export_flood("carpet", "198.51.100.0");
  expect_attack(d, "198.51.100.0/24", "198.51.100.0/24", "amplification");
  BOOST_TEST(read_file(dir / "stdin-ban").find("Scope: hostgroup total\n") != std::string::npos);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(flowgen_attack_mode_is_banned_and_normal_traffic_around_it_is_not,
                        detector_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  process sender({"/bin/sh", "-c",
                  flowgen + " --protocol v9 --target 127.0.0.1:" + std::to_string(port) +
                      " --rate 2000 --duration 2 --hosts 1000 --src-prefix 10.0.0.0/8"
                      " --dst-prefix 100.64.0.0/24 --attack 100.64.0.200 --attack-type syn"
                      " --attack-rate 3000"},
                 dir.path, "flowgen");
  // While the flood runs, `tidewatch top` ranks its target first by flows in.
  std::this_thread::sleep_for(1200ms);
  std::string top;
  BOOST_TEST(inspect(d, "top flows in 3 --json", top) == 0, top);
  BOOST_TEST(top.find("{\"address\":\"100.64.0.200\"") == top.find("{\"address\":"), top);
  BOOST_REQUIRE_EQUAL(sender.wait_exit(20s).value_or(-1), 0);
  expect_attack(d, "100.64.0.200", "100.64.0.200/32", "syn_flood");
  // After the unban, `tidewatch attacks` still lists it among the recent ones.
  std::string attacks;
  BOOST_TEST(inspect(d, "attacks --json", attacks) == 0, attacks);
  BOOST_TEST(attacks.find("\"target\":\"100.64.0.200/32\"") != std::string::npos, attacks);
  BOOST_TEST(attacks.find("\"type\":\"syn_flood\"") != std::string::npos, attacks);
  BOOST_TEST(attacks.find("\"active\":false") != std::string::npos, attacks);
  BOOST_TEST(inspect(d, "attacks", attacks) == 0);
  BOOST_TEST(attacks.find("100.64.0.200/32") != std::string::npos, attacks);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(normal_mixed_traffic_and_one_large_download_are_never_banned,
                        detector_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  // 2000 flows/s from 1000 hosts to our 256 servers for 3 s.
  BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol ipfix --target 127.0.0.1:" + std::to_string(port) +
                          " --rate 2000 --records 6000 --hosts 1000 --src-prefix 10.0.0.0/8"
                          " --dst-prefix 100.64.0.0/24 > /dev/null"),
                      0);
  // One flow of 6000 packets/s of 1500 bytes for 0.5 s: 72 Mbit/s, over
  // the 20 Mbit/s threshold, with a normal packet rate.
  export_flood("download", "100.64.0.20");
  std::this_thread::sleep_for(1500ms);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
  BOOST_TEST(read_file(calls) == "");
  BOOST_TEST(d.err().find("detector: ban") == std::string::npos);
  BOOST_TEST(d.err().find("detector: 0 bans, 0 unbans") != std::string::npos);
  BOOST_TEST(count_lines(dir / "flows.json") == 6001u);
}
