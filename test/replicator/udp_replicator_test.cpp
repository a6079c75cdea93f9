#define BOOST_TEST_MODULE udp_replicator
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "actors/replicator/udp_replicator.hpp"

using namespace tidewatch;

namespace {

/// A UDP socket on 127.0.0.1 that a test reads what the replicator sent from.
struct loopback_receiver {
  int fd = -1;
  uint16_t port = 0;

  loopback_receiver() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    // Room for a whole test's copies, which arrive before the test reads them.
    int buffer = 8 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
    socklen_t len = sizeof(sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~loopback_receiver() { ::close(fd); }

  /// Every datagram that arrives within 200 ms of the previous one, with its source.
  std::vector<std::pair<std::string, sockaddr_in>> drain() {
    std::vector<std::pair<std::string, sockaddr_in>> out;
    pollfd pfd{fd, POLLIN, 0};
    while (::poll(&pfd, 1, 200) > 0) {
      char buf[65536];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      auto n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      out.emplace_back(std::string(buf, size_t(n)), from);
    }
    return out;
  }

  std::vector<std::string> payloads() {
    std::vector<std::string> out;
    for (auto& [payload, from] : drain())
      out.push_back(payload);
    return out;
  }
};

ip_address loopback() {
  return ip_address::from_v4(0x7f000001);
}

replica_receiver to(uint16_t port, uint32_t one_in = 1) {
  replica_receiver r;
  r.address = loopback();
  r.port = port;
  r.sample_one_in = one_in;
  return r;
}

/// `n` datagrams "payload <i>" of growing size, from `exporter` (or two
/// exporters taking turns when `other` is given).
datagram_batch make_batch(size_t first, size_t n, const ip_address& exporter,
                          const ip_address* other = nullptr) {
  datagram_batch b;
  for (size_t i = first; i < first + n; ++i) {
    auto text = "payload " + std::to_string(i) + std::string(i * 13, 'x');
    datagram_info meta;
    meta.exporter = (other != nullptr && i % 2 == 1) ? *other : exporter;
    meta.exporter_port = 40000;
    b.add(reinterpret_cast<const uint8_t*>(text.data()), uint32_t(text.size()), meta);
  }
  return b;
}

/// keep_source needs root (raw sockets, IP_TRANSPARENT): its tests skip without.
bool skip_without_root() {
  if (::geteuid() == 0)
    return false;
  BOOST_TEST_MESSAGE("skipped: keep_source needs root");
  return true;
}

/// A replicator with one receiver on 127.0.0.1 whose copies keep the
/// exporter's source.
struct spoofing_replicator {
  loopback_receiver receiver;
  udp_replicator replicator;

  explicit spoofing_replicator(size_t max_source_sockets = 4096) : replicator(max_source_sockets) {
    auto r = to(receiver.port);
    r.keep_source = true;
    std::string error;
    BOOST_REQUIRE_MESSAGE(replicator.open({r}, error), error);
  }
};

std::string expected_payload(size_t i) {
  return "payload " + std::to_string(i) + std::string(i * 13, 'x');
}

/// That `got` holds payloads 0 ... n-1, in order, each from 127.0.0.99:40000.
void expect_payloads_from_127_0_0_99(const std::vector<std::pair<std::string, sockaddr_in>>& got,
                                     size_t n) {
  BOOST_REQUIRE(got.size() == n);
  for (size_t i = 0; i < n; ++i) {
    BOOST_TEST(got[i].first == expected_payload(i));
    BOOST_TEST(ntohl(got[i].second.sin_addr.s_addr) == 0x7f000063u);
    BOOST_TEST(ntohs(got[i].second.sin_port) == 40000u);
  }
}

/// Datagrams of the given sizes, each filled with a letter of its own so
/// that a datagram cut at the wrong place or swapped shows.
datagram_batch make_sized_batch(const std::vector<uint32_t>& sizes,
                                std::vector<std::string>& sent) {
  datagram_batch b;
  datagram_info meta;
  meta.exporter = loopback();
  meta.exporter_port = 40000;
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto text = std::to_string(i) + ":" + std::string(sizes[i], char('a' + i % 26));
    text.resize(sizes[i]);
    b.add(reinterpret_cast<const uint8_t*>(text.data()), uint32_t(text.size()), meta);
    sent.push_back(text);
  }
  return b;
}

/// Runs `body` in a child process (which may give up its capabilities);
/// returns the child's exit code (body's result) and in `text` the error
/// text body left.
int in_child(const std::function<int(std::string&)>& body, std::string& text) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  auto pid = ::fork();
  if (pid == 0) {
    std::string error;
    int code = body(error);
    auto n = ::write(fds[1], error.data(), error.size());
    ::_exit(n < 0 ? 4 : code);
  }
  ::close(fds[1]);
  char buf[1024];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;)
    text.append(buf, size_t(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WEXITSTATUS(status);
}

uint16_t closed_port() {
  loopback_receiver r;
  return r.port; // closed when r goes
}

} // namespace

BOOST_AUTO_TEST_CASE(every_datagram_reaches_both_receivers_byte_for_byte) {
  loopback_receiver a, b;
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE_MESSAGE(rep.open({to(a.port), to(b.port)}, error), error);
  auto batch = make_batch(0, 10, ip_address::from_v4(0xC0000201));
  rep.replicate(batch);
  std::vector<std::string> expected;
  uint64_t bytes = 0;
  for (size_t i = 0; i < 10; ++i) {
    expected.push_back(expected_payload(i));
    bytes += expected.back().size();
  }
  BOOST_TEST(a.payloads() == expected);
  BOOST_TEST(b.payloads() == expected);
  for (size_t r = 0; r < 2; ++r) {
    BOOST_TEST(rep.counters(r).datagrams == 10u);
    BOOST_TEST(rep.counters(r).bytes == bytes);
    BOOST_TEST(rep.counters(r).sampled_out == 0u);
  }
  BOOST_TEST(rep.receiver_name(0) == "127.0.0.1:" + std::to_string(a.port));
}

BOOST_AUTO_TEST_CASE(one_in_three_sends_the_first_and_every_third_after_it_across_batches) {
  loopback_receiver a;
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE(rep.open({to(a.port, 3)}, error));
  rep.replicate(make_batch(0, 5, loopback()));
  rep.replicate(make_batch(5, 5, loopback()));
  BOOST_TEST((a.payloads() == std::vector<std::string>{expected_payload(0), expected_payload(3),
                                                       expected_payload(6), expected_payload(9)}));
  BOOST_TEST(rep.counters(0).datagrams == 4u);
  BOOST_TEST(rep.counters(0).sampled_out == 6u);
}

BOOST_AUTO_TEST_CASE(a_receiver_with_exporter_prefixes_gets_only_their_datagrams) {
  loopback_receiver a, all;
  auto filtered = to(a.port);
  ip_prefix p;
  BOOST_REQUIRE(ip_prefix::parse("192.0.2.0/24", p));
  filtered.from_exporters = {p};
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE(rep.open({filtered, to(all.port)}, error));
  auto inside = ip_address::from_v4(0xC0000209);  // 192.0.2.9
  auto outside = ip_address::from_v4(0xC6336401); // 198.51.100.1
  rep.replicate(make_batch(0, 10, inside, &outside));
  BOOST_TEST((a.payloads() == std::vector<std::string>{expected_payload(0), expected_payload(2),
                                                       expected_payload(4), expected_payload(6),
                                                       expected_payload(8)}));
  BOOST_TEST(all.payloads().size() == 10u);
  BOOST_TEST(rep.counters(0).filtered_out == 5u);
  BOOST_TEST(rep.counters(0).datagrams == 5u);
  BOOST_TEST(rep.counters(1).filtered_out == 0u);
}

BOOST_AUTO_TEST_CASE(a_closed_port_counts_refused_sends_and_holds_up_no_other_receiver) {
  loopback_receiver live;
  auto dead_port = closed_port();
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE(rep.open({to(dead_port), to(live.port)}, error));
  rep.replicate(make_batch(0, 20, loopback()));
  rep.replicate(make_batch(20, 20, loopback()));
  BOOST_TEST(live.payloads().size() == 40u);
  BOOST_TEST(rep.counters(1).datagrams == 40u);
  auto& dead = rep.counters(0);
  auto refused = dead.errors[size_t(replication_error::refused)];
  // The kernel reports each ICMP port unreachable on the next send, which is
  // lost: every datagram is either handed over or counted as refused.
  BOOST_TEST(refused >= 1u);
  BOOST_TEST(dead.datagrams + refused == 40u);
}

BOOST_AUTO_TEST_CASE(runs_of_equal_sized_datagrams_arrive_as_the_datagrams_they_were) {
  loopback_receiver a;
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE_MESSAGE(rep.open({to(a.port)}, error), error);
  BOOST_TEST(rep.segmenting(0));
  // A run of 100 (more than one GSO send holds), a shorter tail that ends a
  // run, runs of 2 and 1, a longer datagram after a shorter one, and
  // datagrams of 30000 bytes of which only two fit one send.
  std::vector<uint32_t> sizes(100, 500);
  for (uint32_t size : {200u, 700u, 700u, 300u, 900u, 30000u, 30000u, 30000u})
    sizes.push_back(size);
  std::vector<std::string> sent;
  auto batch = make_sized_batch(sizes, sent);
  rep.replicate(batch);
  BOOST_TEST(a.payloads() == sent);
  uint64_t bytes = 0;
  for (auto size : sizes)
    bytes += size;
  BOOST_TEST(rep.counters(0).datagrams == 108u);
  BOOST_TEST(rep.counters(0).bytes == bytes);
  BOOST_TEST(rep.segmenting(0));
}

namespace {

/// One coalesced entry (as UDP_GRO gives) of datagrams of `sizes`, each but
/// the last `sizes[0]` bytes, from `exporter`; `sent` gets the datagrams.
void add_run(datagram_batch& b, const std::vector<uint32_t>& sizes, const ip_address& exporter,
             std::vector<std::string>& sent) {
  std::string run;
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto text = std::to_string(sent.size()) + ":" + std::string(sizes[i], char('a' + i % 26));
    text.resize(sizes[i]);
    run += text;
    sent.push_back(text);
  }
  datagram_info meta;
  meta.exporter = exporter;
  meta.exporter_port = 40000;
  meta.segment = uint16_t(sizes[0]);
  b.add(reinterpret_cast<const uint8_t*>(run.data()), uint32_t(run.size()), meta);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_coalesced_run_leaves_as_the_datagrams_it_holds) {
  loopback_receiver a, b;
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE_MESSAGE(rep.open({to(a.port), to(b.port)}, error), error);
  // 70 datagrams (more than one GSO send holds) with a short tail, a plain
  // datagram between, and a run of 3.
  std::vector<uint32_t> sizes(69, 400);
  sizes.push_back(123);
  std::vector<std::string> sent;
  datagram_batch batch;
  add_run(batch, sizes, loopback(), sent);
  std::string single = "single";
  auto meta = batch.datagrams[0];
  meta.segment = 0;
  batch.add(reinterpret_cast<const uint8_t*>(single.data()), uint32_t(single.size()), meta);
  sent.push_back(single);
  add_run(batch, {300, 300, 300}, loopback(), sent);
  BOOST_REQUIRE_EQUAL(batch.size(), 3u);
  rep.replicate(batch);
  BOOST_TEST(a.payloads() == sent);
  BOOST_TEST(b.payloads() == sent);
  for (size_t r = 0; r < 2; ++r) {
    BOOST_TEST(rep.counters(r).datagrams == 74u);
    BOOST_TEST(rep.counters(r).bytes == 69u * 400 + 123 + 6 + 900);
  }
}

BOOST_AUTO_TEST_CASE(sampling_and_exporter_prefixes_count_the_datagrams_of_a_coalesced_run) {
  loopback_receiver sampled, filtered;
  auto other = ip_address::from_v4(0xC6336401); // 198.51.100.1
  auto f = to(filtered.port);
  f.from_exporters = {ip_prefix{other, 128}};
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE(rep.open({to(sampled.port, 4), f}, error));
  std::vector<std::string> sent;
  datagram_batch batch;
  add_run(batch, std::vector<uint32_t>(10, 200), loopback(), sent);
  rep.replicate(batch);
  BOOST_TEST((sampled.payloads() == std::vector<std::string>{sent[0], sent[4], sent[8]}));
  BOOST_TEST(rep.counters(0).datagrams == 3u);
  BOOST_TEST(rep.counters(0).sampled_out == 7u);
  BOOST_TEST(filtered.payloads().empty());
  BOOST_TEST(rep.counters(1).filtered_out == 10u);
  BOOST_TEST(rep.counters(1).datagrams == 0u);
}

BOOST_AUTO_TEST_CASE(a_closed_port_counts_each_datagram_of_a_refused_run_once) {
  loopback_receiver live;
  auto dead_port = closed_port();
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE(rep.open({to(dead_port), to(live.port)}, error));
  std::vector<std::string> sent;
  for (int round = 0; round < 3; ++round)
    rep.replicate(make_sized_batch(std::vector<uint32_t>(40, 100), sent));
  BOOST_TEST(live.payloads().size() == 120u);
  BOOST_TEST(rep.counters(1).datagrams == 120u);
  auto& dead = rep.counters(0);
  auto refused = dead.errors[size_t(replication_error::refused)];
  // A send of one 40-datagram run draws one ICMP error, reported on the next
  // send, which loses its whole run.
  BOOST_TEST(refused >= 40u);
  BOOST_TEST(refused % 40 == 0u);
  BOOST_TEST(dead.datagrams + refused == 120u);
}

BOOST_AUTO_TEST_CASE(
    keep_source_without_cap_net_raw_fails_at_open_naming_the_capability_and_keeps_no_receiver) {
  std::string text;
  auto status = in_child(
      [](std::string& error) {
        // As nobody, the child has no capabilities left.
        if (::getuid() == 0 && ::setuid(65534) != 0)
          return 3;
        auto r = to(9);
        r.keep_source = true;
        udp_replicator rep;
        // The plain receiver before it opens, and is closed again by the failure.
        bool ok = rep.open({to(9), r}, error);
        return ok || rep.receiver_count() != 0 ? 1 : 0;
      },
      text);
  BOOST_TEST(status == 0);
  BOOST_TEST(text.find("receiver 127.0.0.1:9: keep_source needs a raw socket: Operation not "
                       "permitted (it needs CAP_NET_RAW") == 0u);
}

BOOST_AUTO_TEST_CASE(keep_source_sends_from_the_exporters_address_and_port_as_root) {
  if (skip_without_root())
    return;
  spoofing_replicator setup;
  auto& a = setup.receiver;
  auto& rep = setup.replicator;
  auto exporter = ip_address::from_v4(0x7f000063); // 127.0.0.99
  rep.replicate(make_batch(0, 5, exporter));
  auto got = a.drain();
  expect_payloads_from_127_0_0_99(got, 5);
  BOOST_TEST(rep.counters(0).datagrams == 5u);
  // Sent from a UDP socket bound to 127.0.0.99:40000, not as raw packets.
  BOOST_TEST(rep.counters(0).source_sockets == 1u);
  BOOST_TEST(rep.counters(0).raw_sources == 0u);
}

BOOST_AUTO_TEST_CASE(keep_source_sends_each_exporters_datagrams_in_order_from_its_own_socket) {
  if (skip_without_root())
    return;
  spoofing_replicator setup;
  auto& a = setup.receiver;
  auto& rep = setup.replicator;
  // 127.0.0.98 and 127.0.0.99 take turns: 0, 2, 4, ... from .98.
  auto even = ip_address::from_v4(0x7f000062);
  auto odd = ip_address::from_v4(0x7f000063);
  rep.replicate(make_batch(0, 9, even, &odd));
  rep.replicate(make_batch(9, 3, even, &odd));
  std::map<uint32_t, std::vector<std::string>> by_source;
  for (auto& [payload, from] : a.drain()) {
    BOOST_TEST(ntohs(from.sin_port) == 40000u);
    by_source[ntohl(from.sin_addr.s_addr)].push_back(payload);
  }
  std::vector<std::string> from_even, from_odd;
  for (size_t i = 0; i < 12; ++i)
    (i % 2 == 0 ? from_even : from_odd).push_back(expected_payload(i));
  BOOST_TEST(by_source.size() == 2u);
  BOOST_TEST(by_source[0x7f000062] == from_even);
  BOOST_TEST(by_source[0x7f000063] == from_odd);
  BOOST_TEST(rep.counters(0).datagrams == 12u);
  BOOST_TEST(rep.counters(0).source_sockets == 2u);
}

BOOST_AUTO_TEST_CASE(
    a_new_exporter_beyond_the_socket_limit_takes_the_place_of_the_one_unused_longest) {
  if (skip_without_root())
    return;
  spoofing_replicator setup(2);
  auto& a = setup.receiver;
  auto& rep = setup.replicator;
  auto exporter = [](uint32_t last) { return ip_address::from_v4(0x7f000000 | last); };
  rep.replicate(make_batch(0, 1, exporter(97)));
  rep.replicate(make_batch(1, 1, exporter(98)));
  rep.replicate(make_batch(2, 1, exporter(97)));
  // .98 is the one unused longest: .99 takes its socket.
  rep.replicate(make_batch(3, 1, exporter(99)));
  BOOST_TEST(rep.counters(0).source_sockets == 2u);
  BOOST_TEST(rep.counters(0).source_evictions == 1u);
  // Three new exporters in one batch, two sockets: .96 and .95 take them,
  // and .94's copy goes as a raw packet (no socket may be taken from under
  // copies of the same batch).
  datagram_batch three;
  for (uint32_t i = 4; i < 7; ++i) {
    auto text = expected_payload(i);
    datagram_info meta;
    meta.exporter = exporter(100 - i);
    meta.exporter_port = 40000;
    three.add(reinterpret_cast<const uint8_t*>(text.data()), uint32_t(text.size()), meta);
  }
  rep.replicate(three);
  BOOST_TEST(rep.counters(0).source_evictions == 3u);
  BOOST_TEST(rep.counters(0).source_sockets == 2u);
  std::map<uint32_t, std::vector<std::string>> by_source;
  for (auto& [payload, from] : a.drain()) {
    BOOST_TEST(ntohs(from.sin_port) == 40000u);
    by_source[ntohl(from.sin_addr.s_addr) & 0xff].push_back(payload);
  }
  BOOST_TEST(by_source.size() == 6u);
  BOOST_TEST(by_source[97] == (std::vector<std::string>{expected_payload(0), expected_payload(2)}));
  BOOST_TEST(by_source[98] == (std::vector<std::string>{expected_payload(1)}));
  BOOST_TEST(by_source[99] == (std::vector<std::string>{expected_payload(3)}));
  BOOST_TEST(by_source[96] == (std::vector<std::string>{expected_payload(4)}));
  BOOST_TEST(by_source[95] == (std::vector<std::string>{expected_payload(5)}));
  BOOST_TEST(by_source[94] == (std::vector<std::string>{expected_payload(6)}));
  BOOST_TEST(rep.counters(0).datagrams == 7u);
}

BOOST_AUTO_TEST_CASE(keep_source_falls_back_to_raw_packets_when_the_exporters_port_is_taken_here) {
  if (skip_without_root())
    return;
  // An exporter on this host whose socket (without SO_REUSEADDR) holds
  // 127.0.0.99:40000: no second socket may bind there.
  int exporter_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(0x7f000063);
  sa.sin_port = htons(40000);
  BOOST_REQUIRE(::bind(exporter_fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  spoofing_replicator setup;
  auto& a = setup.receiver;
  auto& rep = setup.replicator;
  rep.replicate(make_batch(0, 4, ip_address::from_v4(0x7f000063)));
  auto got = a.drain();
  ::close(exporter_fd);
  expect_payloads_from_127_0_0_99(got, 4);
  BOOST_TEST(rep.counters(0).datagrams == 4u);
  BOOST_TEST(rep.counters(0).source_sockets == 0u);
  BOOST_TEST(rep.counters(0).raw_sources == 1u);
}

BOOST_AUTO_TEST_CASE(replacing_the_receivers_sends_to_the_new_set_only_and_keeps_a_stayers_count) {
  loopback_receiver a, b, c;
  udp_replicator rep;
  std::string error;
  BOOST_REQUIRE_MESSAGE(rep.open({to(a.port), to(b.port, 2)}, error), error);
  auto exporter = ip_address::from_v4(0xC0000201);
  rep.replicate(make_batch(0, 3, exporter));
  BOOST_REQUIRE_MESSAGE(rep.replace({to(b.port, 2), to(c.port)}, error), error);
  rep.replicate(make_batch(3, 4, exporter));
  BOOST_TEST(a.payloads() == (std::vector<std::string>{expected_payload(0), expected_payload(1),
                                                       expected_payload(2)}));
  // b's 1-in-2 sampling goes on where it was: datagrams 0, 2, then 4, 6.
  BOOST_TEST(b.payloads() == (std::vector<std::string>{expected_payload(0), expected_payload(2),
                                                       expected_payload(4), expected_payload(6)}));
  BOOST_TEST(c.payloads() == (std::vector<std::string>{expected_payload(3), expected_payload(4),
                                                       expected_payload(5), expected_payload(6)}));
  BOOST_REQUIRE_EQUAL(rep.receiver_count(), 2u);
  BOOST_TEST(rep.receiver_name(0) == "127.0.0.1:" + std::to_string(b.port));
  BOOST_TEST(rep.counters(0).datagrams == 4u);
  BOOST_TEST(rep.counters(0).sampled_out == 3u);
  BOOST_TEST(rep.counters(1).datagrams == 4u);
  BOOST_TEST(rep.counters(1).sampled_out == 0u);
}

BOOST_AUTO_TEST_CASE(a_replacement_that_cannot_open_keeps_the_receivers_and_counts_it_had) {
  loopback_receiver a;
  std::string text;
  auto status = in_child(
      [&a](std::string& error) {
        udp_replicator rep;
        if (!rep.open({to(a.port)}, error))
          return 2;
        rep.replicate(make_batch(0, 2, ip_address::from_v4(0xC0000201)));
        // As nobody, the child has no capabilities left for keep_source.
        if (::getuid() == 0 && ::setuid(65534) != 0)
          return 3;
        auto spoofing = to(9);
        spoofing.keep_source = true;
        bool replaced = rep.replace({to(9), spoofing}, error);
        rep.replicate(make_batch(2, 1, ip_address::from_v4(0xC0000201)));
        bool kept = rep.receiver_count() == 1 && rep.counters(0).datagrams == 3;
        return replaced || !kept ? 1 : 0;
      },
      text);
  BOOST_TEST(status == 0);
  BOOST_TEST(text.find("receiver 127.0.0.1:9: keep_source needs a raw socket") == 0u);
  BOOST_TEST(a.payloads() == (std::vector<std::string>{expected_payload(0), expected_payload(1),
                                                       expected_payload(2)}));
}
