#define BOOST_TEST_MODULE reload
#include <boost/test/unit_test.hpp>

// SIGHUP on a running tidewatchd: the detector takes new thresholds without
// losing what it counted, and the replicator's receivers are replaced, the
// ones that stay keeping their counters.

#include <cstdio>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// A udp_capture.py on 127.0.0.1:port: what the replicator sends there.
struct capture {
  uint16_t port = free_port();
  process proc;
  capture(const scratch_dir& dir, const std::string& tag)
      : proc({python, scripts + "/udp_capture.py", "127.0.0.1", std::to_string(port)}, dir.path,
             tag) {
    BOOST_REQUIRE(proc.wait_for("ready", 10s, true));
  }
  /// The payloads (hex) received so far.
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (auto& line : lines_of(proc.out()))
      if (line != "ready")
        out.push_back(line.substr(line.rfind(' ') + 1));
    return out;
  }
  /// Waits until `n` payloads arrived (10 s at most), then a little longer so
  /// that one too many would show.
  std::vector<std::string> wait_for(size_t n) const {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (payloads().size() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    std::this_thread::sleep_for(300ms);
    return payloads();
  }
};

/// `n` distinct payloads (hex) tagged with `tag` (two hex digits).
std::vector<std::string> payloads_of(const std::string& tag, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    char text[32];
    std::snprintf(text, sizeof(text), "%s%08zx", tag.c_str(), i);
    out.push_back(std::string(text) + std::string(2 * (20 + i % 50), 'e'));
  }
  return out;
}

/// Sends the payloads to 127.0.0.1:port from 127.0.0.1:source_port with udp_send.py.
void send_payloads(const scratch_dir& dir, uint16_t port, uint16_t source_port,
                   const std::vector<std::string>& payloads) {
  std::string lines;
  for (auto& p : payloads)
    lines += "127.0.0.1 " + std::to_string(source_port) + " " + p + "\n";
  write_file(dir / "send.txt", lines);
  BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/udp_send.py 127.0.0.1 " +
                          std::to_string(port) + " " + (dir / "send.txt").string() +
                          " > /dev/null"),
                      0);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_lower_threshold_after_sighup_bans_a_running_flood_within_two_seconds) {
  scratch_dir dir("reload-detector");
  auto port = free_port();
  write_file(dir / "ours.txt", "100.64.0.0/24 servers\n");
  auto config = [&](unsigned syn_flows) {
    return node_config(dir.path, port) +
           "    enrichment:\n      prefix_file: " + (dir / "ours.txt").string() +
           "\n    detector:\n      enabled: true\n      end_after: 1s\n      ban_time: 2s\n"
           "      thresholds: {syn_flows: " +
           std::to_string(syn_flows) + "}\n";
  };
  // The flood brings 1000 SYN flows/s: under 2000, over 500.
  write_file(dir / "node.yaml", config(2000));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  process sender({flowgen,
                  "--protocol",
                  "v9",
                  "--target",
                  "127.0.0.1:" + std::to_string(port),
                  "--rate",
                  "200",
                  "--duration",
                  "8",
                  "--hosts",
                  "100",
                  "--src-prefix",
                  "10.0.0.0/8",
                  "--dst-prefix",
                  "100.64.0.0/24",
                  "--attack",
                  "100.64.0.200",
                  "--attack-type",
                  "syn",
                  "--attack-rate",
                  "1000"},
                 dir.path, "flowgen");
  std::this_thread::sleep_for(2500ms);
  BOOST_TEST(d.err().find("detector: ban") == std::string::npos, d.err());
  write_file(dir / "node.yaml", config(500));
  auto hup = std::chrono::steady_clock::now();
  d.signal(SIGHUP);
  BOOST_REQUIRE_MESSAGE(d.wait_for("detector: SIGHUP applied 1 thresholds", 5s), d.err());
  BOOST_REQUIRE_MESSAGE(d.wait_for("detector: ban", 5s), d.err());
  auto took = std::chrono::steady_clock::now() - hup;
  BOOST_TEST_MESSAGE("ban " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                            << " ms after SIGHUP");
  BOOST_TEST((took < 2s));
  auto log = d.err();
  BOOST_TEST(log.find("100.64.0.200") != std::string::npos, log);
  BOOST_TEST(count_of(log, "detector: ban") == 1u, log);
  // Nothing that needs a restart changed.
  BOOST_TEST(log.find("other changes take effect at the next restart") == std::string::npos, log);
  BOOST_REQUIRE_EQUAL(sender.wait_exit(20s).value_or(-1), 0);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(sighup_replaces_a_replication_receiver_and_one_that_stays_keeps_its_count) {
  scratch_dir dir("reload-replicator");
  auto port = free_port();
  capture a(dir, "a"), b(dir, "b"), stays(dir, "stays");
  auto config = [&](uint16_t first) {
    return "node:\n  name: test\n  state_dir: " + dir.path.string() +
           "\n  shutdown_timeout: 5s\n  inspector: {listen: \"127.0.0.1:0\"}\n"
           "logging:\n  level: info\npipelines:\n  netflow:\n    listeners:\n"
           "      - {address: 127.0.0.1, port: " +
           std::to_string(port) +
           "}\n    replicators:\n      - {address: 127.0.0.1, port: " + std::to_string(first) +
           "}\n      - {address: 127.0.0.1, port: " + std::to_string(stays.port) +
           ", sample_one_in: 2}\n";
  };
  write_file(dir / "node.yaml", config(a.port));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto source_port = free_port();
  auto before = payloads_of("aa", 50);
  send_payloads(dir, port, source_port, before);
  BOOST_TEST(a.wait_for(50) == before);
  write_file(dir / "node.yaml", config(b.port));
  d.signal(SIGHUP);
  BOOST_REQUIRE_MESSAGE(d.wait_for("replicator: SIGHUP: 2 receivers", 10s), d.err());
  auto after = payloads_of("bb", 70);
  send_payloads(dir, port, source_port, after);
  BOOST_TEST(b.wait_for(70) == after);
  BOOST_TEST(a.payloads() == before);
  // One in two across the reload: the 1st, 3rd, ... of all 120.
  std::vector<std::string> sampled;
  for (size_t i = 0; i < 120; i += 2)
    sampled.push_back(i < 50 ? before[i] : after[i - 50]);
  BOOST_TEST(stays.wait_for(60) == sampled);
  std::string out;
  BOOST_REQUIRE_EQUAL(inspect(d, "stats --json --interval 0ms", out), 0);
  auto name = [](const capture& c) { return "127.0.0.1:" + std::to_string(c.port); };
  // The replaced receiver is gone from the replicator's counters.
  BOOST_TEST(out.find("receiver=\\\"" + name(b) + "\\\"") != std::string::npos, out);
  BOOST_TEST(out.find(name(a)) == std::string::npos, out);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
  // At shutdown the replicator's totals: the one that stayed counted across the reload.
  auto summary = [&](const capture& c) {
    for (auto& line : lines_of(d.err()))
      if (line.find(") to " + name(c) + ";") != std::string::npos)
        return line.substr(line.find("replicated "));
    return std::string();
  };
  BOOST_TEST(summary(stays).starts_with("replicated 60 datagrams ("), d.err());
  BOOST_TEST(summary(stays).find("; sampled out 60, filtered out 0, send errors 0") !=
             std::string::npos);
  BOOST_TEST(summary(b).starts_with("replicated 70 datagrams ("), d.err());
  BOOST_TEST(summary(b).find("; sampled out 0, filtered out 0, send errors 0") !=
             std::string::npos);
  BOOST_TEST(summary(a).empty());
  a.proc.signal(SIGTERM);
  b.proc.signal(SIGTERM);
  stays.proc.signal(SIGTERM);
}
