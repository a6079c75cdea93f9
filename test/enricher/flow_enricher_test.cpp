#define BOOST_TEST_MODULE flow_enricher
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "actors/enricher/enrichment_files.hpp"
#include "actors/enricher/flow_enricher.hpp"

using namespace tidewatch;
namespace fs = std::filesystem;

namespace {

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

ip_prefix prefix(const char* text) {
  ip_prefix p;
  BOOST_REQUIRE(ip_prefix::parse(text, p));
  return p;
}

flow_record flow(const char* exporter, const char* src, const char* dst, uint64_t packets = 2,
                 uint64_t bytes = 300, uint32_t exported_rate = 0) {
  flow_record r;
  r.exporter = addr(exporter);
  r.src_addr = addr(src);
  r.dst_addr = addr(dst);
  r.ip_version = r.src_addr.is_v4() ? 4 : 6;
  r.packets = packets;
  r.bytes = bytes;
  r.sampling_rate = exported_rate;
  return r;
}

std::shared_ptr<prefix_list> ours(const char* text) {
  auto list = std::make_shared<prefix_list>();
  std::vector<std::string> errors;
  BOOST_REQUIRE(prefix_list::parse(text, "ours", *list, errors));
  return list;
}

/// A scratch directory with MaxMind databases built by the Perl writer.
struct databases {
  fs::path dir;
  databases() {
    dir = fs::temp_directory_path() / ("tw-enricher-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const char* layout : {"maxmind-country", "maxmind-asn", "flat-country"}) {
      std::string command = "perl " + std::string(std::getenv("TIDEWATCH_SOURCE_DIR")) +
                            "/test/integration/scripts/make_mmdb.pl " +
                            (dir / (std::string(layout) + ".mmdb")).string() + " " + layout;
      BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
    }
  }
  ~databases() { fs::remove_all(dir); }
  std::string path(const char* layout) const {
    return (dir / (std::string(layout) + ".mmdb")).string();
  }
  std::shared_ptr<geoip_database> open(const char* layout) const {
    std::string error;
    auto db = open_database_copy(path(layout), error);
    BOOST_REQUIRE_MESSAGE(db, error);
    return db;
  }
};

/// Built once for the whole test program (the Perl writer takes a while).
const databases& built_databases() {
  static databases instance;
  return instance;
}

/// The value of e's counter `name`; 999 when it has none.
uint64_t counter_of(const flow_enricher& e, const std::string& name) {
  std::vector<counter_value> counters;
  e.collect(counters);
  for (auto& c : counters)
    if (c.name == name)
      return c.value;
  return 999;
}

std::string country(uint16_t code) {
  return code == 0 ? "" : std::string{char(code >> 8), char(code & 0xff)};
}

} // namespace

BOOST_AUTO_TEST_CASE(scope_follows_which_side_is_ours_and_names_the_prefixes) {
  flow_enricher e;
  e.set_prefixes(ours("192.0.2.0/24 dc1\n2001:db8:10::/48 dc2\n192.0.2.128/25\n"));
  flow_batch b;
  b.records = {flow("10.0.0.1", "198.51.100.1", "192.0.2.10"),
               flow("10.0.0.1", "192.0.2.200", "198.51.100.1"),
               flow("10.0.0.1", "192.0.2.10", "2001:db8:10::5"),
               flow("10.0.0.1", "198.51.100.1", "203.0.113.1"), flow_record{}};
  // An IPv6 flow between both sides of ours.
  b.records[2] = flow("10.0.0.1", "2001:db8:10::1", "2001:db8:10::5");
  e.enrich(b);
  auto& r = b.records;
  BOOST_TEST(int(r[0].scope) == int(traffic_scope::inbound));
  BOOST_TEST(r[0].src_net_length == 0);
  BOOST_TEST(r[0].dst_net_length == 24);
  BOOST_TEST(b.label(r[0].dst_net_name) == "dc1");
  BOOST_TEST(int(r[1].scope) == int(traffic_scope::outbound));
  BOOST_TEST(r[1].src_net_length == 25);
  BOOST_TEST(r[1].src_net_name == 0u); // the /25 line has no name
  BOOST_TEST(int(r[2].scope) == int(traffic_scope::internal));
  BOOST_TEST(r[2].src_net_length == 48);
  BOOST_TEST(b.label(r[2].src_net_name) == "dc2");
  BOOST_TEST(r[2].src_net_name == r[2].dst_net_name); // one label per prefix name
  BOOST_TEST(int(r[3].scope) == int(traffic_scope::external));
  BOOST_TEST(int(r[4].scope) == int(traffic_scope::unknown));
  // The names stay in the prefix list's table, which the batch shares: none is copied.
  BOOST_TEST(b.labels.size() == 1u);
  BOOST_REQUIRE(b.labels.shared[2]);
  BOOST_TEST(b.labels.shared[2]->size() == 3u); // "", dc1, dc2
  auto value = [&](const std::string& name) { return counter_of(e, name); };
  BOOST_TEST(value("enricher_records_total") == 5u);
  BOOST_TEST(value("enricher_scope_total{scope=\"inbound\"}") == 1u);
  BOOST_TEST(value("enricher_scope_total{scope=\"internal\"}") == 1u);
  BOOST_TEST(value("enricher_scope_total{scope=\"unknown\"}") == 1u);
}

BOOST_AUTO_TEST_CASE(sampling_precedence_override_then_export_then_defaults) {
  enricher_settings s;
  s.sampling.overrides = {{prefix("10.0.0.0/24"), 100}, {prefix("10.0.0.7"), 7}};
  s.sampling.defaults = {{prefix("10.1.0.0/16"), 50}};
  s.sampling.default_rate = 1000;
  flow_enricher e{s};
  flow_batch b;
  b.records = {
      flow("10.0.0.1", "192.0.2.1", "192.0.2.2", 2, 300, 512), // override /24 beats export
      flow("10.0.0.7", "192.0.2.1", "192.0.2.2", 2, 300, 512), // the most specific override
      flow("10.2.0.1", "192.0.2.1", "192.0.2.2", 2, 300, 512), // export
      flow("10.1.3.4", "192.0.2.1", "192.0.2.2", 2, 300, 0),   // per-exporter default
      flow("10.2.0.1", "192.0.2.1", "192.0.2.2", 2, 300, 0),   // global default
  };
  e.enrich(b);
  auto& r = b.records;
  uint32_t rates[] = {100, 7, 512, 50, 1000};
  sampling_source sources[] = {sampling_source::override, sampling_source::override,
                               sampling_source::exported, sampling_source::fallback,
                               sampling_source::fallback};
  for (size_t i = 0; i < r.size(); ++i) {
    BOOST_TEST(r[i].sampling_rate == rates[i]);
    BOOST_TEST(int(r[i].rate_source) == int(sources[i]));
    BOOST_TEST(r[i].packets == 2u * rates[i]);
    BOOST_TEST(r[i].bytes == 300u * rates[i]);
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_rate_leaves_counters_unscaled_and_is_counted) {
  enricher_settings s;
  s.sampling.precedence = {sampling_source::exported, sampling_source::override};
  s.sampling.overrides = {{prefix("10.0.0.0/8"), 100}};
  flow_enricher e{s};
  flow_batch b;
  b.records = {flow("10.0.0.1", "192.0.2.1", "192.0.2.2", 3, 400, 20),
               flow("172.16.0.1", "192.0.2.1", "192.0.2.2", 3, 400, 0)};
  e.enrich(b);
  // Export before override here.
  BOOST_TEST(b.records[0].sampling_rate == 20u);
  BOOST_TEST(b.records[0].packets == 60u);
  BOOST_TEST(int(b.records[0].rate_source) == int(sampling_source::exported));
  BOOST_TEST(b.records[1].sampling_rate == 0u);
  BOOST_TEST(b.records[1].packets == 3u);
  BOOST_TEST(b.records[1].bytes == 400u);
  BOOST_TEST(int(b.records[1].rate_source) == int(sampling_source::unknown));
  std::vector<counter_value> counters;
  e.collect(counters);
  bool found = false;
  for (auto& c : counters)
    if (c.name == "enricher_sampling_rate_source_total{source=\"unknown\"}") {
      found = true;
      BOOST_TEST(c.value == 1u);
    }
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(maxmind_layout_gives_countries_asns_and_names_for_ipv4_and_ipv6) {
  auto& dbs = built_databases();
  flow_enricher e;
  e.set_databases(dbs.open("maxmind-country"), dbs.open("maxmind-asn"));
  flow_batch b;
  b.records = {flow("10.0.0.1", "192.0.2.1", "198.51.100.9"),
               flow("10.0.0.1", "2001:db8::1", "2001:db8:1::1"),
               flow("10.0.0.1", "203.0.113.1", "203.0.113.200")};
  b.records[0].dst_as = 65000; // the export's AS stays (asn_fill: missing)
  e.enrich(b);
  auto& r = b.records;
  BOOST_TEST(country(r[0].src_country) == "DE");
  BOOST_TEST(country(r[0].dst_country) == "US");
  BOOST_TEST(r[0].src_as == 64496u);
  BOOST_TEST(r[0].dst_as == 65000u);
  BOOST_TEST(b.label(r[0].src_as_name) == "Example \"Quoted\" Org");
  BOOST_TEST(b.label(r[0].dst_as_name) == "TEST-NET-2 Networks");
  BOOST_TEST(country(r[1].src_country) == "FR");
  BOOST_TEST(country(r[1].dst_country) == "BR");
  BOOST_TEST(r[1].src_as == 4200000001u);
  BOOST_TEST(r[1].dst_as == 4200000002u);
  BOOST_TEST(b.label(r[1].src_as_name) == "IPv6 Docs Ltd");
  BOOST_TEST(b.label(r[1].dst_as_name) == "Rede Exemplo");
  BOOST_TEST(country(r[2].src_country) == "JP");
  BOOST_TEST(b.label(r[2].src_as_name) == "Nihon \xe6\x97\xa5\xe6\x9c\xac Net");
  // 203.0.113.200 is outside the /25 the database has.
  BOOST_TEST(r[2].dst_country == 0u);
  BOOST_TEST(r[2].dst_as == 0u);
  BOOST_TEST(r[2].dst_as_name == 0u);
}

BOOST_AUTO_TEST_CASE(as_names_stay_in_the_database_and_outlive_the_enricher_with_the_batch) {
  flow_batch b;
  {
    auto asn = built_databases().open("maxmind-asn");
    flow_enricher e;
    e.set_databases(nullptr, asn);
    b.records = {flow("10.0.0.1", "192.0.2.1", "2001:db8:1::1")};
    e.enrich(b);
  }                                  // the batch alone keeps the database's names now
  BOOST_TEST(b.labels.size() == 1u); // no name copied into the batch
  BOOST_TEST(b.labels.text.empty());
  BOOST_TEST(b.label(b.records[0].src_as_name) == "Example \"Quoted\" Org");
  BOOST_TEST(b.label(b.records[0].dst_as_name) == "Rede Exemplo");
}

BOOST_AUTO_TEST_CASE(a_tiny_address_cache_gives_the_records_that_no_cache_gives) {
  auto& dbs = built_databases();
  // One cache set of four ways and eight addresses: entries are replaced
  // all the time, and a wrong way would show as another record.
  const char* v4[] = {"192.0.2.1", "198.51.100.9", "203.0.113.1", "203.0.113.200", "192.0.2.200"};
  const char* v6[] = {"2001:db8::1", "2001:db8:1::1", "2001:db8::2"};
  flow_batch cached_batch;
  for (size_t round = 0; round < 3; ++round) {
    for (size_t i = 0; i < 5; ++i)
      cached_batch.records.push_back(flow("10.0.0.1", v4[i], v4[(i + round + 1) % 5]));
    for (size_t i = 0; i < 3; ++i)
      cached_batch.records.push_back(flow("10.0.0.1", v6[i], v6[(i + round + 1) % 3]));
  }
  flow_batch uncached_batch = cached_batch;
  auto enrich_with_cache = [&](size_t cache_size, flow_batch& b) {
    enricher_settings s;
    s.address_cache_size = cache_size;
    flow_enricher e{s};
    e.set_prefixes(ours("192.0.2.128/25 dc1\n2001:db8::/48 dc2\n"));
    e.set_databases(dbs.open("maxmind-country"), dbs.open("maxmind-asn"));
    e.enrich(b);
    return counter_of(e, "enricher_geoip_cache_hits_total");
  };
  BOOST_TEST(enrich_with_cache(4, cached_batch) == 19u); // of 48 probes, round-robin replacement
  BOOST_TEST(enrich_with_cache(0, uncached_batch) == 0u);
  BOOST_REQUIRE(cached_batch.records.size() == 24u);
  for (size_t i = 0; i < 24; ++i) {
    BOOST_TEST_CONTEXT("record " << i) {
      BOOST_CHECK(cached_batch.records[i] == uncached_batch.records[i]);
      BOOST_TEST(cached_batch.label(cached_batch.records[i].dst_as_name) ==
                 uncached_batch.label(uncached_batch.records[i].dst_as_name));
    }
  }
  BOOST_TEST(cached_batch.label(cached_batch.records[20].src_net_name) == "dc1");
  BOOST_TEST(country(cached_batch.records[5].src_country) == "FR");
  BOOST_TEST(cached_batch.label(cached_batch.records[5].dst_as_name) == "Rede Exemplo");
}

BOOST_AUTO_TEST_CASE(the_address_cache_takes_memory_only_once_there_is_something_to_look_up) {
  auto entries = [](const flow_enricher& e) {
    return counter_of(e, "enricher_address_cache_entries");
  };
  flow_enricher e; // the default: 1 Mi entries
  flow_batch b;
  b.records = {flow("10.0.0.1", "198.51.100.1", "192.0.2.10")};
  e.enrich(b);
  BOOST_TEST(entries(e) == 0u);
  e.set_prefixes(ours("192.0.2.0/24 dc1\n"));
  BOOST_TEST(entries(e) == 1048576u);
  e.enrich(b);
  BOOST_TEST(int(b.records[0].scope) == int(traffic_scope::inbound));
  enricher_settings odd;
  odd.address_cache_size = 5; // rounded up to two sets of four
  flow_enricher small{odd};
  small.set_prefixes(ours("192.0.2.0/24 dc1\n"));
  BOOST_TEST(entries(small) == 8u);
}

BOOST_AUTO_TEST_CASE(the_flat_country_code_layout_is_read_too) {
  auto& dbs = built_databases();
  flow_enricher e;
  e.set_databases(dbs.open("flat-country"), nullptr);
  flow_batch b;
  b.records = {flow("10.0.0.1", "198.51.100.1", "2001:db8:1::77")};
  e.enrich(b);
  BOOST_TEST(country(b.records[0].src_country) == "US");
  BOOST_TEST(country(b.records[0].dst_country) == "BR");
  BOOST_TEST(b.records[0].src_as == 0u);
}

BOOST_AUTO_TEST_CASE(asn_fill_modes_decide_whether_the_database_replaces_the_export) {
  auto& dbs = built_databases();
  for (auto [mode, expected_src, expected_dst] :
       {std::tuple{asn_fill_mode::never, 0u, 65000u},
        std::tuple{asn_fill_mode::missing, 64496u, 65000u},
        std::tuple{asn_fill_mode::always, 64496u, 64497u}}) {
    enricher_settings s;
    s.asn_fill = mode;
    flow_enricher e{s};
    e.set_databases(nullptr, dbs.open("maxmind-asn"));
    flow_batch b;
    b.records = {flow("10.0.0.1", "192.0.2.1", "198.51.100.1")};
    b.records[0].dst_as = 65000;
    e.enrich(b);
    BOOST_TEST(b.records[0].src_as == expected_src);
    BOOST_TEST(b.records[0].dst_as == expected_dst);
  }
}

BOOST_AUTO_TEST_CASE(a_missing_or_corrupt_database_is_a_clear_error_not_a_crash) {
  auto& dbs = built_databases();
  std::string error;
  BOOST_TEST(!open_database_copy((dbs.dir / "absent.mmdb").string(), error));
  BOOST_TEST(error == "No such file or directory");
  auto bad = dbs.dir / "corrupt.mmdb";
  std::ofstream(bad) << "this is not a MaxMind database";
  error.clear();
  BOOST_TEST(!open_database_copy(bad.string(), error));
  BOOST_TEST(error == "The MaxMind DB file contains invalid metadata");
}

BOOST_AUTO_TEST_CASE(files_are_reloaded_when_changed_and_a_bad_version_keeps_the_old_one) {
  auto& dbs = built_databases();
  auto list = dbs.dir / "ours.txt";
  std::ofstream(list) << "192.0.2.0/24 old\n";
  enrichment_files files{{list.string(), dbs.path("maxmind-country"), ""}};
  flow_enricher e;
  auto first = files.refresh(e, true);
  BOOST_TEST(first.errors.empty());
  BOOST_TEST(first.loaded.size() == 2u);
  auto name_of_dst = [&] {
    flow_batch b;
    b.records = {flow("10.0.0.1", "198.51.100.1", "192.0.2.1")};
    e.enrich(b);
    return std::string(b.label(b.records[0].dst_net_name)); // b ends here
  };
  BOOST_TEST(name_of_dst() == "old");
  // Replaced atomically: seen changed at the first check, loaded at the next.
  std::ofstream(dbs.dir / "new.txt") << "192.0.2.0/24 new\n";
  fs::rename(dbs.dir / "new.txt", list);
  BOOST_TEST(files.refresh(e, false).loaded.empty());
  BOOST_TEST(name_of_dst() == "old");
  BOOST_TEST(files.refresh(e, false).loaded.size() == 1u);
  BOOST_TEST(name_of_dst() == "new");
  // A broken version is rejected; the previous list stays in use.
  std::ofstream(dbs.dir / "bad.txt") << "192.0.2.0/24 new\nnot-a-prefix\n";
  fs::rename(dbs.dir / "bad.txt", list);
  auto rejected = files.refresh(e, true);
  BOOST_TEST(rejected.prefixes_failed);
  BOOST_REQUIRE(rejected.errors.size() == 1u);
  BOOST_TEST(rejected.errors[0] ==
             list.string() + ":2: 'not-a-prefix' is not an IP address or prefix");
  BOOST_TEST(name_of_dst() == "new");
  BOOST_TEST(files.reload_errors() == 1u);
  // Nothing changed since: no retry, no repeated error.
  BOOST_TEST(files.refresh(e, false).errors.empty());
}

BOOST_AUTO_TEST_CASE(a_database_rewritten_in_place_does_not_disturb_the_copy_in_use) {
  auto& dbs = built_databases();
  auto path = dbs.dir / "live.mmdb";
  fs::copy_file(dbs.path("maxmind-country"), path);
  enrichment_files files{{"", path.string(), ""}};
  flow_enricher e;
  files.refresh(e, true);
  // Truncate and rewrite the file under the loaded database.
  std::ofstream(path, std::ios::trunc) << "garbage";
  flow_batch b;
  b.records = {flow("10.0.0.1", "192.0.2.1", "198.51.100.1")};
  e.enrich(b);
  BOOST_TEST(country(b.records[0].src_country) == "DE");
  BOOST_TEST(files.refresh(e, false).errors.empty()); // not settled yet
  auto outcome = files.refresh(e, false);
  BOOST_REQUIRE(outcome.errors.size() == 1u);
  BOOST_TEST(outcome.errors[0] == "country database " + path.string() +
                                      ": The MaxMind DB file contains invalid metadata; keeping "
                                      "the previous version");
  flow_batch again;
  again.records = {flow("10.0.0.1", "192.0.2.1", "198.51.100.1")};
  e.enrich(again);
  BOOST_TEST(country(again.records[0].dst_country) == "US");
}

BOOST_AUTO_TEST_CASE(the_region_label_goes_on_every_record) {
  enricher_settings s;
  s.region = "eu-west";
  flow_enricher e{s};
  flow_batch b;
  b.records = {flow("10.0.0.1", "192.0.2.1", "198.51.100.1"), flow_record{}};
  e.enrich(b);
  BOOST_TEST(b.label(b.records[0].region) == "eu-west");
  BOOST_TEST(b.label(b.records[1].region) == "eu-west");
}

BOOST_AUTO_TEST_CASE(a_sink_selection_keeps_only_its_scopes_and_the_labels) {
  flow_enricher e;
  e.set_prefixes(ours("192.0.2.0/24 dc1\n"));
  flow_batch b;
  b.records = {
      flow("10.0.0.1", "192.0.2.1", "192.0.2.2"), flow("10.0.0.1", "198.51.100.1", "192.0.2.2"),
      flow("10.0.0.1", "198.51.100.1", "203.0.113.1"), flow("10.0.0.1", "192.0.2.3", "192.0.2.4")};
  e.enrich(b);
  BOOST_TEST(scope_mask({}) == all_scopes);
  BOOST_TEST(scope_mask({"internal"}) == scope_bit(traffic_scope::internal));
  auto internal = select_scopes(b, scope_mask({"internal"}));
  BOOST_REQUIRE(internal.records.size() == 2u);
  BOOST_TEST(internal.records[0].src_addr.to_string() == "192.0.2.1");
  BOOST_TEST(internal.records[1].src_addr.to_string() == "192.0.2.3");
  BOOST_TEST(internal.label(internal.records[1].src_net_name) == "dc1");
  auto rest = select_scopes(b, scope_mask({"inbound", "external"}));
  BOOST_REQUIRE(rest.records.size() == 2u);
  BOOST_TEST(int(rest.records[0].scope) == int(traffic_scope::inbound));
  BOOST_TEST(int(rest.records[1].scope) == int(traffic_scope::external));
}
