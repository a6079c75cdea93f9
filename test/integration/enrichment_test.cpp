#define BOOST_TEST_MODULE enrichment
#include <boost/test/unit_test.hpp>

// tidewatchd enriches what flowgen exports: sampling extrapolation, our
// prefixes, countries and AS data from MaxMind databases built here with the
// Perl writer; and it swaps prefix list and databases while records flow
// without losing or mixing records.

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

struct enrichment_fixture {
  scratch_dir dir{"enrichment"};
  uint16_t port = free_port();
  std::filesystem::path output = dir / "flows.json";
  std::filesystem::path prefixes = dir / "ours.txt";
  std::filesystem::path country_db = dir / "country.mmdb";
  std::filesystem::path asn_db = dir / "asn.mmdb";

  enrichment_fixture() {
    make_database(country_db, "maxmind-country");
    make_database(asn_db, "maxmind-asn");
    write_file(prefixes, "# our networks\n192.0.2.0/24 dc-old\n2001:db8::/48 dc6-old\n");
    write_file(dir / "node.yaml", node_config(dir.path, port) +
                                      "    enrichment:\n      prefix_file: " + prefixes.string() +
                                      "\n      country_database: " + country_db.string() +
                                      "\n      asn_database: " + asn_db.string() +
                                      "\n      asn_fill: always\n      region: eu-west\n");
  }

  void make_database(const std::filesystem::path& path, const std::string& layout,
                     const std::string& variant = "") {
    BOOST_REQUIRE_EQUAL(
        run("perl " + scripts + "/make_mmdb.pl " + path.string() + " " + layout + " " + variant),
        0);
  }

  /// flowgen's v9 traffic from our networks to 198.51.100.0/24 and 2001:db8:1::/48.
  std::string flowgen_command(const std::string& records, const std::string& rate) {
    return flowgen + " --protocol v9 --target 127.0.0.1:" + std::to_string(port) + " --records " +
           records + " --rate " + rate +
           " --hosts 200 --src-prefix 192.0.2.0/24,2001:db8::/48"
           " --dst-prefix 198.51.100.0/24,2001:db8:1::/48 --ipv6-share 0.25"
           " --sampling-rate 100 --template-interval 1";
  }

  std::string summary(const std::string& keys, bool runs = false) {
    std::string out;
    BOOST_REQUIRE_EQUAL(run(python + " " + scripts + "/json_key_counts.py " + output.string() +
                                " " + keys + (runs ? " --runs" : ""),
                            &out),
                        0);
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(records_carry_scope_prefix_country_asn_region_and_scaled_counters,
                        enrichment_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  std::string sent;
  BOOST_REQUIRE_EQUAL(run(flowgen_command("4000", "0"), &sent), 0);
  // flowgen says how many records of each family it sent.
  auto v4_at = sent.find("IPv4 ");
  auto v6_at = sent.find("IPv6 ");
  BOOST_REQUIRE(v4_at != std::string::npos && v6_at != std::string::npos);
  auto v4 = std::stoul(sent.substr(v4_at + 5));
  auto v6 = std::stoul(sent.substr(v6_at + 5));
  BOOST_REQUIRE_EQUAL(v4 + v6, 4000u);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
  BOOST_TEST(count_lines(output) == 4000u);
  BOOST_TEST(d.err().find("enricher loaded prefix list " + prefixes.string() + ": 2 prefixes") !=
             std::string::npos);
  // Every record went out of our network: outbound (tag2 2), named by our
  // prefix, with both ends' country, AS number and organisation.
  auto by_fields = summary("ip_version,traffic_scope,tag2,net_cidr_src,net_name_src,net_cidr_dst,"
                           "country_ip_src,country_ip_dst,as_src,as_dst,as_name_src,as_name_dst,"
                           "region,sampling_rate,sampling_source");
  BOOST_TEST(by_fields ==
             "4|outbound|2|192.0.2.0/24|dc-old||DE|US|64496|64497|Example \"Quoted\" Org|"
             "TEST-NET-2 Networks|eu-west|100|export " +
                 std::to_string(v4) +
                 "\n"
                 "6|outbound|2|2001:db8::/48|dc6-old||FR|BR|4200000001|4200000002|IPv6 Docs Ltd|"
                 "Rede Exemplo|eu-west|100|export " +
                 std::to_string(v6) + "\n");
}

BOOST_FIXTURE_TEST_CASE(prefix_list_and_databases_swap_under_load_without_losing_or_mixing,
                        enrichment_fixture) {
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  // 24,000 records over 6 s; the files change under it.
  process sender({"/bin/sh", "-c", flowgen_command("24000", "4000")}, dir.path, "flowgen");
  std::this_thread::sleep_for(1500ms);
  // An atomic replace is picked up by the file watch alone.
  write_file(dir / "ours.new", "192.0.2.0/24 dc-new\n2001:db8::/48 dc6-new\n");
  std::filesystem::rename(dir / "ours.new", prefixes);
  std::this_thread::sleep_for(1500ms);
  // A database replaced, then SIGHUP: re-read at once.
  make_database(dir / "country.new", "maxmind-country", "renumbered");
  std::filesystem::rename(dir / "country.new", country_db);
  d.signal(SIGHUP);
  BOOST_REQUIRE_EQUAL(sender.wait_exit(20s).value_or(-1), 0);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
  BOOST_TEST(count_lines(output) == 24000u);
  // In arrival order: old names, then new ones; old countries, then new ones.
  auto names = summary("net_name_src");
  BOOST_TEST(names.find("dc-old ") != std::string::npos);
  BOOST_TEST(names.find("dc-new ") != std::string::npos);
  auto runs = summary("ip_version,net_name_src", true);
  // Each family switches exactly once: no old name after the first new one.
  std::string last_v4, last_v6;
  size_t switches_v4 = 0, switches_v6 = 0;
  std::istringstream lines(runs);
  for (std::string line; std::getline(lines, line);) {
    bool v4 = line.rfind("4|", 0) == 0;
    auto& last = v4 ? last_v4 : last_v6;
    auto name = line.substr(2);
    if (!last.empty() && last != name)
      ++(v4 ? switches_v4 : switches_v6);
    last = name;
  }
  BOOST_TEST(switches_v4 == 1u);
  BOOST_TEST(switches_v6 == 1u);
  BOOST_TEST(last_v4 == "dc-new");
  BOOST_TEST(last_v6 == "dc6-new");
  auto countries = summary("country_ip_src,country_ip_dst", true);
  BOOST_TEST(countries.find("DE|US") != std::string::npos);
  BOOST_TEST(countries.find("NL|CA") != std::string::npos);
  BOOST_TEST(countries.find("FR|BR") != std::string::npos);
  BOOST_TEST(countries.find("BE|AR") != std::string::npos);
  // A renumbered pair never comes before the last original one.
  BOOST_TEST(countries.rfind("DE|US") < countries.find("NL|CA"));
  BOOST_TEST(countries.rfind("FR|BR") < countries.find("BE|AR"));
  BOOST_TEST(d.err().find("enricher loaded country database") != std::string::npos);
}
