#define BOOST_TEST_MODULE udp_receiver
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "actors/listener/udp_receiver.hpp"

using namespace tidewatch;

namespace {

/// Sends `payload` to 127.0.0.1:port from a socket bound to `source`.
uint16_t send_from(const char* source, uint16_t port, const std::string& payload) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &src.sin_addr);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) == 0);
  socklen_t len = sizeof(src);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&src), &len);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  BOOST_REQUIRE(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof(dst)) == ssize_t(payload.size()));
  ::close(fd);
  return ntohs(src.sin_port);
}

/// Receives until `n` datagrams arrived or 50 empty polls passed.
void receive_all(udp_receiver& r, datagram_batch& out, size_t n) {
  for (int i = 0; i < 50 && out.size() < n; ++i)
    r.receive_batch(out);
}

} // namespace

BOOST_AUTO_TEST_CASE(prefixes_match_by_their_network_bits_only) {
  ip_prefix p;
  BOOST_REQUIRE(ip_prefix::parse("192.0.2.77/24", p));
  BOOST_TEST(p.contains(ip_address::from_v4(0xC00002FF)));  // 192.0.2.255
  BOOST_TEST(!p.contains(ip_address::from_v4(0xC0000301))); // 192.0.3.1
  BOOST_REQUIRE(ip_prefix::parse("2001:db8:8000::/33", p));
  ip_address a;
  ip_address::parse("2001:db8:ffff::1", a);
  BOOST_TEST(p.contains(a));
  ip_address::parse("2001:db8:7fff::1", a);
  BOOST_TEST(!p.contains(a));
  BOOST_REQUIRE(ip_prefix::parse("127.0.0.2", p));
  BOOST_TEST(p.length == 128);
  BOOST_TEST(!ip_prefix::parse("192.0.2.0/33", p));
  BOOST_TEST(!ip_prefix::parse("192.0.2.0/", p));
  BOOST_TEST(!ip_prefix::parse("example.net", p));
}

BOOST_AUTO_TEST_CASE(datagrams_arrive_in_one_batch_with_their_exporter_and_ports) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  auto from1 = send_from("127.0.0.1", r.bound_port(), "first");
  auto from2 = send_from("127.0.0.2", r.bound_port(), "second!");
  datagram_batch batch;
  receive_all(r, batch, 2);
  BOOST_REQUIRE_EQUAL(batch.size(), 2u);
  BOOST_TEST(std::string(reinterpret_cast<const char*>(batch.data(batch.datagrams[0])),
                         batch.datagrams[0].length) == "first");
  BOOST_TEST(batch.datagrams[1].length == 7u);
  BOOST_TEST(batch.datagrams[0].exporter.to_string() == "127.0.0.1");
  BOOST_TEST(batch.datagrams[0].exporter_port == from1);
  BOOST_TEST(batch.datagrams[1].exporter.to_string() == "127.0.0.2");
  BOOST_TEST(batch.datagrams[1].exporter_port == from2);
  BOOST_TEST(batch.datagrams[1].local_port == r.bound_port());
  BOOST_TEST(batch.datagrams[0].received_us > 1'700'000'000'000'000);
  BOOST_TEST(r.datagrams() == 2u);
  BOOST_TEST(r.bytes() == 12u);
}

namespace {

/// An allow-list of one prefix, e.g. "127.0.0.2/32".
std::vector<ip_prefix> prefix_list_of(const std::string& text) {
  ip_prefix p;
  ip_prefix::parse(text, p);
  return {p};
}

/// Opens `r` on 127.0.0.1, reading `list`.
void open_with_allow_list(udp_receiver& r, std::shared_ptr<exporter_allow_list> list) {
  udp_receiver::options o;
  o.address = "127.0.0.1";
  o.allowed_exporters = std::move(list);
  std::string error;
  BOOST_REQUIRE(r.open(o, error));
}

} // namespace

BOOST_AUTO_TEST_CASE(datagrams_from_exporters_outside_the_allow_list_are_counted_and_dropped) {
  udp_receiver r;
  open_with_allow_list(r, std::make_shared<exporter_allow_list>(prefix_list_of("127.0.0.2/32")));
  send_from("127.0.0.1", r.bound_port(), "denied");
  send_from("127.0.0.2", r.bound_port(), "allowed");
  send_from("127.0.0.3", r.bound_port(), "denied");
  datagram_batch batch;
  for (int i = 0; i < 50 && r.datagrams() + r.denied() < 3; ++i)
    r.receive_batch(batch);
  BOOST_REQUIRE_EQUAL(batch.size(), 1u);
  BOOST_TEST(batch.datagrams[0].exporter.to_string() == "127.0.0.2");
  BOOST_TEST(r.denied() == 2u);
  BOOST_TEST(r.datagrams() == 1u);
}

BOOST_AUTO_TEST_CASE(a_replaced_allow_list_applies_from_the_next_batch) {
  udp_receiver r;
  auto list = std::make_shared<exporter_allow_list>(prefix_list_of("127.0.0.2/32"));
  open_with_allow_list(r, list);
  list->replace(prefix_list_of("127.0.0.1/32"));
  send_from("127.0.0.1", r.bound_port(), "allowed now");
  send_from("127.0.0.2", r.bound_port(), "denied now");
  datagram_batch batch;
  for (int i = 0; i < 50 && r.datagrams() + r.denied() < 2; ++i)
    r.receive_batch(batch);
  BOOST_REQUIRE_EQUAL(batch.size(), 1u);
  BOOST_TEST(batch.datagrams[0].exporter.to_string() == "127.0.0.1");
  BOOST_TEST(r.denied() == 1u);
  list->replace({});
  send_from("127.0.0.2", r.bound_port(), "everyone");
  for (int i = 0; i < 50 && r.datagrams() < 2; ++i)
    r.receive_batch(batch);
  BOOST_TEST(r.datagrams() == 2u);
  BOOST_TEST(r.denied() == 1u);
}

BOOST_AUTO_TEST_CASE(an_ipv6_any_socket_also_receives_ipv4_exporters) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "::";
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  send_from("127.0.0.5", r.bound_port(), "v4");
  datagram_batch batch;
  receive_all(r, batch, 1);
  BOOST_REQUIRE_EQUAL(batch.size(), 1u);
  // A v4-mapped source is the same ip_address as the plain IPv4 one.
  BOOST_TEST(batch.datagrams[0].exporter.is_v4());
  BOOST_TEST(batch.datagrams[0].exporter.to_string() == "127.0.0.5");
}

BOOST_AUTO_TEST_CASE(two_receivers_share_one_port_with_reuseport) {
  udp_receiver a;
  udp_receiver b;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  std::string error;
  BOOST_REQUIRE(a.open(o, error));
  o.port = a.bound_port();
  BOOST_REQUIRE_MESSAGE(b.open(o, error), error);
  BOOST_TEST(b.bound_port() == a.bound_port());
}

BOOST_AUTO_TEST_CASE(a_bad_address_is_a_clear_error) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "not-an-address";
  std::string error;
  BOOST_TEST(!r.open(o, error));
  BOOST_TEST(error == "'not-an-address' is not an IP address");
}

BOOST_AUTO_TEST_CASE(drops_of_a_burst_that_ends_with_a_full_buffer_are_counted_exactly) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  o.receive_buffer_bytes = 4096; // the kernel's minimum: a few datagrams fit
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  // Nothing reads while the burst arrives; no datagram comes after the drops
  // to carry their count (SO_RXQ_OVFL), so only the socket's counter has them.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(r.bound_port());
  to.sin_addr.s_addr = htonl(0x7f000001);
  std::string payload(1000, 'x');
  constexpr int sent = 200;
  for (int i = 0; i < sent; ++i)
    ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  ::close(fd);
  datagram_batch batch;
  while (r.receive_batch(batch, 0) > 0) {
  }
  r.receive_batch(batch, 0);
  BOOST_TEST(r.datagrams() > 0u);
  BOOST_TEST(r.datagrams() < uint64_t(sent));
  BOOST_TEST(r.datagrams() + r.kernel_drops() == uint64_t(sent));
}

namespace {

/// Sends `count` datagrams of `size` bytes (the last `last` bytes) to
/// 127.0.0.1:port in UDP GSO sends of `per_send` datagrams each.
void send_gso_runs(uint16_t port, int sends, uint16_t size, int per_send, uint32_t last) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int segment = size;
  BOOST_REQUIRE(::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &segment, sizeof(segment)) == 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(0x7f000001);
  std::string payload(size_t(size) * (per_send - 1) + last, 'g');
  for (int i = 0; i < sends; ++i)
    BOOST_REQUIRE(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof(to)) == ssize_t(payload.size()));
  ::close(fd);
}

} // namespace

BOOST_AUTO_TEST_CASE(a_coalescing_receiver_takes_a_gso_run_as_one_entry_that_counts_its_datagrams) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  o.coalesce = true;
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  BOOST_REQUIRE(r.coalescing());
  send_gso_runs(r.bound_port(), 1, 1000, 10, 500);
  datagram_batch batch;
  receive_all(r, batch, 1);
  BOOST_REQUIRE_EQUAL(batch.size(), 1u);
  BOOST_TEST(batch.datagrams[0].segment == 1000u);
  BOOST_TEST(batch.datagrams[0].length == 9500u);
  BOOST_TEST(batch.datagrams[0].datagram_count() == 10u);
  BOOST_TEST(r.datagrams() == 10u);
  BOOST_TEST(r.bytes() == 9500u);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_does_not_coalesce_gets_a_gso_run_as_its_datagrams) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  BOOST_TEST(!r.coalescing());
  send_gso_runs(r.bound_port(), 1, 1000, 10, 500);
  datagram_batch batch;
  receive_all(r, batch, 10);
  BOOST_REQUIRE_EQUAL(batch.size(), 10u);
  BOOST_TEST(batch.datagrams[0].segment == 0u);
  BOOST_TEST(batch.datagrams[9].length == 500u);
  BOOST_TEST(r.datagrams() == 10u);
}

BOOST_AUTO_TEST_CASE(a_coalescing_receiver_counts_each_dropped_run_as_one_kernel_drop) {
  udp_receiver r;
  udp_receiver::options o;
  o.address = "127.0.0.1";
  o.coalesce = true;
  o.receive_buffer_bytes = 65536; // a few runs fit
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
  constexpr int sends = 100;
  send_gso_runs(r.bound_port(), sends, 1000, 8, 1000);
  datagram_batch batch;
  while (r.receive_batch(batch, 0) > 0) {
  }
  r.receive_batch(batch, 0);
  BOOST_TEST(r.datagrams() > 0u);
  BOOST_TEST(r.datagrams() < uint64_t(sends * 8));
  // The kernel counts a dropped run (one buffer) as one drop, whatever it holds.
  BOOST_TEST(r.datagrams() + 8 * r.kernel_drops() == uint64_t(sends * 8));
}

namespace {

/// Opens `r` on 127.0.0.1 with batches of `batch` and the given linger.
void open_lingering(udp_receiver& r, uint32_t batch, std::chrono::milliseconds linger) {
  udp_receiver::options o;
  o.address = "127.0.0.1";
  o.batch = batch;
  o.linger = linger;
  std::string error;
  BOOST_REQUIRE_MESSAGE(r.open(o, error), error);
}

/// Sends `count` datagrams to `port` from another thread, `delay` from now.
std::thread send_later(uint16_t port, std::chrono::milliseconds delay, int count) {
  return std::thread([=] {
    std::this_thread::sleep_for(delay);
    for (int i = 0; i < count; ++i)
      send_from("127.0.0.1", port, "later " + std::to_string(i));
  });
}

/// Sends one datagram at once and one `delay` later to a receiver with
/// batches of 64 and the given linger; returns what its first receive_batch
/// appended to `batch`.
size_t first_batch_with_a_late_datagram(std::chrono::milliseconds linger,
                                        std::chrono::milliseconds delay, datagram_batch& batch) {
  udp_receiver r;
  open_lingering(r, 64, linger);
  send_from("127.0.0.1", r.bound_port(), "first");
  auto later = send_later(r.bound_port(), delay, 1);
  auto got = r.receive_batch(batch);
  later.join();
  return got;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

BOOST_AUTO_TEST_CASE(a_short_batch_lingers_and_takes_what_arrives_meanwhile) {
  datagram_batch batch;
  auto got = first_batch_with_a_late_datagram(std::chrono::milliseconds(400),
                                              std::chrono::milliseconds(20), batch);
  BOOST_TEST(got == 2u);
  BOOST_REQUIRE_EQUAL(batch.size(), 2u);
  BOOST_TEST(batch.datagrams[1].length == 7u); // "later 0"
}

BOOST_AUTO_TEST_CASE(without_linger_a_batch_is_what_one_read_returns) {
  datagram_batch batch;
  auto got = first_batch_with_a_late_datagram(std::chrono::milliseconds(0),
                                              std::chrono::milliseconds(200), batch);
  BOOST_TEST(got == 1u);
  BOOST_TEST(batch.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_full_batch_and_a_drain_never_linger) {
  udp_receiver r;
  open_lingering(r, 4, std::chrono::milliseconds(5'000));
  for (int i = 0; i < 6; ++i)
    send_from("127.0.0.1", r.bound_port(), "datagram " + std::to_string(i));
  datagram_batch batch;
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(r.receive_batch(batch) == 4u);    // full after one read: passed on at once
  BOOST_TEST(r.receive_batch(batch, 0) == 2u); // a drain takes what is queued, at once
  BOOST_TEST(seconds_since(start) < 2.5);
  BOOST_TEST(batch.size() == 6u);
  BOOST_TEST(r.datagrams() == 6u);
}

BOOST_AUTO_TEST_CASE(lingering_tops_a_batch_up_to_its_size_and_leaves_the_rest_queued) {
  udp_receiver r;
  open_lingering(r, 4, std::chrono::milliseconds(300));
  send_from("127.0.0.1", r.bound_port(), "first");
  auto later = send_later(r.bound_port(), std::chrono::milliseconds(20), 5);
  datagram_batch batch;
  auto got = r.receive_batch(batch);
  later.join();
  BOOST_TEST(got == 4u);
  BOOST_TEST(r.receive_batch(batch, 0) == 2u);
  BOOST_TEST(r.datagrams() == 6u);
}
