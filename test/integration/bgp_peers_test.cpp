#define BOOST_TEST_MODULE bgp_peers
#include <boost/test/unit_test.hpp>

// The BGP speaker against real routers (gobgpd and bird2) on loopback: the
// speaker runs in this process, so that its typed queries (neighbors,
// lookup) show what it learnt; the routers are the real daemons.

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/bgp/bgp_format.hpp"
#include "actors/bgp/bgp_speaker_actor.hpp"
#include "integration/harness.hpp"
#include "messages/type_ids.hpp"

using namespace tidewatch;
using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

struct system_config : caf::actor_system_config {
  system_config() { register_message_types(*this); }
};

/// A speaker on 127.0.0.1 (AS 65000) with gobgpd's and bird's neighbors.
struct fixture {
  scratch_dir dir{"bgp"};
  uint16_t port = free_port(SOCK_STREAM);
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  bgp_speaker_actor speaker;

  /// The routers of most tests: gobgpd as 127.0.0.2, bird as 127.0.0.3.
  static std::vector<bgp_neighbor_config> two_routers() {
    return {{"127.0.0.2", 4200000001, {}, true}, {"127.0.0.3", 65003, {}, false}};
  }

  explicit fixture(std::vector<bgp_neighbor_config> routers = two_routers()) {
    bgp_config b;
    b.enabled = true;
    b.address = "127.0.0.1";
    b.port = port;
    b.local_as = 65000;
    b.router_id = "127.0.0.1";
    b.hold_time = 9s;
    b.restart_time = 30s;
    b.neighbors = std::move(routers);
    speaker = spawn_bgp_speaker(sys, b);
  }
  ~fixture() { self->send_exit(speaker, caf::exit_reason::user_shutdown); }

  std::vector<bgp_neighbor_status> neighbors() {
    std::vector<bgp_neighbor_status> out;
    self->request(speaker, 5s, neighbors_atom::value)
        .receive([&](std::vector<bgp_neighbor_status>& xs) { out = std::move(xs); },
                 [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
    return out;
  }

  bgp_neighbor_status neighbor(const char* address) {
    for (auto& n : neighbors())
      if (n.address == addr(address))
        return n;
    BOOST_FAIL("no such neighbor");
    return {};
  }

  bgp_route_report lookup(const char* address, const std::string& neighbor = "") {
    bgp_route_report out;
    self->request(speaker, 5s, lookup_atom::value, addr(address), neighbor)
        .receive([&](bgp_route_report& r) { out = std::move(r); },
                 [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
    return out;
  }

  /// Polls `done` every 50 ms until it holds or `timeout` passes.
  template <class F> bool eventually(F done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done())
        return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }

  /// gobgpd as router `local` (AS `as`) connecting to the speaker, with ADD-PATH send.
  std::unique_ptr<process> start_gobgpd(const std::string& local, uint32_t as, uint16_t grpc) {
    write_file(dir / ("gobgp-" + local + ".toml"),
               "[global.config]\n  as = " + std::to_string(as) + "\n  router-id = \"" + local +
                   "\"\n  port = -1\n[[neighbors]]\n  [neighbors.config]\n"
                   "    neighbor-address = \"127.0.0.1\"\n    peer-as = 65000\n"
                   "  [neighbors.transport.config]\n    remote-port = " +
                   std::to_string(port) + "\n    local-address = \"" + local +
                   "\"\n  [neighbors.timers.config]\n    connect-retry = 1\n"
                   "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n"
                   "      afi-safi-name = \"ipv4-unicast\"\n"
                   "    [neighbors.afi-safis.add-paths.config]\n      send-max = 8\n"
                   "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n"
                   "      afi-safi-name = \"ipv6-unicast\"\n");
    return std::make_unique<process>(
        std::vector<std::string>{"gobgpd", "-f", (dir / ("gobgp-" + local + ".toml")).string(),
                                 "-p", "--api-hosts=127.0.0.1:" + std::to_string(grpc),
                                 "--pprof-disable"},
        dir.path, "gobgpd-" + local);
  }
};

/// Runs the gobgp CLI against the daemon on gRPC port `grpc`.
std::string gobgp(uint16_t grpc, const std::string& args) {
  std::string out;
  int rc = run("gobgp -p " + std::to_string(grpc) + " " + args, &out);
  BOOST_TEST_INFO("gobgp " << args << ": " << out);
  BOOST_TEST(rc == 0);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(gobgpd_routes_arrive_with_exact_attributes_and_leave_when_withdrawn,
                        fixture) {
  uint16_t grpc = free_port(SOCK_STREAM);
  auto router = start_gobgpd("127.0.0.2", 4200000001, grpc);
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.2").state == "established"; }, 30s));
  BOOST_TEST(neighbor("127.0.0.2").router_id == 0x7f000002u);
  gobgp(grpc, "global rib -a ipv4 add 203.0.113.0/24 origin igp aspath 64500,15169 "
              "nexthop 192.0.2.1 med 10 community 65001:100,no-export "
              "large-community 4200000001:1:2,65001:3:4");
  gobgp(grpc, "global rib -a ipv6 add 2001:db8:100::/48 aspath 64501 nexthop "
              "2001:db8::1");
  BOOST_REQUIRE(eventually([&] { return lookup("203.0.113.77").found; }, 10s));
  auto r = lookup("203.0.113.77", "127.0.0.2");
  BOOST_TEST(r.network.to_string() == "203.0.113.0");
  BOOST_TEST(r.length == 24);
  BOOST_TEST(format_as_path(r.attributes) == "4200000001_64500_15169");
  BOOST_TEST(origin_as(r.attributes) == 15169u);
  BOOST_TEST(peer_as(r.attributes) == 4200000001u);
  BOOST_TEST(r.attributes.next_hop.to_string() == "192.0.2.1");
  BOOST_TEST(r.attributes.med == 10u);
  BOOST_TEST(format_communities(r.attributes) == "65001:100_no-export");
  BOOST_TEST(format_large_communities(r.attributes) == "65001:3:4_4200000001:1:2");
  BOOST_TEST(r.attributes.origin == 0);
  BOOST_REQUIRE(eventually([&] { return lookup("2001:db8:100::5").found; }, 10s));
  r = lookup("2001:db8:100::5");
  BOOST_TEST(r.length == 48);
  BOOST_TEST(format_as_path(r.attributes) == "4200000001_64501");
  BOOST_TEST(r.attributes.next_hop.to_string() == "2001:db8::1");
  // ADD-PATH: a second path for the same prefix is a second route.
  gobgp(grpc, "global rib -a ipv4 add 203.0.113.0/24 identifier 2 aspath 64600 "
              "nexthop 192.0.2.2");
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.2").prefixes == 3; }, 10s));
  gobgp(grpc, "global rib -a ipv4 del 203.0.113.0/24 identifier 2");
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.2").prefixes == 2; }, 10s));
  gobgp(grpc, "global rib -a ipv4 del all");
  BOOST_TEST(eventually([&] { return !lookup("203.0.113.77").found; }, 10s));
  BOOST_TEST(lookup("2001:db8:100::5").found);
  // Status counters reach the speaker once a second.
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.2").withdrawals_received >= 2u; }, 5s));
  router->signal(SIGTERM);
  router->wait_exit(5s);
  // gobgpd sends a Cease on shutdown: no graceful restart, the routes go.
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.2").prefixes == 0; }, 10s));
}

BOOST_FIXTURE_TEST_CASE(an_unconfigured_router_is_refused, fixture) {
  uint16_t grpc = free_port(SOCK_STREAM);
  auto router = start_gobgpd("127.0.0.9", 64999, grpc);
  // The first connection attempt of gobgpd comes after about 5 s.
  std::this_thread::sleep_for(8s);
  auto state = gobgp(grpc, "neighbor 127.0.0.1");
  BOOST_TEST(state.find("BGP state = established") == std::string::npos);
  BOOST_TEST(router->running());
  for (auto& n : neighbors())
    BOOST_TEST(n.state != "established");
}

BOOST_FIXTURE_TEST_CASE(gobgpd_receives_the_blackhole_route_with_its_community, fixture) {
  uint16_t grpc = free_port(SOCK_STREAM);
  auto router = start_gobgpd("127.0.0.2", 4200000001, grpc);
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.2").state == "established"; }, 30s));
  self->send(speaker, blackhole_route{addr("198.51.100.7"), {0xffff029a}, true});
  std::string adj;
  BOOST_TEST(eventually(
      [&] {
        run("gobgp -p " + std::to_string(grpc) + " neighbor 127.0.0.1 adj-in -a ipv4", &adj);
        return adj.find("198.51.100.7/32") != std::string::npos;
      },
      10s));
  BOOST_TEST_INFO(adj);
  BOOST_TEST(adj.find("{Communities: blackhole}") != std::string::npos); // 65535:666, RFC 7999
  BOOST_TEST(adj.find("192.0.2.1") != std::string::npos);
  self->send(speaker, blackhole_route{addr("198.51.100.7"), {0xffff029a}, false});
  BOOST_TEST(eventually(
      [&] {
        run("gobgp -p " + std::to_string(grpc) + " neighbor 127.0.0.1 adj-in -a ipv4", &adj);
        return adj.find("198.51.100.7/32") == std::string::npos;
      },
      10s));
}

namespace {

/// A bird2 daemon as router 127.0.0.3 (AS 65003) with graceful restart,
/// announcing the static routes of `routes4.conf` and one IPv6 route.
struct bird_router {
  const scratch_dir& dir;
  uint16_t port;
  std::string sub = ""; ///< its files' subdirectory of dir, for several birds at once

  std::filesystem::path home() const { return sub.empty() ? dir.path : dir / sub; }

  void write_routes(bool with_second) {
    write_file(
        home() / "routes4.conf",
        std::string("route 203.0.113.0/24 blackhole { bgp_path.prepend(64500); "
                    "bgp_community.add((65003,7)); bgp_large_community.add((65003,1,2)); };\n") +
            (with_second ? "route 198.51.100.0/24 blackhole { bgp_path.prepend(64501); };\n" : ""));
  }

  void start() {
    write_file(home() / "bird.conf",
               "router id 127.0.0.3;\nprotocol device {}\n"
               "protocol static s4 { ipv4;\ninclude \"" +
                   (home() / "routes4.conf").string() +
                   "\";\n}\n"
                   "protocol static s6 { ipv6; route 2001:db8:300::/48 blackhole { "
                   "bgp_path.prepend(64503); }; }\n"
                   "protocol bgp tw {\n  local 127.0.0.3 as 65003;\n  neighbor 127.0.0.1 port " +
                   std::to_string(port) +
                   " as 65000;\n  multihop;\n  graceful restart on;\n"
                   "  ipv4 { import none; export all; next hop address 192.0.2.3; };\n"
                   "  ipv6 { import none; export all; next hop address 2001:db8::3; };\n}\n");
    run_config();
  }

  /// Starts bird on home()/bird.conf.
  void run_config() {
    std::string out;
    int rc = run("bird -c " + (home() / "bird.conf").string() + " -s " +
                     (home() / "bird.ctl").string() + " -P " + (home() / "bird.pid").string(),
                 &out);
    BOOST_TEST_INFO(out);
    BOOST_REQUIRE(rc == 0);
  }

  /// What birdc says to `command`.
  std::string birdc(const std::string& command) {
    std::string out;
    run("birdc -s " + (home() / "bird.ctl").string() + " " + command, &out);
    return out;
  }

  /// Stops bird as its graceful restart does: no NOTIFICATION, the TCP connection just closes.
  void graceful_stop() {
    BOOST_TEST_INFO(birdc("graceful restart"));
    wait_gone();
  }

  void wait_gone() {
    for (int i = 0; i < 100 && std::filesystem::exists(home() / "bird.ctl"); ++i)
      std::this_thread::sleep_for(50ms);
  }

  ~bird_router() {
    auto pid = read_file(home() / "bird.pid");
    if (!pid.empty())
      ::kill(std::stoi(pid), SIGTERM);
    wait_gone();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(bird_routes_survive_its_graceful_restart_until_it_resyncs, fixture) {
  bird_router bird{dir, port};
  bird.write_routes(true);
  bird.start();
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.3").prefixes == 3; }, 15s));
  auto r = lookup("203.0.113.1", "127.0.0.3");
  BOOST_TEST(format_as_path(r.attributes) == "65003_64500");
  BOOST_TEST(format_communities(r.attributes) == "65003:7");
  BOOST_TEST(format_large_communities(r.attributes) == "65003:1:2");
  BOOST_TEST(r.attributes.next_hop.to_string() == "192.0.2.3");
  BOOST_TEST(lookup("2001:db8:300::1", "127.0.0.3").attributes.next_hop.to_string() ==
             "2001:db8::3");
  bird.graceful_stop();
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.3").state == "idle"; }, 10s));
  // The routes stay (stale) while bird is away...
  std::this_thread::sleep_for(2s);
  BOOST_TEST(neighbor("127.0.0.3").prefixes == 3u);
  BOOST_TEST(lookup("198.51.100.1", "127.0.0.3").found);
  // ...and when it is back without 198.51.100.0/24, that one goes once it re-synced.
  bird.write_routes(false);
  // Started without -R: in recovery mode bird holds its routes for its own
  // graceful restart wait (240 s); the speaker's side is the same either way.
  bird.start();
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.3").state == "established"; }, 15s));
  BOOST_TEST(eventually([&] { return !lookup("198.51.100.1", "127.0.0.3").found; }, 15s));
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.3").prefixes == 2u; }, 15s));
  BOOST_TEST(lookup("203.0.113.1", "127.0.0.3").found);
}

BOOST_FIXTURE_TEST_CASE(bird_asking_for_a_route_refresh_is_counted_and_keeps_its_routes, fixture) {
  bird_router bird{dir, port};
  bird.write_routes(true);
  bird.start();
  BOOST_REQUIRE(eventually([&] { return neighbor("127.0.0.3").prefixes == 3; }, 15s));
  BOOST_TEST(neighbor("127.0.0.3").route_refreshes_received == 0u);
  // Without an import table bird reloads a channel by sending ROUTE-REFRESH
  // (RFC 2918) for it: one for IPv4 unicast, one for IPv6 unicast.
  BOOST_TEST_INFO(bird.birdc("reload in tw"));
  BOOST_TEST(eventually([&] { return neighbor("127.0.0.3").route_refreshes_received == 2; }, 10s));
  std::this_thread::sleep_for(500ms);
  auto n = neighbor("127.0.0.3");
  BOOST_TEST(n.route_refreshes_received == 2u);
  BOOST_TEST(n.state == "established");
  BOOST_TEST(n.prefixes == 3u);
  BOOST_TEST(lookup("203.0.113.1", "127.0.0.3").found);
}

namespace {

constexpr int many = 60;

/// 127.0.1.1 ... 127.0.1.60 as routers of AS 65101 ... 65160.
std::vector<bgp_neighbor_config> many_routers() {
  std::vector<bgp_neighbor_config> out;
  for (int i = 1; i <= many; ++i)
    out.push_back({"127.0.1." + std::to_string(i), uint32_t(65100 + i), {}, false});
  return out;
}

struct many_routers_fixture : fixture {
  many_routers_fixture() : fixture(many_routers()) {}
};

} // namespace

BOOST_FIXTURE_TEST_CASE(sixty_routers_at_once_each_get_a_session_and_a_table_of_their_own,
                        many_routers_fixture) {
  // Sixty bird processes (bird keeps one session per neighbor address, so
  // one process cannot speak for all), each a router with an address and AS
  // of its own announcing the same two prefixes; eBGP prepends the router's
  // AS, so each table tells its router apart.
  std::vector<std::unique_ptr<bird_router>> birds;
  for (int i = 1; i <= many; ++i) {
    auto n = std::to_string(i);
    std::filesystem::create_directories(dir / ("r" + n));
    birds.push_back(std::make_unique<bird_router>(dir, port, "r" + n));
    write_file(dir / ("r" + n) / "bird.conf",
               "router id 127.0.1." + n +
                   ";\nprotocol device {}\nprotocol static s4 { ipv4;\n"
                   "  route 203.0.113.0/24 blackhole;\n  route 198.51.100.0/24 blackhole;\n}\n"
                   "protocol bgp tw {\n  local 127.0.1." +
                   n + " as " + std::to_string(65100 + i) + ";\n  neighbor 127.0.0.1 port " +
                   std::to_string(port) +
                   " as 65000;\n  multihop;\n"
                   // Each bird listens on its own address only: one on *:179 leaves
                   // the others without a listening socket, which stops their sessions.
                   "  strict bind on;\n"
                   "  ipv4 { import none; export all; next hop address 192.0.2.9; };\n}\n");
    birds.back()->run_config();
  }
  auto all_up = [&] {
    auto xs = neighbors();
    return xs.size() == size_t(many) && std::all_of(xs.begin(), xs.end(), [](auto& n) {
             return n.state == "established" && n.prefixes == 2;
           });
  };
  BOOST_TEST(eventually(all_up, 60s));
  for (int i = 1; i <= many; ++i) {
    auto router = "127.0.1." + std::to_string(i);
    auto r = lookup("203.0.113.1", router);
    BOOST_TEST_INFO("router " << router);
    BOOST_TEST(r.found);
    BOOST_TEST(format_as_path(r.attributes) == std::to_string(65100 + i));
  }
}

namespace {

/// tidewatchd on `dir`/node.yaml, whose BGP speaker listens on `bgp_port`,
/// and gobgpd as its neighbor 127.0.0.2 (AS4200000001), session established.
struct node_with_router {
  process node;
  fixture routers_side; // only for its gobgpd recipe, pointed at tidewatchd's port
  uint16_t grpc = free_port(SOCK_STREAM);
  std::unique_ptr<process> router;

  node_with_router(const scratch_dir& dir, uint16_t bgp_port)
      : node({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd") {
    BOOST_REQUIRE(node.wait_for("bgp: listening on", 10s));
    routers_side.port = bgp_port;
    router = routers_side.start_gobgpd("127.0.0.2", 4200000001, grpc);
    BOOST_REQUIRE_MESSAGE(
        node.wait_for("bgp: session with 127.0.0.2 (AS4200000001) established", 30s), node.err());
  }

  /// Stops gobgpd, then tidewatchd; tidewatchd's exit code.
  int stop() {
    router->signal(SIGTERM);
    router->wait_exit(5s);
    node.signal(SIGTERM);
    return node.wait_exit(15s).value_or(-1);
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(tidewatch_bgp_shows_a_running_nodes_neighbors_and_routes) {
  // The same speaker inside tidewatchd, asked through its inspector.
  scratch_dir dir{"bgp-cli"};
  uint16_t bgp_port = free_port(SOCK_STREAM);
  write_file(
      dir / "node.yaml",
      node_config(dir.path, free_port()) +
          "bgp:\n  enabled: true\n  address: 127.0.0.1\n  port: " + std::to_string(bgp_port) +
          "\n  local_as: 65000\n  router_id: 127.0.0.1\n"
          "  neighbors:\n    - {address: 127.0.0.2, remote_as: 4200000001}\n");
  node_with_router peers{dir, bgp_port};
  auto& d = peers.node;
  auto grpc = peers.grpc;
  gobgp(grpc, "global rib -a ipv4 add 203.0.113.0/24 aspath 64500,15169 nexthop 192.0.2.1 "
              "community 65001:100");
  std::string out;
  BOOST_TEST(peers.routers_side.eventually(
      [&] {
        return inspect(d, "bgp lookup 203.0.113.77 --json", out) == 0 &&
               out.find("\"found\":true") != std::string::npos;
      },
      10s));
  BOOST_TEST(out.find("\"as_path\":\"4200000001_64500_15169\"") != std::string::npos, out);
  BOOST_TEST(out.find("\"comms\":\"65001:100\"") != std::string::npos, out);
  BOOST_TEST(inspect(d, "bgp lookup 203.0.113.77 --neighbor 127.0.0.2", out) == 0);
  BOOST_TEST(out.find("4200000001_64500_15169") != std::string::npos, out);
  BOOST_TEST(peers.routers_side.eventually(
      [&] {
        return inspect(d, "bgp neighbors --json", out) == 0 &&
               out.find("\"prefixes\":1") != std::string::npos;
      },
      5s));
  BOOST_TEST(out.find("\"neighbor\":\"127.0.0.2\",\"remote_as\":4200000001") != std::string::npos,
             out);
  BOOST_TEST(out.find("\"state\":\"established\"") != std::string::npos, out);
  BOOST_TEST(inspect(d, "bgp neighbors", out) == 0);
  BOOST_TEST(out.find("127.0.0.2") != std::string::npos, out);
  BOOST_TEST(inspect(d, "bgp what", out) == 2, out);
  BOOST_TEST(peers.stop() == 0);
}

BOOST_AUTO_TEST_CASE(gobgpd_peering_with_tidewatchd_receives_and_loses_the_blackhole_of_a_flood) {
  // The whole chain in real processes: flowgen floods a host, tidewatchd's
  // detector bans it, its BGP speaker announces the /32 with the blackhole
  // community to gobgpd and withdraws it at the unban.
  scratch_dir dir{"bgp-blackhole"};
  uint16_t flow_port = free_port();
  uint16_t bgp_port = free_port(SOCK_STREAM);
  write_file(dir / "ours.txt", "100.64.0.0/24 servers\n");
  write_file(dir / "node.yaml",
             node_config(dir.path, flow_port,
                         "bgp:\n  enabled: true\n  address: 127.0.0.1\n  port: " +
                             std::to_string(bgp_port) +
                             "\n  local_as: 65000\n  router_id: 127.0.0.1\n"
                             "  blackhole_next_hop: 192.0.2.1\n  neighbors:\n"
                             "    - {address: 127.0.0.2, remote_as: 4200000001, "
                             "announce_blackhole: true}\n") +
                 "    enrichment:\n      prefix_file: " + (dir / "ours.txt").string() +
                 "\n    detector:\n      enabled: true\n      end_after: 1s\n"
                 "      ban_time: 2s\n      thresholds: {pps: 20000, syn_pps: 2000}\n"
                 "      blackhole: {enabled: true, communities: [\"65535:666\"]}\n");
  node_with_router peers{dir, bgp_port};
  auto& d = peers.node;
  auto grpc = peers.grpc;
  BOOST_REQUIRE_EQUAL(run(flowgen +
                          " --protocol v9 --target 127.0.0.1:" + std::to_string(flow_port) +
                          " --rate 2000 --duration 2 --hosts 1000 --src-prefix 10.0.0.0/8"
                          " --dst-prefix 100.64.0.0/24 --attack 100.64.0.200"
                          " --attack-type syn --attack-rate 3000 > /dev/null"),
                      0);
  auto adj_in = [&] {
    std::string out;
    run("gobgp -p " + std::to_string(grpc) + " neighbor 127.0.0.1 adj-in -a ipv4 -j", &out);
    return out;
  };
  std::string adj;
  BOOST_REQUIRE_MESSAGE(peers.routers_side.eventually(
                            [&] {
                              adj = adj_in();
                              return adj.find("\"100.64.0.200/32\"") != std::string::npos;
                            },
                            10s),
                        adj << d.err());
  // One route: the flooded host's /32, next hop 192.0.2.1, community
  // 65535:666 (4294902426), AS path empty (tidewatchd's own route).
  BOOST_TEST(count_of(adj, "\"prefix\":") == 1u, adj);
  BOOST_TEST(adj.find("\"prefix\":\"100.64.0.200/32\"") != std::string::npos, adj);
  BOOST_TEST(adj.find("\"nexthop\":\"192.0.2.1\"") != std::string::npos, adj);
  BOOST_TEST(adj.find("\"communities\":[4294902426]") != std::string::npos, adj);
  BOOST_TEST(d.err().find("detector: ban 100.64.0.200/32") != std::string::npos, d.err());
  // The flood is over: 1 s later the attack ends, 2 s after its start the
  // ban may go, and the withdrawal reaches gobgpd.
  BOOST_TEST(peers.routers_side.eventually(
                 [&] {
                   adj = adj_in();
                   return adj.find("100.64.0.200") == std::string::npos;
                 },
                 15s),
             adj);
  BOOST_TEST(d.err().find("detector: unban 100.64.0.200/32") != std::string::npos, d.err());
  BOOST_TEST(peers.stop() == 0);
}
