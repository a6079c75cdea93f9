#define BOOST_TEST_MODULE attack_actions
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "actors/common/clock.hpp"
#include "actors/detector/attack_actions.hpp"
#include "actors/detector/detector_report.hpp"
#include "temp_dir.hpp"

using namespace tidewatch;
namespace fs = std::filesystem;

namespace {

attack_report sample_attack() {
  attack_report a;
  a.id = 3;
  ip_address::parse("192.0.2.1", a.address);
  a.target = "192.0.2.1/32";
  a.hostgroup = "customers";
  a.type = "amplification";
  a.service = "ntp";
  a.share_permille = 975;
  a.threshold = "udp_mbps 10";
  a.start_us = 1'764'358'400'250'000; // 2025-11-28T19:33:20.250Z
  a.peak_pps = 20000;
  a.peak_bps = 74'880'000;
  a.peak_flows = 2000;
  a.current_pps = 10000;
  a.current_bps = 37'440'000;
  a.current_flows = 1000;
  a.records = 400;
  a.packets = 4000;
  a.bytes = 1'872'000;
  a.src_ports = {{"123", 3900}, {"53", 100}};
  a.protocols = {{"udp", 4000}};
  a.flow_sample = {"203.0.113.9:123 > 192.0.2.1:40000 udp 10 pkts 4680 bytes"};
  a.bpf = "dst host 192.0.2.1 and udp and src port 123";
  a.flowspec = "destination 192.0.2.1/32; protocol =17; source-port =123";
  return a;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Polls until no child runs (at most five seconds).
void wait_for_children(child_processes& children) {
  for (int i = 0; i < 500 && children.running() > 0; ++i) {
    children.poll(unix_now_us());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void write_script(const fs::path& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_notify_script_gets_fastnetmon_arguments_and_the_details_on_stdin) {
  test::temp_dir dir{"tw-actions"};
  auto script = dir.path / "notify.sh";
  write_script(script, "echo \"$@\" > " + (dir.path / "args").string() + "\ncat > " +
                           (dir.path / "stdin").string() + "\n");
  child_processes children;
  std::string error;
  auto a = sample_attack();
  BOOST_REQUIRE(children.start(notify_arguments(script.string(), a, "ban"),
                               render_attack_details(a), 5'000'000, unix_now_us(), error));
  wait_for_children(children);
  BOOST_TEST(children.stats().exited_ok == 1u);
  BOOST_TEST(read_file(dir.path / "args") == "192.0.2.1 incoming 20000 ban\n");
  BOOST_TEST(read_file(dir.path / "stdin") == render_attack_details(a));
}

BOOST_AUTO_TEST_CASE(a_child_past_its_deadline_is_killed_and_a_missing_one_is_counted) {
  child_processes children;
  std::string error;
  BOOST_REQUIRE(children.start({"sleep", "30"}, "", 100'000, unix_now_us(), error));
  BOOST_TEST(children.running() == 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  children.poll(unix_now_us());
  BOOST_TEST(children.running() == 0u);
  BOOST_TEST(children.stats().timed_out == 1u);
  BOOST_TEST(!children.start({"/nonexistent/notify"}, "", 100'000, unix_now_us(), error));
  BOOST_TEST(error == "/nonexistent/notify: No such file or directory");
  BOOST_TEST(children.stats().spawn_failed == 1u);
}

BOOST_AUTO_TEST_CASE(a_child_that_ignores_a_large_stdin_neither_blocks_nor_kills_us) {
  child_processes children;
  std::string error;
  BOOST_REQUIRE(
      children.start({"false"}, std::string(4 << 20, 'x'), 5'000'000, unix_now_us(), error));
  wait_for_children(children);
  BOOST_TEST(children.stats().exited_error == 1u);
}

BOOST_AUTO_TEST_CASE(the_details_file_holds_the_rendered_attack) {
  test::temp_dir dir{"tw-actions"};
  std::string error;
  auto a = sample_attack();
  auto path = write_attack_details((dir.path / "attacks").string(), a, error);
  BOOST_TEST(path == (dir.path / "attacks" / "attack-3-192.0.2.1_32.txt").string());
  auto text = read_file(path);
  BOOST_TEST(text == render_attack_details(a));
  BOOST_TEST(text.find("Type: amplification (ntp)\n") != std::string::npos);
  BOOST_TEST(text.find("Matched share: 97.5%\n") != std::string::npos);
  BOOST_TEST(text.find("Start: 2025-11-28T19:33:20.250Z\n") != std::string::npos);
  BOOST_TEST(text.find("Source ports: 123 (3900), 53 (100)\n") != std::string::npos);
  BOOST_TEST(text.find("Peak rate: 20000 pps, 74.9 Mbit/s, 2000 flows/s\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mail_syslog_and_json_say_what_happened) {
  auto a = sample_attack();
  auto mail = email_message("tw@example.net", {"noc@example.net", "sec@example.net"}, "ban", a);
  BOOST_TEST(mail.starts_with("From: tw@example.net\nTo: noc@example.net, sec@example.net\n"
                              "Subject: tidewatch: ban 192.0.2.1/32 incoming amplification\n"));
  BOOST_TEST(syslog_line("unban", a) == "unban 192.0.2.1/32 incoming attack 3 amplification/ntp "
                                        "share 97% peak 20000 pps 74880000 bps (udp_mbps 10)");
  auto json = render_attacks_json({{a}});
  BOOST_TEST(json.starts_with("{\"attacks\":[{\"id\":3,\"target\":\"192.0.2.1/32\",\"address\":"
                              "\"192.0.2.1\",\"hostgroup\":\"customers\",\"group_attack\":false,"
                              "\"direction\":\"incoming\",\"type\":\"amplification\","));
  BOOST_TEST(json.find("\"end\":null,\"active\":true,\"peak_pps\":20000,") != std::string::npos);
  BOOST_TEST(json.find("\"src_ports\":[{\"key\":\"123\",\"packets\":3900},{\"key\":\"53\","
                       "\"packets\":100}]") != std::string::npos);
  auto table = render_attacks_table({{a}});
  BOOST_TEST(table.substr(table.find('\n') + 1, 40) == "3     192.0.2.1/32              in   amp");
  BOOST_TEST(split_command("/usr/sbin/sendmail  -t -i") ==
                 (std::vector<std::string>{"/usr/sbin/sendmail", "-t", "-i"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(top_renders_as_table_and_json) {
  top_hosts top{"pps", "in", 1'764'358'400'000'000, 2, {}};
  host_rates h;
  ip_address::parse("192.0.2.2", h.address);
  h.pps_in = 300;
  h.bps_in = 2'500'000;
  h.flows_in = 7;
  top.hosts.push_back(h);
  BOOST_TEST(render_top_json(top) ==
             "{\"metric\":\"pps\",\"direction\":\"in\",\"taken\":\"2025-11-28T19:33:20.000Z\","
             "\"hosts_tracked\":2,\"hosts\":[{\"address\":\"192.0.2.2\",\"hostgroup\":\"\","
             "\"pps_in\":300,\"pps_out\":0,\"bps_in\":2500000,\"bps_out\":0,\"flows_in\":7,"
             "\"flows_out\":0}]}\n");
  auto table = render_top_table(top);
  auto row = table.substr(table.rfind('\n', table.size() - 2) + 1);
  BOOST_TEST(row.starts_with("192.0.2.2"));
  BOOST_TEST(
      row.find("-               300         0           2.5       0.0       7         0\n") !=
      std::string::npos);
}
