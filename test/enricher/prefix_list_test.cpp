#define BOOST_TEST_MODULE prefix_list
#include <boost/test/unit_test.hpp>

#include <random>

#include "actors/enricher/prefix_list.hpp"

using namespace tidewatch;

namespace {

ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

/// The name of the matching entry, "-" for none.
std::string name_of(const prefix_list& list, const char* address) {
  auto* e = list.match(addr(address));
  return e ? e->name : "-";
}

} // namespace

BOOST_AUTO_TEST_CASE(the_longest_prefix_wins_whatever_the_order_of_the_lines) {
  prefix_list list;
  std::vector<std::string> errors;
  BOOST_REQUIRE(prefix_list::parse("198.51.100.0/24 wide\n"
                                   "198.51.100.128/25 half\n"
                                   "198.51.100.200/30 quad   # a comment\n"
                                   "198.51.100.203 host\n"
                                   "198.51.0.0/16 sixteen\n"
                                   "\n# only a comment\n"
                                   "2001:db8::/32 v6wide\n"
                                   "2001:db8:aa00::/40 v6mid\n"
                                   "2001:db8:aabb:cc00::/56\n",
                                   "ours.txt", list, errors));
  BOOST_TEST(errors.empty());
  BOOST_TEST(list.entries().size() == 8u);
  BOOST_TEST(name_of(list, "198.51.100.1") == "wide");
  BOOST_TEST(name_of(list, "198.51.100.127") == "wide");
  BOOST_TEST(name_of(list, "198.51.100.128") == "half");
  BOOST_TEST(name_of(list, "198.51.100.199") == "half");
  BOOST_TEST(name_of(list, "198.51.100.200") == "quad");
  BOOST_TEST(name_of(list, "198.51.100.202") == "quad");
  BOOST_TEST(name_of(list, "198.51.100.203") == "host");
  BOOST_TEST(name_of(list, "198.51.100.204") == "half");
  BOOST_TEST(name_of(list, "198.51.7.1") == "sixteen");
  BOOST_TEST(name_of(list, "198.52.0.1") == "-");
  BOOST_TEST(name_of(list, "2001:db8:1::1") == "v6wide");
  BOOST_TEST(name_of(list, "2001:db8:aa01::1") == "v6mid");
  BOOST_TEST(name_of(list, "2001:db8:aabb:ccff::1") == "");
  BOOST_TEST(list.match(addr("2001:db8:aabb:ccff::1"))->prefix.length == 56);
  BOOST_TEST(name_of(list, "2001:db9::1") == "-");
  // An IPv4 address never matches an IPv6 prefix, nor the reverse.
  BOOST_TEST(name_of(list, "::ffff:0:1") == "-");
}

BOOST_AUTO_TEST_CASE(a_default_route_matches_everything_of_its_family_only) {
  prefix_list list;
  std::vector<std::string> errors;
  BOOST_REQUIRE(prefix_list::parse("0.0.0.0/0 any4\n10.0.0.0/8 ten\n", "f", list, errors));
  BOOST_TEST(name_of(list, "203.0.113.1") == "any4");
  BOOST_TEST(name_of(list, "10.1.2.3") == "ten");
  BOOST_TEST(name_of(list, "2001:db8::1") == "-");
}

BOOST_AUTO_TEST_CASE(bad_lines_reject_the_whole_list_with_file_and_line) {
  prefix_list list;
  std::vector<std::string> errors;
  BOOST_REQUIRE(prefix_list::parse("192.0.2.0/24 a\n", "f", list, errors));
  prefix_list untouched = list;
  BOOST_TEST(!prefix_list::parse("192.0.2.0/24 a\n"
                                 "192.0.2.0/33\n"
                                 "2001:db8::/32 site extra\n"
                                 "example.net\n",
                                 "ours.txt", list, errors));
  BOOST_REQUIRE(errors.size() == 3u);
  BOOST_TEST(errors[0] == "ours.txt:2: '192.0.2.0/33' is not an IP address or prefix");
  BOOST_TEST(errors[1] ==
             "ours.txt:3: unexpected 'extra' after the name 'site' (expected: PREFIX [NAME])");
  BOOST_TEST(errors[2] == "ours.txt:4: 'example.net' is not an IP address or prefix");
  BOOST_TEST(list.entries().size() == 1u);
  BOOST_TEST(name_of(list, "192.0.2.1") == "a");
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_one_clear_error) {
  prefix_list list;
  std::vector<std::string> errors;
  BOOST_TEST(!prefix_list::load("/nonexistent/ours.txt", list, errors));
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0] == "/nonexistent/ours.txt: cannot read the prefix list");
}

BOOST_AUTO_TEST_CASE(the_trie_agrees_with_a_linear_scan_on_random_prefixes) {
  std::mt19937_64 rng(7);
  std::vector<ip_prefix> prefixes;
  prefix_table table;
  for (uint32_t i = 0; i < 3000; ++i) {
    ip_prefix p;
    bool v4 = i % 3 != 0;
    unsigned len = v4 ? 8 + rng() % 25 : 16 + rng() % 113;
    // Few distinct top bits, so that prefixes nest often.
    uint64_t high = (rng() & 0x0303030303030303ull) | 0x2001000000000000ull;
    uint64_t low = rng();
    if (v4)
      p.network = ip_address::from_v4(uint32_t(0xc6000000u | (high & 0x00ffffffu)));
    else
      for (int b = 0; b < 8; ++b) {
        p.network.bytes[size_t(b)] = uint8_t(high >> (56 - 8 * b));
        p.network.bytes[size_t(8 + b)] = uint8_t(low >> (56 - 8 * b));
      }
    std::string text = p.network.to_string() + "/" + std::to_string(len);
    BOOST_REQUIRE(ip_prefix::parse(text, p));
    prefixes.push_back(p);
    table.add(p, i + 1);
  }
  table.build();
  std::vector<ip_address> addresses;
  std::vector<uint32_t> expectations;
  for (int n = 0; n < 20000; ++n) {
    const auto& base = prefixes[rng() % prefixes.size()];
    ip_address a = base.network;
    // Flip a few bits below or around the prefix end.
    for (int flips = 0; flips < 2; ++flips) {
      unsigned bit = unsigned(rng() % 128);
      if (!base.network.is_v4() || bit >= 96)
        a.bytes[bit / 8] ^= uint8_t(0x80u >> (bit % 8));
    }
    uint32_t expected = 0;
    unsigned best = 0;
    for (uint32_t i = 0; i < prefixes.size(); ++i)
      if (prefixes[i].contains(a) && (expected == 0 || prefixes[i].length >= best)) {
        expected = i + 1;
        best = prefixes[i].length;
      }
    BOOST_TEST_REQUIRE(table.lookup(a) == expected, a.to_string());
    addresses.push_back(a);
    expectations.push_back(expected);
  }
  // The batched lookup walks the addresses side by side to the same answers.
  std::vector<uint32_t> batched(addresses.size(), 12345);
  table.lookup(addresses.data(), addresses.size(), batched.data());
  BOOST_TEST(batched == expectations, boost::test_tools::per_element());
}
