#define BOOST_TEST_MODULE operations
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// The number after `"key":` in the first JSON object that contains `marker`.
uint64_t json_number(const std::string& json, const std::string& marker, const std::string& key) {
  auto at = json.find(marker);
  if (at == std::string::npos)
    return UINT64_MAX;
  auto object = json.rfind('{', at);
  auto k = json.find("\"" + key + "\":", object);
  if (k == std::string::npos)
    return UINT64_MAX;
  return std::strtoull(json.c_str() + k + key.size() + 3, nullptr, 10);
}

/// A tidewatchd on a node_config with its inspector and metrics ports read
/// from its start-up log.
struct running_node {
  scratch_dir dir;
  uint16_t udp_port = free_port();
  std::optional<process> daemon;
  uint16_t inspector_port = 0;
  uint16_t metrics_port = 0;

  explicit running_node(const std::string& tag, const std::string& inspector_extra = "")
      : dir(tag) {
    auto config = node_config(dir.path, udp_port);
    if (!inspector_extra.empty()) {
      auto at = config.find("  inspector: {listen: \"127.0.0.1:0\"}\n");
      config.replace(at, std::string("  inspector: {listen: \"127.0.0.1:0\"}\n").size(),
                     inspector_extra);
    }
    write_file(dir / "node.yaml", config);
    daemon.emplace(std::vector<std::string>{tidewatchd, "--config", (dir / "node.yaml").string()},
                   dir.path, "tidewatchd");
    BOOST_REQUIRE(daemon->wait_for("listening on udp", 10s));
    inspector_port = logged_port(daemon->err(), "inspector listening on 127.0.0.1:");
    metrics_port = logged_port(daemon->err(), "metrics listening on http://127.0.0.1:");
    BOOST_REQUIRE_NE(inspector_port, 0);
    BOOST_REQUIRE_NE(metrics_port, 0);
  }

  std::string node() const { return "127.0.0.1:" + std::to_string(inspector_port); }

  /// Runs `tidewatch ARGS --node <this node>`; its exit code, output in `out`.
  int cli(const std::string& args, std::string& out) const {
    return run(tidewatch_cli + " " + args + " --node " + node(), &out);
  }

  /// Sends `records` IPFIX records (1-in-100 sampling announced) and waits
  /// until the sink wrote them all.
  void send_records(int records) {
    BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(udp_port) +
                            " --protocol ipfix --records " + std::to_string(records) +
                            " --rate 20000 --sampling-rate 100 --seed 3"),
                        0);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count_lines(dir / "flows.json") < size_t(records) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    BOOST_REQUIRE_EQUAL(count_lines(dir / "flows.json"), size_t(records));
  }

  ~running_node() {
    daemon->signal(SIGTERM);
    BOOST_CHECK_EQUAL(daemon->wait_exit(15s).value_or(-1), 0);
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(cli_stats_and_exporters_show_the_records_a_test_sent) {
  running_node n("ops-stats");
  n.send_records(1000);
  std::string out;
  BOOST_REQUIRE_EQUAL(n.cli("stats --json --interval 200ms", out), 0);
  BOOST_TEST(json_number(out, "\"stage\":\"decoder\"", "records") == 1000u, out);
  BOOST_TEST(json_number(out, "\"stage\":\"enricher\"", "records") == 1000u, out);
  BOOST_TEST(json_number(out, "\"stage\":\"sink:file\"", "records") == 1000u, out);
  BOOST_TEST(json_number(out, "\"stage\":\"sink:file\"", "records_per_second") == 0u, out);
  auto datagrams = json_number(out, "\"stage\":\"decoder\"", "datagrams");
  BOOST_TEST(datagrams == json_number(out, "\"stage\":\"listener:", "datagrams"), out);
  BOOST_TEST(json_number(out, "\"stage\":\"listener:", "kernel_drops") == 0u, out);
  BOOST_TEST(out.find("\"netflow_decode_errors_total{reason=\\\"truncated\\\"}\":0") !=
                 std::string::npos,
             out);

  BOOST_REQUIRE_EQUAL(n.cli("stats --interval 0ms", out), 0);
  BOOST_TEST(out.find("pipeline  stage") == 0u, out);
  BOOST_TEST(out.find("decoder") != std::string::npos, out);

  BOOST_REQUIRE_EQUAL(n.cli("exporters --json --interval 0ms", out), 0);
  BOOST_TEST(json_number(out, "\"exporter\":\"127.0.0.1\"", "records") == 1000u, out);
  BOOST_TEST(json_number(out, "\"exporter\":\"127.0.0.1\"", "datagrams") == datagrams, out);
  BOOST_TEST(json_number(out, "\"exporter\":\"127.0.0.1\"", "sampling_rate") == 100u, out);
  BOOST_TEST(json_number(out, "\"exporter\":\"127.0.0.1\"", "sequence_lost") == 0u, out);
  BOOST_TEST(json_number(out, "\"exporter\":\"127.0.0.1\"", "templates") == 3u, out);
  BOOST_TEST(out.find("\"protocol\":\"ipfix\"") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(cli_status_and_templates_describe_the_running_pipeline) {
  running_node n("ops-status");
  n.send_records(100);
  std::string out;
  BOOST_REQUIRE_EQUAL(n.cli("status --json", out), 0);
  BOOST_TEST(out.find("{\"node\":\"test\",\"version\":\"0.1.0\",\"uptime_seconds\":") == 0u, out);
  BOOST_TEST(out.find("\"role\":\"netflow\"") != std::string::npos, out);
  for (auto child : {"sink[0]", "enricher", "decoder"})
    BOOST_TEST(json_number(out, "\"name\":\"" + std::string(child) + "\"", "restarts") == 0u, out);
  BOOST_TEST(out.find("\"name\":\"listener[127.0.0.1]:" + std::to_string(n.udp_port) +
                      "#0\",\"actor_id\":") != std::string::npos,
             out);
  BOOST_TEST(count_of(out, "\"running\":true") == 4u, out);

  BOOST_REQUIRE_EQUAL(n.cli("status", out), 0);
  BOOST_TEST(out.find("node test, tidewatch 0.1.0, up 0d 00:00:") == 0u, out);

  BOOST_REQUIRE_EQUAL(n.cli("templates --json", out), 0);
  BOOST_TEST(count_of(out, "\"exporter\":\"127.0.0.1\"") == 3u, out);
  BOOST_TEST(out.find("\"version\":10,\"id\":256,\"kind\":\"data\"") != std::string::npos, out);
  BOOST_TEST(out.find("\"version\":10,\"id\":257,\"kind\":\"data\"") != std::string::npos, out);
  BOOST_TEST(out.find("\"version\":10,\"id\":258,\"kind\":\"options\"") != std::string::npos, out);
  BOOST_REQUIRE_EQUAL(n.cli("templates", out), 0);
  BOOST_TEST(out.find("8:4 12:4") != std::string::npos, out);
  // Located by role, then asked directly: the pipeline's supervisor for its
  // decoder, the decoder for its templates.
  BOOST_REQUIRE_EQUAL(n.cli("templates netflow --json", out), 0);
  BOOST_TEST(count_of(out, "\"pipeline\":\"netflow\",\"exporter\":\"127.0.0.1\"") == 3u, out);
  BOOST_TEST(n.cli("templates nosuch", out) == 1);
  BOOST_TEST(out.find("tidewatch:unknown_role: nosuch") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(cli_without_a_node_fails_with_exit_1_and_says_why) {
  std::string out;
  auto port = free_port(SOCK_STREAM);
  BOOST_TEST(run(tidewatch_cli + " status --node 127.0.0.1:" + std::to_string(port), &out) == 1);
  BOOST_TEST(out.find("cannot reach the inspector at 127.0.0.1:" + std::to_string(port)) !=
                 std::string::npos,
             out);
  BOOST_TEST(run(tidewatch_cli + " status --node nowhere", &out) == 2);
}

BOOST_AUTO_TEST_CASE(metrics_endpoint_serves_every_stage_counter_to_curl) {
  running_node n("ops-metrics");
  n.send_records(1000);
  auto url = "http://127.0.0.1:" + std::to_string(n.metrics_port);
  std::string out;
  BOOST_REQUIRE_EQUAL(run("curl -sS -i " + url + "/metrics", &out), 0);
  BOOST_TEST(out.find("HTTP/1.1 200 OK\r\n") == 0u, out);
  BOOST_TEST(out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
                 std::string::npos,
             out);
  BOOST_TEST(out.find("# TYPE tidewatch_netflow_records_total counter\n"
                      "tidewatch_netflow_records_total{pipeline=\"netflow\",stage=\"decoder\"} "
                      "1000\n") != std::string::npos,
             out);
  BOOST_TEST(out.find("tidewatch_sink_records_total{pipeline=\"netflow\",stage=\"sink:file\"} "
                      "1000\n") != std::string::npos,
             out);
  BOOST_TEST(out.find("tidewatch_netflow_decode_errors_total{pipeline=\"netflow\",stage="
                      "\"decoder\",reason=\"truncated\"} 0\n") != std::string::npos,
             out);
  BOOST_TEST(out.find("# TYPE tidewatch_listener_in_flight_batches gauge\n") != std::string::npos,
             out);
  BOOST_TEST(out.find("tidewatch_restarts_total{pipeline=\"netflow\",stage=\"supervisor\",child="
                      "\"decoder\"} 0\n") != std::string::npos,
             out);
  BOOST_REQUIRE_EQUAL(run("curl -sS -o /dev/null -w '%{http_code}' " + url + "/other", &out), 0);
  BOOST_TEST(out == "404");
  BOOST_REQUIRE_EQUAL(
      run("curl -sS -o /dev/null -w '%{http_code}' -X POST " + url + "/metrics", &out), 0);
  BOOST_TEST(out == "405");
}

BOOST_AUTO_TEST_CASE(an_inspector_beyond_loopback_without_tls_refuses_to_start) {
  scratch_dir dir("ops-notls");
  auto config = node_config(dir.path, free_port());
  config.replace(config.find("127.0.0.1:0"), 11, "0.0.0.0:7790");
  write_file(dir / "node.yaml", config);
  std::string out;
  BOOST_TEST(run(tidewatchd + " --config " + (dir / "node.yaml").string(), &out) == 2);
  BOOST_TEST(out.find("node.yaml:5: node.inspector.listen: listening on '0.0.0.0' (not "
                      "loopback) needs TLS: set certificate, key and ca_file") != std::string::npos,
             out);
}

BOOST_AUTO_TEST_CASE(a_tls_inspector_refuses_clients_without_a_certificate_from_its_ca) {
  scratch_dir certs("ops-certs");
  auto p = [&](const std::string& name) { return (certs / name).string(); };
  // Two CAs; the node and one client get certificates from the first, a
  // rogue client from the second.
  std::string script =
      "set -e; cd " + certs.path.string() +
      "; for ca in ca rogue-ca; do openssl req -x509 -newkey ec -pkeyopt "
      "ec_paramgen_curve:prime256v1 -nodes -keyout $ca.key -out $ca.pem -subj /CN=$ca -days 2 "
      "2>/dev/null; done; for x in node:ca client:ca rogue:rogue-ca; do n=${x%:*}; ca=${x#*:}; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key -out "
      "$n.csr -subj /CN=$n 2>/dev/null; openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key "
      "-CAcreateserial -out $n.pem -days 2 2>/dev/null; done";
  std::string out;
  BOOST_REQUIRE_EQUAL(run(script, &out), 0);
  running_node n("ops-tls",
                 "  inspector:\n    listen: \"127.0.0.1:0\"\n    certificate: " + p("node.pem") +
                     "\n    key: " + p("node.key") + "\n    ca_file: " + p("ca.pem") + "\n");
  BOOST_TEST(n.daemon->err().find("(TLS, client certificates verified)") != std::string::npos);
  auto tls = [&](const std::string& who) {
    return " --tls-cert " + p(who + ".pem") + " --tls-key " + p(who + ".key") + " --tls-ca " +
           p("ca.pem");
  };
  BOOST_REQUIRE_EQUAL(n.cli("status" + tls("client"), out), 0);
  BOOST_TEST(out.find("node test, tidewatch 0.1.0") == 0u, out);
  // No certificate at all: a plain CAF handshake is not TLS.
  BOOST_TEST(n.cli("status", out) == 1, out);
  BOOST_TEST(out.find("cannot reach the inspector") != std::string::npos, out);
  // A certificate from another CA.
  BOOST_TEST(n.cli("status" + tls("rogue"), out) == 1, out);
  BOOST_TEST(out.find("cannot reach the inspector") != std::string::npos, out);
  // A key that does not belong to the certificate: refused before connecting.
  BOOST_TEST(n.cli("status --tls-cert " + p("client.pem") + " --tls-key " + p("rogue.key") +
                       " --tls-ca " + p("ca.pem"),
                   out) == 2,
             out);
  BOOST_TEST(out.find("tidewatch: key " + p("rogue.key") + ": ") == 0u, out);
  BOOST_TEST(out.find("key values mismatch") != std::string::npos, out);
  // The node checks its files at start (CAF would only load them, and throw,
  // at the first connection).
  scratch_dir dir("ops-tls-missing");
  auto config = node_config(dir.path, free_port());
  std::string plain = "  inspector: {listen: \"127.0.0.1:0\"}\n";
  config.replace(config.find(plain), plain.size(),
                 "  inspector:\n    listen: \"127.0.0.1:0\"\n    certificate: " + p("node.pem") +
                     "\n    key: " + p("missing.key") + "\n    ca_file: " + p("ca.pem") + "\n");
  write_file(dir / "node.yaml", config);
  BOOST_TEST(run(tidewatchd + " --config " + (dir / "node.yaml").string(), &out) == 2, out);
  BOOST_TEST(out.find("node.inspector: key " + p("missing.key") + ": ") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(sighup_replaces_the_exporter_allow_list_of_running_listeners) {
  scratch_dir dir("ops-allow");
  auto port = free_port();
  auto config = [&](const std::string& allowed) {
    auto text = node_config(dir.path, port);
    text.replace(text.find("  netflow:\n"), 11,
                 "  netflow:\n    allowed_exporters: [" + allowed + "]\n");
    return text;
  };
  write_file(dir / "node.yaml", config("127.0.0.2/32"));
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  auto node =
      "127.0.0.1:" + std::to_string(logged_port(d.err(), "inspector listening on 127.0.0.1:"));
  auto send = [&] {
    BOOST_REQUIRE_EQUAL(run(flowgen + " --target 127.0.0.1:" + std::to_string(port) +
                            " --protocol ipfix --records 100 --rate 20000 --seed 5"),
                        0);
  };
  auto stats = [&] {
    std::string out;
    BOOST_REQUIRE_EQUAL(run(tidewatch_cli + " stats --json --interval 0ms --node " + node, &out),
                        0);
    return out;
  };
  send(); // from 127.0.0.1: denied
  std::string out;
  for (int i = 0; i < 100; ++i) {
    out = stats();
    if (out.find("\"listener_denied_datagrams_total\":0") == std::string::npos)
      break;
    std::this_thread::sleep_for(20ms);
  }
  auto denied_marker = std::string("\"listener_denied_datagrams_total\":");
  auto denied =
      std::strtoull(out.c_str() + out.find(denied_marker) + denied_marker.size(), nullptr, 10);
  BOOST_TEST(denied > 0u);
  write_file(dir / "node.yaml", config("127.0.0.1/32"));
  d.signal(SIGHUP);
  BOOST_REQUIRE(d.wait_for("SIGHUP: netflow accepts exporters from 1 allowed prefix(es)", 10s));
  send(); // the same datagrams again, now accepted
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (count_lines(dir / "flows.json") < 100 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  BOOST_TEST(count_lines(dir / "flows.json") == 100u);
  out = stats();
  // flowgen's pacing may pack the same 100 records into a different number
  // of datagrams than the first time: every accepted one reached the decoder.
  BOOST_TEST(json_number(out, "\"stage\":\"listener:", "datagrams") ==
                 json_number(out, "\"stage\":\"decoder\"", "datagrams"),
             out);
  BOOST_TEST(json_number(out, "\"stage\":\"decoder\"", "records") == 100u, out);
  BOOST_TEST(out.find(denied_marker + std::to_string(denied) + ",") != std::string::npos, out);
  d.signal(SIGTERM);
  BOOST_TEST(d.wait_exit(15s).value_or(-1) == 0);
}

namespace {

/// A datagram socket standing in for systemd's notification socket.
struct notify_socket {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  std::string path;

  explicit notify_socket(const std::filesystem::path& p) : path(p.string()) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  }
  ~notify_socket() { ::close(fd); }

  /// The next message, or "" after `timeout`.
  std::string next(std::chrono::milliseconds timeout) {
    timeval tv{timeout.count() / 1000, long(timeout.count() % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[256];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }
};

/// Starts tidewatchd in `d` with the service manager's environment (and
/// `extra` variables) set only for the child.
void start_notified(std::optional<process>& d, const scratch_dir& dir, const notify_socket& sock,
                    const std::vector<std::pair<std::string, std::string>>& extra) {
  write_file(dir / "node.yaml", node_config(dir.path, free_port()));
  std::vector<std::pair<std::string, std::string>> env = {{"NOTIFY_SOCKET", sock.path},
                                                          {"WATCHDOG_USEC", "400000"}};
  env.insert(env.end(), extra.begin(), extra.end());
  for (auto& [k, v] : env)
    ::setenv(k.c_str(), v.c_str(), 1);
  d.emplace(std::vector<std::string>{tidewatchd, "--config", (dir / "node.yaml").string()},
            dir.path, "tidewatchd");
  for (auto& [k, v] : env)
    ::unsetenv(k.c_str());
}

} // namespace

BOOST_AUTO_TEST_CASE(a_healthy_node_reports_ready_pings_the_watchdog_and_reports_stopping) {
  scratch_dir dir("ops-watchdog");
  notify_socket sock(dir / "notify.sock");
  std::optional<process> d;
  start_notified(d, dir, sock, {});
  BOOST_TEST(sock.next(10s) == "READY=1");
  // 400 ms watchdog: a ping every 200 ms, so 1.5 s hold about 7 (3 even on a
  // loaded machine, where a probe may miss its 100 ms).
  auto until = std::chrono::steady_clock::now() + 1500ms;
  int pings = 0;
  while (std::chrono::steady_clock::now() < until)
    if (sock.next(300ms) == "WATCHDOG=1")
      ++pings;
  BOOST_TEST(pings >= 3);
  d->signal(SIGTERM);
  std::string msg;
  while ((msg = sock.next(5s)) == "WATCHDOG=1")
    ;
  BOOST_TEST(msg == "STOPPING=1");
  BOOST_TEST(d->wait_exit(15s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(a_wedged_actor_system_stops_the_watchdog_pings_and_the_process_exits_3) {
  scratch_dir dir("ops-wedge");
  notify_socket sock(dir / "notify.sock");
  std::optional<process> d;
  start_notified(d, dir, sock, {{"TIDEWATCH_TEST_WEDGE_AFTER_MS", "1000"}});
  BOOST_TEST(sock.next(10s) == "READY=1");
  int pings = 0;
  auto last_ping = std::chrono::steady_clock::now();
  auto deadline = last_ping + 15s;
  // Until the process ends: each message is read within 50 ms of its arrival
  // and the exit is seen within 50 ms.
  while (d->running() && std::chrono::steady_clock::now() < deadline)
    if (sock.next(50ms) == "WATCHDOG=1") {
      ++pings;
      last_ping = std::chrono::steady_clock::now();
    }
  auto silent = std::chrono::steady_clock::now() - last_ping;
  auto code = d->wait_exit(1s);
  BOOST_TEST(pings >= 3);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 3);
  // Pings come every 200 ms while the system answers; the process ended at
  // least one whole watchdog interval (400 ms) after the last one.
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(silent).count() >= 400);
  BOOST_TEST(d->err().find("watchdog: the actor system has not answered for") != std::string::npos,
             d->err());
}
