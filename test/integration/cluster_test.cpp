#define BOOST_TEST_MODULE cluster
#include <boost/test/unit_test.hpp>

// Three tidewatchd processes on loopback share one cluster file: node a runs
// the NetFlow pipeline, b the sFlow pipeline, c the BGP speaker peering with
// gobgpd (router 127.0.0.2); a's and b's enrichers get c's routes through
// c's inspector. b and c are killed with SIGKILL and restarted: a keeps
// delivering every record meanwhile, b resumes, and a resumes its BGP
// enrichment with the routes c has after its restart.

#include <map>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// Waits until `path` has `count` lines (a bit longer, to catch extra ones);
/// the lines then.
std::vector<std::string> wait_lines(const std::filesystem::path& path, size_t count) {
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (count_lines(path) < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(300ms);
  return lines_of(read_file(path));
}

/// Per kind of record (exporter 127.0.0.2 toward 203.0.113.0/24, toward
/// 198.51.100.0/24, or any other), how many of `lines` from index `from` on
/// carry the BGP fields of `routes` (prefix -> as_dst, as_path): those
/// toward a prefix without a route carry none.
std::map<std::string, size_t>
check_bgp(const std::vector<std::string>& lines, size_t from,
          const std::map<std::string, std::pair<std::string, std::string>>& routes) {
  std::map<std::string, size_t> seen;
  for (size_t i = from; i < lines.size(); ++i) {
    auto& line = lines[i];
    auto dst = field(line, "ip_dst");
    std::string kind = field(line, "peer_ip_src") != "127.0.0.2" ? "other"
                       : dst.starts_with("203.0.113.")           ? "203.0.113.0"
                       : dst.starts_with("198.51.100.")          ? "198.51.100.0"
                                                                 : "other";
    ++seen[kind];
    BOOST_TEST_INFO(line);
    auto route = routes.find(kind);
    if (route == routes.end()) {
      BOOST_TEST(field(line, "as_path") == "");
      BOOST_TEST(field(line, "peer_as_dst") == "0");
      continue;
    }
    BOOST_TEST(field(line, "as_dst") == route->second.first);
    BOOST_TEST(field(line, "as_path") == route->second.second);
    BOOST_TEST(field(line, "peer_as_dst") == "4200000001");
    BOOST_TEST(field(line, "net_dst") == kind);
    BOOST_TEST(field(line, "mask_dst") == "24");
  }
  return seen;
}

} // namespace

BOOST_AUTO_TEST_CASE(losing_a_node_never_stops_the_other_pipeline_and_each_resumes) {
  scratch_dir dir{"cluster"};
  uint16_t netflow_port = free_port(), sflow_port = free_port();
  uint16_t bgp_port = free_port(SOCK_STREAM), grpc = free_port(SOCK_STREAM);
  std::map<std::string, uint16_t> inspector;
  for (auto name : {"a", "b", "c"})
    inspector[name] = free_port(SOCK_STREAM);
  auto a_flows = dir / "a-flows.json", b_flows = dir / "b-flows.json";
  auto node = [&](const std::string& name) {
    return "    - {name: " + name + ", inspector: \"127.0.0.1:" + std::to_string(inspector[name]) +
           "\", roles: [" +
           (name == "a"   ? "netflow"
            : name == "b" ? "sflow"
                          : "bgp") +
           "]}\n";
  };
  write_file(dir / "cluster.yaml",
             "node:\n  state_dir: " + dir.path.string() +
                 "\n  shutdown_timeout: 5s\n  metrics: {listen: \"\"}\n"
                 "logging:\n  level: info\n"
                 "cluster:\n  retry_initial: 100ms\n  retry_max: 1s\n  nodes:\n" +
                 node("a") + node("b") + node("c") +
                 "pipelines:\n  netflow:\n    listeners:\n      - {address: 127.0.0.1, port: " +
                 std::to_string(netflow_port) +
                 "}\n    sinks:\n      - {type: file, path: " + a_flows.string() +
                 "}\n  sflow:\n    enabled: true\n    listeners:\n"
                 "      - {address: 127.0.0.1, port: " +
                 std::to_string(sflow_port) +
                 "}\n    sinks:\n      - {type: file, path: " + b_flows.string() +
                 ", scopes: [inbound, outbound, internal, external, unknown]}\n"
                 "bgp:\n  enabled: true\n  address: 127.0.0.1\n  port: " +
                 std::to_string(bgp_port) +
                 "\n  local_as: 65000\n  router_id: 127.0.0.1\n  neighbors:\n"
                 "    - {address: 127.0.0.2, remote_as: 4200000001}\n");
  write_file(dir / "gobgp.toml",
             "[global.config]\n  as = 4200000001\n  router-id = \"127.0.0.2\"\n  port = -1\n"
             "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"127.0.0.1\"\n"
             "    peer-as = 65000\n  [neighbors.transport.config]\n    remote-port = " +
                 std::to_string(bgp_port) +
                 "\n    local-address = \"127.0.0.2\"\n  [neighbors.timers.config]\n"
                 "    connect-retry = 1\n  [[neighbors.afi-safis]]\n"
                 "    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n");
  auto start = [&](const std::string& name, int generation) {
    return std::make_unique<process>(std::vector<std::string>{tidewatchd, "--config",
                                                              (dir / "cluster.yaml").string(),
                                                              "--node", name},
                                     dir.path, "node-" + name + "-" + std::to_string(generation));
  };
  auto c = start("c", 1);
  BOOST_REQUIRE(c->wait_for("bgp: listening on", 10s));
  auto a = start("a", 1);
  auto b = start("b", 1);
  for (auto* p : {a.get(), b.get()}) {
    BOOST_TEST_INFO(p->err());
    BOOST_REQUIRE(p->wait_for("bgp link: subscribed to the speaker on node 'c'", 10s));
  }
  process router({"gobgpd", "-f", (dir / "gobgp.toml").string(), "-p",
                  "--api-hosts=127.0.0.1:" + std::to_string(grpc), "--pprof-disable"},
                 dir.path, "gobgpd");
  auto gobgp = [&](const std::string& args) {
    std::string out;
    int rc = run("gobgp -p " + std::to_string(grpc) + " " + args, &out);
    BOOST_TEST_INFO("gobgp " << args << ": " << out);
    BOOST_REQUIRE_EQUAL(rc, 0);
    return out;
  };
  auto wait_routes_sent = [&](size_t routes) {
    auto deadline = std::chrono::steady_clock::now() + 40s;
    for (;;) {
      auto state = gobgp("neighbor 127.0.0.1");
      if ((state.find("BGP state = established") != std::string::npos ||
           state.find("BGP state = ESTABLISHED") != std::string::npos) &&
          count_of(gobgp("neighbor 127.0.0.1 adj-out -a ipv4"), "/") >= routes)
        break;
      BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(200ms);
    }
    // The speaker forwards the routes to the links as they arrive.
    std::this_thread::sleep_for(1s);
  };
  // gobgpd's API answers about a second after start.
  auto api_deadline = std::chrono::steady_clock::now() + 15s;
  while (run("gobgp -p " + std::to_string(grpc) + " global") != 0) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < api_deadline);
    std::this_thread::sleep_for(100ms);
  }
  gobgp("global rib -a ipv4 add 203.0.113.0/24 origin igp aspath 64500,4200000099 "
        "nexthop 192.0.2.1");
  wait_routes_sent(1);
  auto send = [&](const std::string& protocol, uint16_t port, int records, int seed) {
    BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol " + protocol + " --exporters 2 --target " +
                            "127.0.0.1:" + std::to_string(port) + " --records " +
                            std::to_string(records) + " --seed " + std::to_string(seed) +
                            " --rate 0 --hosts 50 --src-prefix 10.0.0.0/8 --dst-prefix "
                            "203.0.113.0/24,198.51.100.0/24 --template-interval 1 --batch 1"),
                        0);
  };
  const std::map<std::string, std::pair<std::string, std::string>> first_routes = {
      {"203.0.113.0", {"4200000099", "4200000001_64500_4200000099"}}};

  // Both pipelines deliver, both enriched with c's routes.
  send("ipfix", netflow_port, 200, 1);
  send("sflow", sflow_port, 100, 2);
  auto a_lines = wait_lines(a_flows, 200);
  auto b_lines = wait_lines(b_flows, 100);
  BOOST_REQUIRE_EQUAL(a_lines.size(), 200u);
  BOOST_REQUIRE_EQUAL(b_lines.size(), 100u);
  auto seen = check_bgp(a_lines, 0, first_routes);
  BOOST_TEST(seen["203.0.113.0"] > 0u);
  BOOST_TEST(seen["198.51.100.0"] > 0u);
  BOOST_TEST(seen["other"] > 0u);
  seen = check_bgp(b_lines, 0, first_routes);
  BOOST_TEST(seen["203.0.113.0"] > 0u);

  // The CLI sees every node from the cluster file.
  std::string out;
  BOOST_TEST(run(tidewatch_cli + " status --config " + (dir / "cluster.yaml").string(), &out) == 0);
  BOOST_TEST_INFO(out);
  BOOST_TEST(out.find("== node a (127.0.0.1:" + std::to_string(inspector["a"]) + ") ==\nnode a,") !=
             std::string::npos);
  BOOST_TEST(out.find("== node b (127.0.0.1:" + std::to_string(inspector["b"]) + ") ==\nnode b,") !=
             std::string::npos);
  BOOST_TEST(out.find("== node c (127.0.0.1:" + std::to_string(inspector["c"]) + ") ==\nnode c,") !=
             std::string::npos);
  BOOST_TEST(count_of(out, "bgp_link") == 2u);
  BOOST_TEST(count_of(out, "speaker@c") == 2u);

  // b dies: a delivers every record meanwhile, and the CLI shows b unreachable.
  b->signal(SIGKILL);
  BOOST_REQUIRE_EQUAL(b->wait_exit(5s).value_or(-1), 128 + SIGKILL);
  send("ipfix", netflow_port, 300, 3);
  a_lines = wait_lines(a_flows, 500);
  BOOST_REQUIRE_EQUAL(a_lines.size(), 500u);
  check_bgp(a_lines, 200, first_routes);
  BOOST_TEST(
      run(tidewatch_cli + " status --json --config " + (dir / "cluster.yaml").string(), &out) == 1);
  BOOST_TEST_INFO(out);
  BOOST_TEST(
      out.find("{\"node\":\"a\",\"inspector\":\"127.0.0.1:" + std::to_string(inspector["a"]) +
               "\",\"reachable\":true,\"result\":{\"node\":\"a\",") != std::string::npos);
  BOOST_TEST(
      out.find("{\"node\":\"b\",\"inspector\":\"127.0.0.1:" + std::to_string(inspector["b"]) +
               "\",\"reachable\":false,\"error\":\"tidewatch: cannot reach the inspector") !=
      std::string::npos);
  BOOST_TEST(out.find("\"reachable\":true,\"result\":{\"node\":\"c\",") != std::string::npos);

  // b comes back and its pipeline resumes.
  b = start("b", 2);
  BOOST_REQUIRE(b->wait_for("bgp link: subscribed to the speaker on node 'c'", 10s));
  // The speaker sends its table after the subscription, as the first
  // generation saw it: records sent before it lands would find no route.
  std::this_thread::sleep_for(1s);
  send("sflow", sflow_port, 150, 4);
  b_lines = wait_lines(b_flows, 250);
  BOOST_TEST_INFO("node b's log:\n" << b->err());
  BOOST_REQUIRE_EQUAL(b_lines.size(), 250u);
  check_bgp(b_lines, 100, first_routes);

  // c dies: a keeps delivering, with the routes it had (marked stale).
  c->signal(SIGKILL);
  BOOST_REQUIRE_EQUAL(c->wait_exit(5s).value_or(-1), 128 + SIGKILL);
  BOOST_REQUIRE(a->wait_for("bgp link: lost the speaker on node 'c'", 5s));
  send("ipfix", netflow_port, 200, 5);
  a_lines = wait_lines(a_flows, 700);
  BOOST_REQUIRE_EQUAL(a_lines.size(), 700u);
  check_bgp(a_lines, 500, first_routes);
  // Meanwhile the router's table changes; c learns it once back, and so does a.
  gobgp("global rib -a ipv4 add 198.51.100.0/24 origin igp aspath 64510 nexthop 192.0.2.3");
  c = start("c", 2);
  wait_routes_sent(2);
  BOOST_TEST_INFO(a->err());
  BOOST_REQUIRE_EQUAL(count_of(a->err(), "bgp link: subscribed to the speaker on node 'c'"), 2u);
  send("ipfix", netflow_port, 200, 6);
  a_lines = wait_lines(a_flows, 900);
  BOOST_TEST_INFO(a->err());
  BOOST_REQUIRE_EQUAL(a_lines.size(), 900u);
  seen = check_bgp(a_lines, 700,
                   {{"203.0.113.0", {"4200000099", "4200000001_64500_4200000099"}},
                    {"198.51.100.0", {"64510", "4200000001_64510"}}});
  BOOST_TEST(seen["198.51.100.0"] > 0u);

  for (auto* p : {a.get(), b.get(), c.get()})
    p->signal(SIGTERM);
  for (auto* p : {a.get(), b.get(), c.get()})
    BOOST_TEST(p->wait_exit(15s).value_or(-1) == 0);
  router.signal(SIGTERM);
  router.wait_exit(5s);
}
