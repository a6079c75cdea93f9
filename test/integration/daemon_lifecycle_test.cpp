#define BOOST_TEST_MODULE daemon_lifecycle
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {} // namespace

BOOST_AUTO_TEST_CASE(the_daemon_reports_its_listener_and_stops_cleanly_on_sigterm) {
  scratch_dir dir("lifecycle");
  auto port = free_port();
  write_file(dir / "node.yaml", node_config(dir.path, port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp [127.0.0.1]:" + std::to_string(port), 10s));
  d.signal(SIGTERM);
  auto code = d.wait_exit(10s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  BOOST_TEST(d.err().find("pipeline netflow drained") != std::string::npos);
  BOOST_TEST(d.err().find("tidewatchd stopped (exit 0)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(records_in_flight_at_sigterm_are_flushed_to_the_sink_before_exit) {
  scratch_dir dir("flush");
  auto port = free_port();
  write_file(dir / "node.yaml", node_config(dir.path, port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  std::string out;
  BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(port) +
                              " --protocol ipfix --records 20000 --rate 200000 --seed 7",
                          &out),
                      0);
  // No pause: whatever is still in the listener, decoder or sink buffers
  // must be drained and written by the shutdown path.
  d.signal(SIGTERM);
  auto code = d.wait_exit(15s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  BOOST_TEST(count_lines(dir / "flows.json") == 20000u);
}

BOOST_AUTO_TEST_CASE(a_port_held_by_another_socket_makes_the_daemon_give_up_with_exit_1) {
  scratch_dir dir("giveup");
  // Hold the port without SO_REUSEPORT so that the listener cannot share it.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  auto port = ntohs(sa.sin_port);
  write_file(dir / "node.yaml",
             node_config(dir.path, port,
                         "supervision:\n  max_restarts: 2\n  backoff_initial: 10ms\n"
                         "  backoff_max: 40ms\n"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  auto code = d.wait_exit(20s);
  ::close(fd);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 1);
  auto err = d.err();
  BOOST_TEST(err.find("Address already in use") != std::string::npos);
  BOOST_TEST(err.find("netflow: 3 failures within 60000ms (max_restarts 2); giving up") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(sighup_applies_a_new_log_level_and_keeps_running_on_a_broken_file) {
  scratch_dir dir("reload");
  auto port = free_port();
  write_file(dir / "node.yaml", node_config(dir.path, port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto text = node_config(dir.path, port);
  text.replace(text.find("level: info"), 11, "level: debug");
  write_file(dir / "node.yaml", text);
  d.signal(SIGHUP);
  BOOST_REQUIRE(d.wait_for("SIGHUP: reloaded configuration from " + (dir / "node.yaml").string() +
                               " (logging level debug)",
                           10s));
  write_file(dir / "node.yaml", text + "bogus_section: 1\n");
  d.signal(SIGHUP);
  // The bogus line follows the config's last line.
  auto bogus_line = std::to_string(count_of(text, "\n") + 1);
  BOOST_REQUIRE(d.wait_for("reload rejected: " + (dir / "node.yaml").string() + ":" + bogus_line +
                               ": bogus_section: unknown key",
                           10s));
  BOOST_TEST(d.running());
  d.signal(SIGTERM);
  auto code = d.wait_exit(10s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_CASE(a_broken_config_stops_the_daemon_at_start_with_file_line_and_key) {
  scratch_dir dir("badcfg");
  write_file(dir / "node.yaml",
             "node:\n  name: x\npipelines:\n  netflow:\n    receive_threads: 0\n");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  auto code = d.wait_exit(10s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 2);
  BOOST_TEST(d.err().find((dir / "node.yaml").string() +
                          ":5: pipelines.netflow.receive_threads: '0' is out of range (1 to 64)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(config_check_prints_the_effective_config_or_each_error) {
  scratch_dir dir("check");
  write_file(dir / "good.yaml", "node:\n  name: edge\n");
  std::string out;
  BOOST_REQUIRE_EQUAL(run(tidewatch_cli + " config check " + (dir / "good.yaml").string(), &out),
                      0);
  BOOST_TEST(out.find("name: \"edge\"") != std::string::npos);
  BOOST_TEST(out.find("port: 4739") != std::string::npos); // defaults filled in
  write_file(dir / "bad.yaml", "logging:\n  level: loud\n");
  BOOST_REQUIRE_EQUAL(run(tidewatch_cli + " config check " + (dir / "bad.yaml").string(), &out), 1);
  BOOST_TEST(out.find((dir / "bad.yaml").string() +
                      ":2: logging.level: 'loud' is not one of: trace, debug, info, warn, error, "
                      "critical, off") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(config_check_reads_the_prefix_list_and_databases_a_config_names) {
  scratch_dir dir("check-files");
  write_file(dir / "ours.txt", "192.0.2.0/24 dc1\n192.0.2.300/32\n");
  write_file(dir / "node.yaml", "pipelines:\n  netflow:\n    enrichment:\n      prefix_file: " +
                                    (dir / "ours.txt").string() + "\n      country_database: " +
                                    (dir / "absent.mmdb").string() + "\n");
  std::string out;
  BOOST_TEST(run(tidewatch_cli + " config check " + (dir / "node.yaml").string(), &out) == 1);
  BOOST_TEST(out.find((dir / "ours.txt").string() +
                      ":2: '192.0.2.300/32' is not an IP address or prefix") != std::string::npos);
  BOOST_TEST(out.find("warning: pipelines.netflow: database " + (dir / "absent.mmdb").string() +
                      ": No such file or directory (its fields will stay empty)") !=
             std::string::npos);
  BOOST_TEST(out.find("1 error(s) in files that " + (dir / "node.yaml").string() + " names") !=
             std::string::npos);
  // The prefix list fixed: the missing database is only a warning.
  write_file(dir / "ours.txt", "192.0.2.0/24 dc1\n");
  BOOST_TEST(run(tidewatch_cli + " config check " + (dir / "node.yaml").string(), &out) == 0);
  BOOST_TEST(out.find("warning: pipelines.netflow: database") != std::string::npos);
  BOOST_TEST(run(tidewatch_cli + " config check " + (dir / "node.yaml").string() + " --syntax-only",
                 &out) == 0);
  BOOST_TEST(out.find("warning:") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(config_check_accepts_every_example_config) {
  auto dir = std::filesystem::path(env_or("TIDEWATCH_SOURCE_DIR", ".")) / "config" / "examples";
  size_t checked = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml")
      continue;
    std::string out;
    BOOST_TEST_INFO(e.path());
    // The files the examples name live on the nodes, not here.
    BOOST_TEST(run(tidewatch_cli + " config check " + e.path().string() + " --syntax-only", &out) ==
               0);
    ++checked;
  }
  BOOST_TEST(checked >= 4u);
}

BOOST_AUTO_TEST_CASE(malformed_datagrams_are_counted_and_logged_while_good_ones_decode) {
  scratch_dir dir("malformed");
  auto port = free_port();
  write_file(dir / "node.yaml", node_config(dir.path, port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send = [&](std::vector<uint8_t> bytes) {
    ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof(dst));
  };
  send({0x00, 0x09, 0x00});                                           // truncated v9 header
  send({0x00, 0x07, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});      // no such version
  send({0x00, 0x0a, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}); // IPFIX length 64 > 16
  ::close(fd);
  std::string out;
  BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(port) +
                              " --protocol v9 --records 5000 --rate 100000",
                          &out),
                      0);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  auto code = d.wait_exit(15s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
  BOOST_TEST(count_lines(dir / "flows.json") == 5000u);
  auto err = d.err();
  BOOST_TEST(err.find("dropped malformed export data from 127.0.0.1:") != std::string::npos);
  BOOST_TEST(err.find("(3 bytes): truncated") != std::string::npos);
  BOOST_TEST(err.find("): bad_version") != std::string::npos);
  BOOST_TEST(err.find("): bad_message_length") != std::string::npos);
  BOOST_TEST(err.find("decode errors 3, sequence losses 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(logs_go_to_syslog_with_the_configured_ident_and_facility) {
  scratch_dir dir("syslog");
  auto port = free_port();
  write_file(dir / "node.yaml",
             node_config(dir.path, port,
                         "  syslog: true\n  syslog_ident: tw-edge\n  syslog_facility: local3\n"));
  std::string out;
  auto capture = "/usr/bin/python3 " + env_or("TIDEWATCH_SOURCE_DIR", ".") +
                 "/test/integration/scripts/syslog_capture.py " + dir.path.string() + " 1.5 " +
                 tidewatchd + " --config " + (dir / "node.yaml").string();
  BOOST_REQUIRE_EQUAL(run(capture + " 2>/dev/null", &out), 0);
  // <158>: facility local3 (19) * 8 + severity info (6).
  BOOST_TEST(out.find("<158>") == 0u);
  BOOST_TEST(out.find(" tw-edge[") != std::string::npos);
  BOOST_TEST(out.find("netflow: listening on udp [127.0.0.1]:" + std::to_string(port)) !=
             std::string::npos);
  BOOST_TEST(out.find("tidewatchd stopped (exit 0)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(decode_rejects_a_bad_port_and_an_unreadable_capture) {
  std::string out;
  BOOST_TEST(run(tidewatch_cli + " decode /nonexistent.pcap --port 70000", &out) == 2);
  BOOST_TEST(out == "tidewatch decode: --port takes a port number from 1 to 65535\n");
  BOOST_TEST(run(tidewatch_cli + " decode /nonexistent.pcap", &out) == 1);
  BOOST_TEST(out.find("tidewatch decode: /nonexistent.pcap: ") == 0u);
}
