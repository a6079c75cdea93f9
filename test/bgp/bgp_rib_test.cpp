#define BOOST_TEST_MODULE bgp_rib
#include <boost/test/unit_test.hpp>

#include "bgp/bgp_test_helpers.hpp"

#include <random>

#include "actors/bgp/adj_rib_in.hpp"
#include "actors/bgp/bgp_rib.hpp"

using namespace tidewatch;
using tidewatch::test::addr;

namespace {

bgp_path_attributes path(std::initializer_list<uint32_t> ases) {
  bgp_path_attributes a;
  a.origin = 0;
  a.segments = {uint16_t(2 << 8 | ases.size())};
  a.as_path = ases;
  a.next_hop = ip_address::from_v4(0xc0000201);
  return a;
}

bgp_route_batch announce(const ip_address& neighbor,
                         std::initializer_list<std::pair<const char*, int>> prefixes,
                         const bgp_path_attributes& a, uint32_t path_id = 0) {
  bgp_route_batch b;
  b.neighbor = neighbor;
  b.attributes = {a};
  for (auto& [text, length] : prefixes)
    b.announced.push_back({addr(text), uint8_t(length), path_id, 0});
  return b;
}

/// The attribute id's origin AS of the longest match, 0 for none.
uint32_t origin_of(const bgp_rib& rib, const ip_address& neighbor, const char* a) {
  auto m = rib.lookup(rib.neighbor(neighbor), addr(a));
  return m.attributes ? m.attributes->origin_as : 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_longest_prefix_wins_and_a_withdrawal_uncovers_the_shorter_one) {
  adj_rib_in rib;
  BOOST_TEST(rib.insert(addr("0.0.0.0"), 0, 0, 1) == 0u);
  rib.insert(addr("10.0.0.0"), 8, 0, 2);
  rib.insert(addr("10.1.0.0"), 16, 0, 3);
  rib.insert(addr("10.1.2.0"), 24, 0, 4);
  rib.insert(addr("10.1.2.128"), 25, 0, 5);
  rib.insert(addr("10.1.2.200"), 32, 0, 6);
  BOOST_TEST(rib.size() == 6u);
  BOOST_TEST(rib.lookup(addr("11.0.0.1")).attributes == 1u);
  BOOST_TEST(rib.lookup(addr("10.9.0.1")).attributes == 2u);
  BOOST_TEST(rib.lookup(addr("10.1.9.1")).attributes == 3u);
  BOOST_TEST(rib.lookup(addr("10.1.2.1")).attributes == 4u);
  BOOST_TEST(rib.lookup(addr("10.1.2.129")).attributes == 5u);
  BOOST_TEST(rib.lookup(addr("10.1.2.129")).length == 25);
  BOOST_TEST(rib.lookup(addr("10.1.2.200")).attributes == 6u);
  BOOST_TEST(rib.remove(addr("10.1.2.0"), 24, 0) == 4u);
  BOOST_TEST(rib.lookup(addr("10.1.2.1")).attributes == 3u);
  BOOST_TEST(rib.lookup(addr("10.1.2.129")).attributes == 5u);
  BOOST_TEST(rib.remove(addr("10.1.0.0"), 16, 0) == 3u);
  BOOST_TEST(rib.lookup(addr("10.1.2.1")).attributes == 2u);
  BOOST_TEST(rib.remove(addr("10.1.0.0"), 16, 0) == 0u);
  BOOST_TEST(rib.lookup(addr("2001:db8::1")).attributes == 0u);
  rib.insert(addr("2001:db8::"), 32, 0, 7);
  rib.insert(addr("2001:db8:100::"), 48, 0, 8);
  BOOST_TEST(rib.lookup(addr("2001:db8:100::1")).attributes == 8u);
  BOOST_TEST(rib.lookup(addr("2001:db8:101::1")).attributes == 7u);
  BOOST_TEST(rib.size() == 6u);
}

BOOST_AUTO_TEST_CASE(of_two_add_path_paths_the_lowest_identifier_is_the_match) {
  adj_rib_in rib;
  rib.insert(addr("203.0.113.0"), 24, 2, 20);
  rib.insert(addr("203.0.113.0"), 24, 1, 10);
  BOOST_TEST(rib.size() == 2u);
  BOOST_TEST(rib.lookup(addr("203.0.113.9")).attributes == 10u);
  BOOST_TEST(rib.lookup(addr("203.0.113.9")).path_id == 1u);
  rib.remove(addr("203.0.113.0"), 24, 1);
  BOOST_TEST(rib.lookup(addr("203.0.113.9")).attributes == 20u);
}

BOOST_AUTO_TEST_CASE(random_inserts_and_removals_match_a_brute_force_search) {
  std::mt19937 rng(7);
  adj_rib_in rib;
  struct ref {
    uint32_t network;
    uint8_t length;
    uint32_t value;
  };
  std::vector<ref> refs;
  auto mask = [](uint8_t length) { return length == 0 ? 0u : ~0u << (32 - length); };
  for (int round = 0; round < 4000; ++round) {
    if (!refs.empty() && rng() % 3 == 0) {
      size_t i = rng() % refs.size();
      BOOST_TEST(rib.remove(ip_address::from_v4(refs[i].network), refs[i].length, 0) ==
                 refs[i].value);
      refs.erase(refs.begin() + std::ptrdiff_t(i));
    } else {
      uint8_t length = uint8_t(rng() % 33);
      uint32_t network = (0x0a000000 | (rng() & 0x00ffffff)) & mask(length);
      uint32_t value = uint32_t(round + 1);
      auto same = std::find_if(refs.begin(), refs.end(), [&](const ref& r) {
        return r.network == network && r.length == length;
      });
      uint32_t old = rib.insert(ip_address::from_v4(network), length, 0, value);
      BOOST_TEST(old == (same == refs.end() ? 0u : same->value));
      if (same != refs.end())
        same->value = value;
      else
        refs.push_back({network, length, value});
    }
    uint32_t probe = 0x0a000000 | (rng() & 0x00ffffff);
    uint32_t expected = 0;
    int best = -1;
    for (auto& r : refs)
      if ((probe & mask(r.length)) == r.network && r.length > best) {
        best = r.length;
        expected = r.value;
      }
    BOOST_TEST(rib.lookup(ip_address::from_v4(probe)).attributes == expected);
  }
  BOOST_TEST(rib.size() == refs.size());
  size_t seen = 0;
  rib.for_each([&](const adj_rib_in::route& r) {
    ++seen;
    auto it = std::find_if(refs.begin(), refs.end(), [&](const ref& x) {
      return ip_address::from_v4(x.network) == r.network && x.length == r.length;
    });
    BOOST_TEST((it != refs.end() && it->value == r.attributes));
  });
  BOOST_TEST(seen == refs.size());
}

BOOST_AUTO_TEST_CASE(random_ipv6_inserts_and_removals_match_a_brute_force_search) {
  // Prefixes inside 2001:db8::/32 with their bits drawn from a small set, so
  // that they nest often; every length from 0 to 128.
  std::mt19937 rng(11);
  adj_rib_in rib;
  using bits128 = unsigned __int128;
  struct ref {
    bits128 network;
    uint8_t length;
    uint32_t path_id;
    uint32_t value;
  };
  std::vector<ref> refs;
  auto mask = [](uint8_t length) {
    return length == 0 ? bits128(0) : ~bits128(0) << (128 - length);
  };
  auto to_address = [](bits128 x) {
    uint8_t bytes[16];
    for (int i = 15; i >= 0; --i, x >>= 8)
      bytes[i] = uint8_t(x);
    return ip_address::from_v6_bytes(bytes);
  };
  auto random_address = [&] {
    bits128 x = bits128(0x20010db8) << 96;
    for (int i = 0; i < 6; ++i)
      x |= bits128(rng() % 4) << (rng() % 96);
    return x;
  };
  auto lowest_path_longest = [&](bits128 probe) {
    const ref* best = nullptr;
    for (auto& r : refs)
      if ((probe & mask(r.length)) == r.network &&
          (!best || r.length > best->length ||
           (r.length == best->length && r.path_id < best->path_id)))
        best = &r;
    return best;
  };
  for (int round = 0; round < 4000; ++round) {
    if (!refs.empty() && rng() % 3 == 0) {
      size_t i = rng() % refs.size();
      BOOST_TEST(rib.remove(to_address(refs[i].network), refs[i].length, refs[i].path_id) ==
                 refs[i].value);
      refs.erase(refs.begin() + std::ptrdiff_t(i));
    } else {
      auto length = uint8_t(rng() % 4 == 0 ? rng() % 129 : 32 + rng() % 97);
      bits128 network = random_address() & mask(length);
      uint32_t path_id = rng() % 4 == 0 ? rng() % 3 : 0;
      auto value = uint32_t(round + 1);
      auto same = std::find_if(refs.begin(), refs.end(), [&](const ref& r) {
        return r.network == network && r.length == length && r.path_id == path_id;
      });
      uint32_t old = rib.insert(to_address(network), length, path_id, value);
      BOOST_TEST(old == (same == refs.end() ? 0u : same->value));
      if (same != refs.end())
        same->value = value;
      else
        refs.push_back({network, length, path_id, value});
    }
    bits128 probe = random_address();
    const ref* expected = lowest_path_longest(probe);
    auto m = rib.lookup(to_address(probe));
    BOOST_TEST(m.attributes == (expected ? expected->value : 0u));
    BOOST_TEST(m.length == (expected ? expected->length : 0));
  }
  BOOST_TEST(rib.size() == refs.size());
  size_t seen = 0;
  rib.for_each([&](const adj_rib_in::route& r) {
    ++seen;
    auto it = std::find_if(refs.begin(), refs.end(), [&](const ref& x) {
      return to_address(x.network) == r.network && x.length == r.length && x.path_id == r.path_id;
    });
    BOOST_TEST((it != refs.end() && it->value == r.attributes));
  });
  BOOST_TEST(seen == refs.size());
  // Removing everything frees every node but the two roots.
  for (auto& r : refs)
    BOOST_TEST(rib.remove(to_address(r.network), r.length, r.path_id) == r.value);
  BOOST_TEST(rib.size() == 0u);
  BOOST_TEST(rib.lookup(to_address(random_address())).attributes == 0u);
}

BOOST_AUTO_TEST_CASE(short_ipv4_prefixes_across_many_slash_8s_match_a_brute_force_search) {
  // Routes of /0 to /20 in 1.0.0.0/8 to 4.0.0.0/8, so that inserts and
  // removals change the first level's /16 entries, its nodes and the
  // covers it gives them; single and batched lookups must both agree.
  std::mt19937 rng(11);
  adj_rib_in rib;
  struct ref {
    uint32_t network;
    uint8_t length;
    uint32_t value;
  };
  std::vector<ref> refs;
  auto mask = [](uint8_t length) { return length == 0 ? 0u : ~0u << (32 - length); };
  auto random_address = [&] { return uint32_t(1 + rng() % 4) << 24 | (rng() & 0x00ffffff); };
  std::vector<ip_address> probes(16);
  std::vector<adj_rib_in::match> out(probes.size());
  for (int round = 0; round < 3000; ++round) {
    if (!refs.empty() && rng() % 3 == 0) {
      size_t i = rng() % refs.size();
      BOOST_TEST(rib.remove(ip_address::from_v4(refs[i].network), refs[i].length, 0) ==
                 refs[i].value);
      refs.erase(refs.begin() + std::ptrdiff_t(i));
    } else {
      auto length = uint8_t(rng() % 21);
      uint32_t network = random_address() & mask(length);
      auto value = uint32_t(round + 1);
      auto same = std::find_if(refs.begin(), refs.end(), [&](const ref& r) {
        return r.network == network && r.length == length;
      });
      BOOST_TEST(rib.insert(ip_address::from_v4(network), length, 0, value) ==
                 (same == refs.end() ? 0u : same->value));
      if (same != refs.end())
        same->value = value;
      else
        refs.push_back({network, length, value});
    }
    for (auto& p : probes)
      p = ip_address::from_v4(random_address());
    rib.lookup(probes.data(), probes.size(), out.data());
    for (size_t i = 0; i < probes.size(); ++i) {
      uint32_t probe = probes[i].v4_host_order();
      uint32_t expected = 0;
      int best = -1;
      for (auto& r : refs)
        if ((probe & mask(r.length)) == r.network && r.length > best) {
          best = r.length;
          expected = r.value;
        }
      auto one = rib.lookup(probes[i]);
      BOOST_TEST(one.attributes == expected);
      BOOST_TEST(int(one.length) == (expected ? best : 0));
      BOOST_TEST(out[i].attributes == expected);
      BOOST_TEST(out[i].length == one.length);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_batched_lookup_gives_what_single_lookups_give) {
  std::mt19937 rng(5);
  adj_rib_in rib;
  for (uint32_t i = 1; i <= 20000; ++i) {
    auto length = uint8_t(8 + rng() % 25);
    rib.insert(ip_address::from_v4(rng() & (~0u << (32 - length))), length, 0, i);
  }
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  rib.insert(ip_address::from_v6_bytes(v6), 32, 0, 99999);
  std::vector<ip_address> probes(1001);
  for (size_t i = 0; i < probes.size(); ++i) {
    v6[15] = uint8_t(i);
    probes[i] = i % 10 == 0 ? ip_address::from_v6_bytes(v6) : ip_address::from_v4(rng());
  }
  std::vector<adj_rib_in::match> out(probes.size());
  rib.lookup(probes.data(), probes.size(), out.data());
  size_t matched = 0;
  for (size_t i = 0; i < probes.size(); ++i) {
    auto one = rib.lookup(probes[i]);
    BOOST_TEST(out[i].attributes == one.attributes);
    BOOST_TEST(out[i].length == one.length);
    matched += one.attributes != 0;
  }
  BOOST_TEST(out[0].attributes == 99999u);
  BOOST_TEST(matched > 500u);
}

BOOST_AUTO_TEST_CASE(neighbors_sending_the_same_path_share_one_attribute_set) {
  bgp_rib rib;
  auto n1 = addr("127.0.0.2");
  auto n2 = addr("127.0.0.3");
  auto a = path({64500, 15169});
  rib.apply(announce(n1, {{"203.0.113.0", 24}, {"198.51.100.0", 24}}, a));
  rib.apply(announce(n2, {{"203.0.113.0", 24}}, a));
  BOOST_TEST(rib.attributes().size() == 1u);
  BOOST_TEST(rib.size() == 3u);
  BOOST_TEST(origin_of(rib, n2, "203.0.113.77") == 15169u);
  BOOST_TEST(rib.lookup(rib.neighbor(n2), addr("203.0.113.77")).attributes->as_path() ==
             "64500_15169");
  rib.apply(announce(n1, {{"203.0.113.0", 24}}, path({64500, 64501})));
  BOOST_TEST(rib.attributes().size() == 2u);
  bgp_route_batch down;
  down.neighbor = n1;
  down.reset = true;
  rib.apply(down);
  BOOST_TEST(rib.neighbor(n1) == nullptr);
  BOOST_TEST(rib.attributes().size() == 1u);
  bgp_route_batch gone;
  gone.neighbor = n2;
  gone.withdrawn = {{addr("203.0.113.0"), 24, 0, 0}};
  rib.apply(gone);
  BOOST_TEST(rib.attributes().size() == 0u);
  BOOST_TEST(rib.size() == 0u);
}

BOOST_AUTO_TEST_CASE(stale_routes_stay_until_the_sweep_and_resent_ones_survive_it) {
  bgp_rib rib;
  auto n = addr("127.0.0.2");
  rib.apply(announce(n, {{"203.0.113.0", 24}, {"198.51.100.0", 24}}, path({64500})));
  bgp_route_batch restart;
  restart.neighbor = n;
  restart.mark_stale = true;
  rib.apply(restart);
  BOOST_TEST(origin_of(rib, n, "198.51.100.1") == 64500u);
  rib.apply(announce(n, {{"203.0.113.0", 24}}, path({64500})));
  bgp_route_batch sweep;
  sweep.neighbor = n;
  sweep.sweep_stale = true;
  rib.apply(sweep);
  BOOST_TEST(origin_of(rib, n, "198.51.100.1") == 0u);
  BOOST_TEST(origin_of(rib, n, "203.0.113.1") == 64500u);
  BOOST_TEST(rib.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_replica_fed_a_snapshot_answers_like_the_original) {
  bgp_rib rib;
  auto n = addr("127.0.0.2");
  rib.apply(
      announce(n, {{"203.0.113.0", 24}, {"198.51.100.0", 24}, {"10.0.0.0", 8}}, path({64500, 1})));
  rib.apply(announce(n, {{"2001:db8::", 32}}, path({64500, 2})));
  bgp_rib replica;
  replica.apply(announce(n, {{"192.0.2.0", 24}}, path({9})));
  size_t batches = 0;
  rib.snapshot(n, 2, [&](bgp_route_batch&& b) {
    BOOST_TEST(b.reset == (batches == 0));
    ++batches;
    replica.apply(b);
  });
  BOOST_TEST(batches == 2u);
  BOOST_TEST(replica.size() == 4u);
  BOOST_TEST(origin_of(replica, n, "192.0.2.1") == 0u);
  BOOST_TEST(origin_of(replica, n, "10.2.3.4") == 1u);
  BOOST_TEST(origin_of(replica, n, "2001:db8::1") == 2u);
  BOOST_TEST(replica.attributes().size() == 2u);
}

BOOST_AUTO_TEST_CASE(
    batched_lookups_of_both_families_match_a_brute_force_search_through_withdrawals) {
  // IPv4 and IPv6 routes of every length, the default routes and many /32s
  // and /128s among them, nested within a few /16s and /32s so that lookups
  // end at every depth; a third of the changes are withdrawals. After each
  // block of changes, one batch of mixed addresses (more than the lanes)
  // must give exactly what a search of every route gives.
  std::mt19937 rng(23);
  adj_rib_in rib;
  using bits128 = unsigned __int128;
  struct ref {
    bool v4;
    bits128 network; ///< IPv4 in the low 32 bits
    uint8_t length;
    uint32_t value;
  };
  std::vector<ref> refs;
  auto mask = [](bool v4, uint8_t length) {
    unsigned width = v4 ? 32 : 128;
    bits128 all = v4 ? bits128(0xffffffffu) : ~bits128(0);
    return length == 0 ? bits128(0) : (all << (width - length)) & all;
  };
  auto to_address = [](bool v4, bits128 x) {
    if (v4)
      return ip_address::from_v4(uint32_t(x));
    uint8_t bytes[16];
    for (int i = 15; i >= 0; --i, x >>= 8)
      bytes[i] = uint8_t(x);
    return ip_address::from_v6_bytes(bytes);
  };
  auto random_address = [&](bool v4) {
    if (v4)
      return bits128(uint32_t(0x0a000000 | (rng() % 3) << 16 | (rng() & 0xffff)));
    bits128 x = bits128(0x20010db8u + rng() % 2) << 96;
    for (int i = 0; i < 5; ++i)
      x |= bits128(rng() % 4) << (rng() % 96);
    return x;
  };
  auto random_length = [&](bool v4) {
    unsigned width = v4 ? 32 : 128;
    switch (rng() % 4) {
    case 0:
      return uint8_t(width); // a host route
    case 1:
      return uint8_t(rng() % (width + 1));
    default:
      return uint8_t(v4 ? 16 + rng() % 17 : 32 + rng() % 97);
    }
  };
  uint32_t next_value = 1;
  for (bool v4 : {true, false}) {
    rib.insert(to_address(v4, 0), 0, 0, next_value);
    refs.push_back({v4, 0, 0, next_value++});
  }
  std::vector<ip_address> probes(301);
  std::vector<bits128> keys(probes.size());
  std::vector<adj_rib_in::match> out(probes.size());
  for (int block = 0; block < 60; ++block) {
    for (int change = 0; change < 50; ++change) {
      if (!refs.empty() && rng() % 3 == 0) {
        size_t i = rng() % refs.size();
        BOOST_TEST(rib.remove(to_address(refs[i].v4, refs[i].network), refs[i].length, 0) ==
                   refs[i].value);
        refs.erase(refs.begin() + std::ptrdiff_t(i));
        continue;
      }
      bool v4 = rng() % 2 == 0;
      uint8_t length = random_length(v4);
      bits128 network = random_address(v4) & mask(v4, length);
      auto same = std::find_if(refs.begin(), refs.end(), [&](const ref& r) {
        return r.v4 == v4 && r.network == network && r.length == length;
      });
      BOOST_TEST(rib.insert(to_address(v4, network), length, 0, next_value) ==
                 (same == refs.end() ? 0u : same->value));
      if (same != refs.end())
        same->value = next_value++;
      else
        refs.push_back({v4, network, length, next_value++});
    }
    for (size_t i = 0; i < probes.size(); ++i) {
      bool v4 = rng() % 2 == 0;
      keys[i] = random_address(v4);
      if (i % 5 == 0 && !refs.empty()) {
        // A stored prefix's own address: its host routes match.
        const ref& r = refs[rng() % refs.size()];
        v4 = r.v4;
        keys[i] = r.network;
      }
      probes[i] = to_address(v4, keys[i]);
    }
    rib.lookup(probes.data(), probes.size(), out.data());
    for (size_t i = 0; i < probes.size(); ++i) {
      bool v4 = probes[i].is_v4();
      const ref* best = nullptr;
      for (auto& r : refs)
        if (r.v4 == v4 && (keys[i] & mask(v4, r.length)) == r.network &&
            (!best || r.length > best->length))
          best = &r;
      BOOST_TEST(out[i].attributes == (best ? best->value : 0u));
      BOOST_TEST(out[i].length == (best ? best->length : 0));
      auto one = rib.lookup(probes[i]);
      BOOST_TEST(one.attributes == out[i].attributes);
      BOOST_TEST(one.length == out[i].length);
    }
  }
  BOOST_TEST(rib.size() == refs.size());
}
