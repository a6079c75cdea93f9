#define BOOST_TEST_MODULE bgp_flow_enrichment
#include <boost/test/unit_test.hpp>

// tidewatchd with its BGP speaker: gobgpd (as router 127.0.0.2, a 4-byte AS)
// announces IPv4 and IPv6 routes with communities and large communities;
// flowgen exports flows from 127.0.0.1 and 127.0.0.2 toward those prefixes;
// the flows of 127.0.0.2 carry the attributes of their longest match, those
// of 127.0.0.1 (no BGP neighbor) none.

#include <map>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// The value of `key` in a JSON line as text (strings without their quotes).
std::string field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\": ");
  if (at == std::string::npos)
    return "<missing>";
  at += key.size() + 4;
  if (line[at] == '"') {
    auto end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  auto end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

/// What a flow toward one of the announced routes must carry.
struct expected_route {
  std::string as_dst, peer_as_dst, as_path, comms, lcomms, med, peer_ip_dst, mask_dst, net_dst;
};

} // namespace

BOOST_AUTO_TEST_CASE(flows_of_a_bgp_neighbor_carry_the_attributes_of_the_longest_match) {
  scratch_dir dir{"bgp-enrichment"};
  uint16_t port = free_port();
  uint16_t bgp_port = free_port(SOCK_STREAM);
  uint16_t grpc = free_port(SOCK_STREAM);
  write_file(dir / "node.yaml",
             node_config(dir.path, port,
                         "bgp:\n  enabled: true\n  address: 127.0.0.1\n  port: " +
                             std::to_string(bgp_port) +
                             "\n  local_as: 65000\n  router_id: 127.0.0.1\n  neighbors:\n"
                             "    - {address: 127.0.0.2, remote_as: 4200000001}\n"));
  write_file(dir / "gobgp.toml",
             "[global.config]\n  as = 4200000001\n  router-id = \"127.0.0.2\"\n  port = -1\n"
             "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"127.0.0.1\"\n"
             "    peer-as = 65000\n  [neighbors.transport.config]\n    remote-port = " +
                 std::to_string(bgp_port) +
                 "\n    local-address = \"127.0.0.2\"\n  [neighbors.timers.config]\n"
                 "    connect-retry = 1\n  [[neighbors.afi-safis]]\n"
                 "    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n"
                 "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n"
                 "      afi-safi-name = \"ipv6-unicast\"\n");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
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
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto state = gobgp("neighbor 127.0.0.1");
    if (state.find("BGP state = established") != std::string::npos ||
        state.find("BGP state = ESTABLISHED") != std::string::npos)
      break;
    BOOST_TEST_INFO(state << d.err());
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(200ms);
  }
  gobgp("global rib -a ipv4 add 203.0.113.0/24 origin igp aspath 64500,4200000099 "
        "nexthop 192.0.2.1 med 10 community 65001:100,no-export "
        "large-community 4200000001:1:2,65001:3:4");
  gobgp("global rib -a ipv4 add 203.0.113.128/25 aspath 64501 nexthop 192.0.2.2 "
        "community 65001:200 large-community 65001:5:6");
  gobgp("global rib -a ipv6 add 2001:db8:100::/48 aspath 64502,4200000100 nexthop 2001:db8::1 "
        "community 65001:300");
  deadline = std::chrono::steady_clock::now() + 10s;
  while (count_of(gobgp("neighbor 127.0.0.1 adj-out -a ipv4") +
                      gobgp("neighbor 127.0.0.1 adj-out -a ipv6"),
                  "/") < 3) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(200ms);
  }
  // The speaker forwards the routes to the enricher's replica as they arrive.
  std::this_thread::sleep_for(1s);
  BOOST_REQUIRE_EQUAL(
      run(flowgen + " --protocol ipfix --exporters 2 --target 127.0.0.1:" + std::to_string(port) +
          " --records 600 --rate 0 --hosts 100 --src-prefix 10.0.0.0/8,"
          "2001:db8:a::/48 --dst-prefix 203.0.113.0/24,2001:db8:100::/48"
          " --ipv6-share 0.3 --template-interval 1 --batch 1"),
      0);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
  router.signal(SIGTERM);
  router.wait_exit(5s);

  const expected_route low{"4200000099",
                           "4200000001",
                           "4200000001 64500 4200000099",
                           "65001:100 no-export",
                           "4200000001:1:2 65001:3:4",
                           "10",
                           "192.0.2.1",
                           "24",
                           "203.0.113.0"};
  const expected_route high{"64501",     "4200000001", "4200000001 64501",
                            "65001:200", "65001:5:6",  "0",
                            "192.0.2.2", "25",         "203.0.113.128"};
  const expected_route v6{"4200000100",  "4200000001", "4200000001 64502 4200000100",
                          "65001:300",   "",           "0",
                          "2001:db8::1", "48",         "2001:db8:100::"};
  const expected_route none{"", "0", "", "", "", "0", "", "", ""};
  std::map<std::string, size_t> seen;
  auto lines = lines_of(read_file(dir / "flows.json"));
  BOOST_TEST(lines.size() == 600u);
  for (auto& line : lines) {
    auto dst = field(line, "ip_dst");
    bool neighbor = field(line, "peer_ip_src") == "127.0.0.2";
    const expected_route* want = &none;
    std::string kind = "none";
    if (neighbor && dst.find(':') != std::string::npos) {
      want = &v6;
      kind = "v6";
    } else if (neighbor) {
      bool upper = std::stoi(dst.substr(dst.rfind('.') + 1)) >= 128;
      want = upper ? &high : &low;
      kind = upper ? "high" : "low";
    }
    ++seen[kind];
    BOOST_TEST_INFO(line);
    // Without a route, the export's AS, mask and network stay (flowgen exports them).
    if (want != &none)
      BOOST_TEST(field(line, "as_dst") == want->as_dst);
    BOOST_TEST(field(line, "peer_as_dst") == want->peer_as_dst);
    BOOST_TEST(field(line, "as_path") == want->as_path);
    BOOST_TEST(field(line, "comms") == want->comms);
    BOOST_TEST(field(line, "ecomms") == "");
    BOOST_TEST(field(line, "lcomms") == want->lcomms);
    BOOST_TEST(field(line, "local_pref") == "0"); // eBGP carries no LOCAL_PREF
    BOOST_TEST(field(line, "med") == want->med);
    BOOST_TEST(field(line, "peer_ip_dst") == want->peer_ip_dst);
    if (want != &none) {
      BOOST_TEST(field(line, "mask_dst") == want->mask_dst);
      BOOST_TEST(field(line, "net_dst") == want->net_dst);
    }
    // No route covers the sources.
    BOOST_TEST(field(line, "peer_as_src") == "0");
  }
  // flowgen alternates exporters; both halves of the v4 /24 and IPv6 occur.
  BOOST_TEST(seen["none"] > 0u);
  BOOST_TEST(seen["low"] > 0u);
  BOOST_TEST(seen["high"] > 0u);
  BOOST_TEST(seen["v6"] > 0u);
}
