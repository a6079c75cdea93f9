#define BOOST_TEST_MODULE bgp_flow_enrichment
#include <boost/test/unit_test.hpp>

// tidewatchd with its BGP speaker: gobgpd (as router 127.0.0.2, a 4-byte AS)
// announces IPv4 and IPv6 routes with communities, extended and large
// communities; flowgen exports flows from 127.0.0.1 and 127.0.0.2 toward those
// prefixes; the flows of 127.0.0.2 carry the attributes of their longest
// match (source and destination), those of 127.0.0.1 (no BGP neighbor) none.
// nfacctd with its BGP daemon peers with the same gobgpd and gets the same
// flows: every BGP key it prints equals tidewatch's, flow by flow.

#include <map>
#include <set>

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

/// The BGP keys nfacctd prints with the primitives of `nfacctd_bgp_config`.
const std::vector<std::string> nfacctd_bgp_keys = {
    "as_src",     "as_dst",      "comms",          "ecomms",      "lcomms",      "as_path",
    "local_pref", "med",         "peer_as_src",    "peer_as_dst", "comms_src",   "ecomms_src",
    "lcomms_src", "as_path_src", "local_pref_src", "med_src",     "peer_ip_dst", "net_src",
    "net_dst",    "mask_src",    "mask_dst"};

/// nfacctd with its BGP daemon on 127.0.0.3:`bgp_port` (AS 65000), taking
/// AS numbers, networks and every source/destination attribute from BGP.
std::string nfacctd_bgp_config(uint16_t port, uint16_t bgp_port,
                               const std::filesystem::path& out_dir) {
  return "daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: " + std::to_string(port) +
         "\nbgp_daemon: true\nbgp_daemon_ip: 127.0.0.3\nbgp_daemon_port: " +
         std::to_string(bgp_port) +
         "\nbgp_daemon_as: 65000\nbgp_daemon_id: 127.0.0.3\nnfacctd_as: bgp\nnfacctd_net: bgp\n"
         "bgp_peer_src_as_type: bgp\nbgp_src_std_comm_type: bgp\nbgp_src_ext_comm_type: bgp\n"
         "bgp_src_lrg_comm_type: bgp\nbgp_src_as_path_type: bgp\nbgp_src_local_pref_type: bgp\n"
         "bgp_src_med_type: bgp\nplugins: print\nprint_output: json\nprint_output_file: " +
         out_dir.string() +
         "/nf-%s.json\nprint_output_file_append: true\nprint_refresh_time: 1\n"
         "aggregate: src_host, dst_host, src_port, dst_port, proto, peer_src_ip, src_as, dst_as, "
         "peer_src_as, peer_dst_as, as_path, std_comm, ext_comm, lrg_comm, local_pref, med, "
         "peer_dst_ip, src_std_comm, src_ext_comm, src_lrg_comm, src_as_path, src_local_pref, "
         "src_med, src_mask, dst_mask, src_net, dst_net\n";
}

/// A gobgpd neighbor section: gobgpd (127.0.0.2) connects to `address`:`port`.
std::string gobgp_neighbor(const std::string& address, uint16_t port) {
  return "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"" + address +
         "\"\n    peer-as = 65000\n  [neighbors.transport.config]\n    remote-port = " +
         std::to_string(port) +
         "\n    local-address = \"127.0.0.2\"\n  [neighbors.timers.config]\n"
         "    connect-retry = 1\n  [[neighbors.afi-safis]]\n"
         "    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n"
         "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n"
         "      afi-safi-name = \"ipv6-unicast\"\n";
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
  uint16_t nf_port = free_port();
  uint16_t nf_bgp_port = free_port(SOCK_STREAM);
  write_file(dir / "gobgp.toml", "[global.config]\n  as = 4200000001\n  router-id = \"127.0.0.2\"\n"
                                 "  port = -1\n" +
                                     gobgp_neighbor("127.0.0.1", bgp_port) +
                                     gobgp_neighbor("127.0.0.3", nf_bgp_port));
  write_file(dir / "nfacctd.conf", nfacctd_bgp_config(nf_port, nf_bgp_port, dir / "nfacctd"));
  std::filesystem::create_directories(dir / "nfacctd");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  process nfacctd({"nfacctd", "-f", (dir / "nfacctd.conf").string()}, dir.path, "nfacctd");
  BOOST_REQUIRE(nfacctd.wait_for("waiting for BGP data", 10s));
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
    // gobgpd's API may not answer yet on a busy machine: keep asking.
    std::string state;
    run("gobgp -p " + std::to_string(grpc) + " neighbor", &state);
    if (count_of(state, "Establ") == 2)
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
  // The sources' route: communities given out of order (both print them
  // sorted), an extended community.
  gobgp("global rib -a ipv4 add 10.0.0.0/8 aspath 64503,64510 nexthop 192.0.2.3 "
        "community no-export,65001:900,65001:50 large-community 65001:9:9,65001:1:1,7:1:1 "
        "rt 65001:10");
  deadline = std::chrono::steady_clock::now() + 10s;
  while (count_of(gobgp("neighbor 127.0.0.1 adj-out -a ipv4") +
                      gobgp("neighbor 127.0.0.1 adj-out -a ipv6") +
                      gobgp("neighbor 127.0.0.3 adj-out -a ipv4") +
                      gobgp("neighbor 127.0.0.3 adj-out -a ipv6"),
                  "/") < 8) {
    BOOST_REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(200ms);
  }
  // The speaker forwards the routes to the enricher's replica as they arrive.
  std::this_thread::sleep_for(1s);
  // The same flows (flowgen is deterministic) to tidewatchd and to nfacctd.
  for (auto target : {port, nf_port})
    BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol ipfix --exporters 2 --target 127.0.0.1:" +
                            std::to_string(target) +
                            " --records 600 --rate 0 --hosts 100 --src-prefix 10.0.0.0/8,"
                            "2001:db8:a::/48 --dst-prefix 203.0.113.0/24,2001:db8:100::/48"
                            " --ipv6-share 0.3 --template-interval 1 --batch 1"),
                        0);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
  std::this_thread::sleep_for(1500ms); // nfacctd's print plugin writes every second
  nfacctd.signal(SIGINT);
  nfacctd.wait_exit(10s);
  router.signal(SIGTERM);
  router.wait_exit(5s);

  const expected_route low{"4200000099",
                           "4200000001",
                           "4200000001_64500_4200000099",
                           "65001:100_no-export",
                           "65001:3:4_4200000001:1:2",
                           "10",
                           "192.0.2.1",
                           "24",
                           "203.0.113.0"};
  const expected_route high{"64501",     "4200000001", "4200000001_64501",
                            "65001:200", "65001:5:6",  "0",
                            "192.0.2.2", "25",         "203.0.113.128"};
  const expected_route v6{"4200000100",  "4200000001", "4200000001_64502_4200000100",
                          "65001:300",   "",           "0",
                          "2001:db8::1", "48",         "2001:db8:100::"};
  const expected_route none{"", "0", "", "", "", "0", "", "", ""};
  std::map<std::string, size_t> seen;
  // (peer_ip_src, ip_src, ip_dst, port_src, port_dst, ip_proto) -> tidewatch's line
  auto flow_key = [](const std::string& line) {
    std::string key;
    for (auto k : {"peer_ip_src", "ip_src", "ip_dst", "port_src", "port_dst", "ip_proto"})
      key += field(line, k) + "|";
    return key;
  };
  std::map<std::string, std::string> ours;
  auto lines = lines_of(read_file(dir / "flows.json"));
  BOOST_TEST(lines.size() == 600u);
  for (auto& line : lines) {
    ours[flow_key(line)] = line;
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
    // The IPv4 sources' route (10.0.0.0/8); IPv6 sources have none.
    bool src_route = neighbor && kind != "v6";
    BOOST_TEST(field(line, "peer_as_src") == (src_route ? "4200000001" : "0"));
    BOOST_TEST(field(line, "as_path_src") == (src_route ? "4200000001_64503_64510" : ""));
    BOOST_TEST(field(line, "comms_src") == (src_route ? "65001:50_65001:900_no-export" : ""));
    BOOST_TEST(field(line, "ecomms_src") == (src_route ? "RT:65001:10" : ""));
    BOOST_TEST(field(line, "lcomms_src") == (src_route ? "7:1:1_65001:1:1_65001:9:9" : ""));
    BOOST_TEST(field(line, "local_pref_src") == "0");
    BOOST_TEST(field(line, "med_src") == "0");
    if (src_route) {
      BOOST_TEST(field(line, "as_src") == "64510");
      BOOST_TEST(field(line, "mask_src") == "8");
      BOOST_TEST(field(line, "net_src") == "10.0.0.0");
    }
  }
  // flowgen alternates exporters; both halves of the v4 /24 and IPv6 occur.
  BOOST_TEST(seen["none"] > 0u);
  BOOST_TEST(seen["low"] > 0u);
  BOOST_TEST(seen["high"] > 0u);
  BOOST_TEST(seen["v6"] > 0u);

  // nfacctd, flow by flow: every BGP key it prints has tidewatch's value.
  // Where no route matched (no BGP session for 127.0.0.1; no route for the
  // IPv6 sources) tidewatch keeps the export's AS, mask and network, where
  // nfacctd (nfacctd_as/net: bgp) prints zeros: those keys are compared where
  // a route matched.
  std::string nf_text;
  for (auto& f : std::filesystem::directory_iterator(dir / "nfacctd"))
    nf_text += read_file(f.path());
  std::set<std::string> compared;
  for (auto& line : lines_of(nf_text)) {
    auto key = flow_key(line);
    auto it = ours.find(key);
    BOOST_TEST_INFO("nfacctd: " << line);
    BOOST_REQUIRE(it != ours.end());
    bool src_route = field(it->second, "as_path_src") != "";
    bool dst_route = field(it->second, "as_path") != "";
    for (auto& k : nfacctd_bgp_keys) {
      if ((k == "as_src" || k == "mask_src" || k == "net_src") && !src_route)
        continue;
      if ((k == "as_dst" || k == "mask_dst" || k == "net_dst") && !dst_route)
        continue;
      BOOST_TEST_INFO("key " << k << ", tidewatch: " << it->second);
      BOOST_TEST(field(line, k) == field(it->second, k));
    }
    compared.insert(key);
  }
  BOOST_TEST(compared.size() == ours.size());
}
