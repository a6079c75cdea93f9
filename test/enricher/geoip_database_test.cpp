#define BOOST_TEST_MODULE geoip_database
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <tuple>

#include <maxminddb.h>

#include "actors/enricher/geoip_database.hpp"
#include "test/temp_dir.hpp"

using namespace tidewatch;

namespace {

/// What libmaxminddb itself answers for a: the reference the flattened
/// tables must agree with.
struct reference_database {
  MMDB_s db{};
  explicit reference_database(const std::string& path) {
    BOOST_REQUIRE(MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db) == MMDB_SUCCESS);
  }
  ~reference_database() { MMDB_close(&db); }

  /// Country and ASN of a, and the prefix length of the tree leaf holding a
  /// (counted in the address's own family).
  std::tuple<uint16_t, uint32_t, unsigned> lookup(const ip_address& a) {
    sockaddr_storage storage{};
    if (a.is_v4()) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
      sin->sin_family = AF_INET;
      std::memcpy(&sin->sin_addr, a.bytes.data() + 12, 4);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
      sin6->sin6_family = AF_INET6;
      std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    }
    int error = 0;
    auto result = MMDB_lookup_sockaddr(&db, reinterpret_cast<const sockaddr*>(&storage), &error);
    BOOST_REQUIRE(error == MMDB_SUCCESS);
    unsigned length = result.netmask;
    if (a.is_v4() && db.metadata.ip_version == 6)
      length -= 96;
    if (!result.found_entry)
      return {0, 0, length};
    MMDB_entry_data_s data;
    uint16_t country = 0;
    if (MMDB_get_value(&result.entry, &data, "country", "iso_code", nullptr) == MMDB_SUCCESS &&
        data.has_data && data.data_size == 2)
      country = country_code(data.utf8_string[0], data.utf8_string[1]);
    uint32_t asn = 0;
    if (MMDB_get_value(&result.entry, &data, "autonomous_system_number", nullptr) == MMDB_SUCCESS &&
        data.has_data)
      asn = data.uint32;
    return {country, asn, length};
  }
};

ip_address v6_of(uint64_t high, uint64_t low) {
  ip_address a;
  for (size_t i = 0; i < 8; ++i) {
    a.bytes[i] = uint8_t(high >> (56 - 8 * i));
    a.bytes[8 + i] = uint8_t(low >> (56 - 8 * i));
  }
  return a;
}

/// Writes `path` with tools/bench/make_large_mmdb.pl `arguments` and opens it flattened.
void make_database(const std::filesystem::path& path, const std::string& arguments,
                   geoip_database& flat) {
  std::string command = "perl " + std::string(std::getenv("TIDEWATCH_SOURCE_DIR")) +
                        "/tools/bench/make_large_mmdb.pl " + path.string() + " " + arguments;
  BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
  std::string error;
  BOOST_REQUIRE_MESSAGE(flat.open(path.string(), error), error);
  BOOST_TEST(flat.lookup_errors() == 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(flattened_lookups_answer_what_libmaxminddb_answers) {
  test::temp_dir dir("tw-geoip");
  auto path = dir.path / "random.mmdb";
  geoip_database flat;
  make_database(path, "20000 7", flat);
  reference_database reference(path.string());

  size_t found = 0, compared = 0;
  std::vector<ip_address> addresses;
  std::vector<geo_info> infos;
  /// Compares a and returns the length of the reference's leaf holding it.
  auto compare = [&](const ip_address& a) {
    auto [country, asn, length] = reference.lookup(a);
    auto info = flat.lookup(a);
    addresses.push_back(a);
    infos.push_back(info);
    ++compared;
    found += country != 0;
    if (info.country != country || info.asn != asn)
      BOOST_FAIL(a.to_string() << ": flattened " << info.country << "/" << info.asn
                               << ", libmaxminddb " << country << "/" << asn);
    return length;
  };
  // Every leaf of the IPv4 tree, networks and gaps: its first and last address.
  for (uint64_t start = 0; start < (uint64_t(1) << 32);) {
    unsigned length = compare(ip_address::from_v4(uint32_t(start)));
    uint64_t size = uint64_t(1) << (32 - length);
    compare(ip_address::from_v4(uint32_t(start + size - 1)));
    start += size;
  }
  // Every leaf of 2001:1000::/20 .. 2001:efff::/32, where the IPv6 networks are.
  for (uint64_t high = 0x2001'1000'0000'0000ull; high < 0x2001'f000'0000'0000ull;) {
    unsigned length = compare(v6_of(high, 0));
    BOOST_REQUIRE(length >= 16 && length <= 64);
    uint64_t size = uint64_t(1) << (64 - length);
    compare(v6_of(high + size - 1, ~uint64_t(0)));
    high += size;
  }
  // IPv4 reached through the IPv6 aliases (6to4 2002::/16, Teredo 2001::/32).
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20'000; ++i) {
    uint32_t v4 = uint32_t(rng());
    compare(v6_of(0x2002'0000'0000'0000ull | uint64_t(v4) << 16, rng()));
    compare(v6_of(0x2001'0000'0000'0000ull | v4, rng()));
  }
  // The batched lookup answers what the single one answers, address for address.
  std::vector<geo_info> batched(addresses.size(), geo_info{1, 1, 1});
  flat.lookup(addresses.data(), addresses.size(), batched.data());
  for (size_t i = 0; i < addresses.size(); ++i)
    if (!(batched[i] == infos[i]))
      BOOST_FAIL(addresses[i].to_string()
                 << ": batched " << batched[i].country << "/" << batched[i].asn << ", single "
                 << infos[i].country << "/" << infos[i].asn);
  BOOST_TEST_MESSAGE(compared << " addresses compared, " << found << " with a country");
  // 20,000 networks, each met at least at its first and last address.
  BOOST_TEST(found >= 40'000u);
  BOOST_TEST(flat.ranges() > 20'000u);
}

BOOST_AUTO_TEST_CASE(crowded_ipv4_blocks_are_split_by_index_nodes_and_answer_as_libmaxminddb) {
  // 400 /28s in 10.1.0.0/16 and 64 /30s in 10.2.3.0/24: more ranges than a
  // bucket searches directly, so 10.1/16 and 10.2/16 get a node each, and
  // 10.2.3/24 one more below that of 10.2/16.
  test::temp_dir dir("tw-geoip");
  auto path = dir.path / "dense.mmdb";
  geoip_database flat;
  make_database(path, "0 3 dense", flat);
  BOOST_TEST(flat.index_nodes() == 3u);
  reference_database reference(path.string());
  std::vector<ip_address> addresses;
  for (uint32_t a = 0x0a01'0000; a <= 0x0a01'ffff; ++a)
    addresses.push_back(ip_address::from_v4(a));
  for (uint32_t a = 0x0a02'0300; a <= 0x0a02'03ff; ++a)
    addresses.push_back(ip_address::from_v4(a));
  // Beside the crowded blocks, nothing.
  addresses.push_back(ip_address::from_v4(0x0a00'ffff));
  addresses.push_back(ip_address::from_v4(0x0a02'0000));
  addresses.push_back(ip_address::from_v4(0x0a02'0400));
  std::vector<geo_info> batched(addresses.size(), geo_info{1, 1, 1});
  flat.lookup(addresses.data(), addresses.size(), batched.data());
  size_t found = 0;
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto [country, asn, length] = reference.lookup(addresses[i]);
    auto single = flat.lookup(addresses[i]);
    found += country != 0;
    if (single.country != country || single.asn != asn || !(batched[i] == single))
      BOOST_FAIL(addresses[i].to_string()
                 << ": flattened " << single.country << "/" << single.asn << ", batched "
                 << batched[i].country << "/" << batched[i].asn << ", libmaxminddb " << country
                 << "/" << asn);
  }
  // 400 * 16 addresses in the /28s and the whole /24.
  BOOST_TEST(found == 400u * 16 + 256);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_maxmind_database_is_refused_with_the_reason) {
  test::temp_dir dir("tw-geoip");
  auto path = dir.path / "not.mmdb";
  std::ofstream(path) << "hello\n";
  geoip_database db;
  std::string error;
  BOOST_TEST(!db.open(path.string(), error));
  BOOST_TEST(error == "The MaxMind DB file contains invalid metadata");
  BOOST_TEST(!db.open((dir.path / "missing.mmdb").string(), error));
  BOOST_TEST(error.starts_with("Error opening the specified MaxMind DB file"));
}
