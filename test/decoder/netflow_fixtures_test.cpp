#define BOOST_TEST_MODULE netflow_fixtures
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "actors/decoder/netflow_decoder.hpp"
#include "decoder/netflow_packets.hpp"

// First datagrams softflowd 1.1 exported (-v 5, -v 9, -v 10, -v 10 -b) from one
// capture; the records must agree across the four protocols.

using namespace tidewatch;
using tidewatch::test::addr;
using tidewatch::test::from;

namespace {

std::vector<uint8_t> fixture(const std::string& name) {
  // ctest sets TIDEWATCH_SOURCE_DIR; run by hand, the tree is found from this file.
  const char* dir = std::getenv("TIDEWATCH_SOURCE_DIR");
  std::string self = __FILE__;
  std::string root =
      dir != nullptr ? dir : self.substr(0, self.rfind("/test/decoder/netflow_fixtures_test.cpp"));
  std::ifstream f(root + "/test/fixtures/netflow/" + name, std::ios::binary);
  BOOST_TEST_REQUIRE(f.good(), "missing fixture " + name);
  return {std::istreambuf_iterator<char>(f), {}};
}

struct totals {
  size_t records = 0;
  uint64_t bytes = 0;
  uint64_t packets = 0;
};

totals decode_fixture(const std::string& name, std::vector<flow_record>& out) {
  auto bytes = fixture(name);
  netflow_decoder d;
  d.decode(bytes.data(), bytes.size(), from("127.0.0.1"), out);
  totals t;
  t.records = out.size();
  for (const auto& r : out) {
    t.bytes += r.bytes;
    t.packets += r.packets;
  }
  BOOST_TEST(d.error_count(addr("127.0.0.1"), netflow_error::bad_template) == 0u);
  BOOST_TEST(d.pending_count() == 0u);
  return t;
}

void check_first_flow(const flow_record& r) {
  BOOST_TEST(r.src_addr == addr("203.0.113.2"));
  BOOST_TEST(r.dst_addr == addr("198.51.100.8"));
  BOOST_TEST(r.src_port == 13470);
  BOOST_TEST(r.dst_port == 123);
  BOOST_TEST(r.ip_protocol == 17);
  BOOST_TEST(r.packets == 10u);
  BOOST_TEST(r.bytes == 5245u);
}

} // namespace

BOOST_AUTO_TEST_CASE(softflowd_v5_first_datagram_decodes) {
  std::vector<flow_record> out;
  auto t = decode_fixture("softflowd_v5.bin", out);
  BOOST_TEST(t.records == 29u);
  BOOST_TEST(t.bytes == 198401u);
  BOOST_TEST(t.packets == 319u);
  check_first_flow(out[0]);
}

BOOST_AUTO_TEST_CASE(softflowd_v9_and_ipfix_first_datagrams_agree) {
  std::vector<flow_record> v9;
  std::vector<flow_record> ipfix;
  auto a = decode_fixture("softflowd_v9.bin", v9);
  auto b = decode_fixture("softflowd_ipfix.bin", ipfix);
  BOOST_TEST(a.records == 20u);
  BOOST_TEST(a.bytes == 132310u);
  BOOST_TEST(a.packets == 211u);
  BOOST_TEST(b.records == a.records);
  BOOST_TEST(b.bytes == a.bytes);
  BOOST_TEST(b.packets == a.packets);
  check_first_flow(v9[0]);
  check_first_flow(ipfix[0]);
  // IPFIX flow times come from uptime + the systemInitTimeMilliseconds option.
  BOOST_TEST(ipfix[0].flow_start_us == 1'700'000'000'028'000);
  BOOST_TEST(ipfix[0].flow_end_us == 1'700'000'000'077'000);
}

BOOST_AUTO_TEST_CASE(softflowd_biflow_first_datagram_decodes_reverse_halves) {
  std::vector<flow_record> out;
  auto t = decode_fixture("softflowd_ipfix_biflow.bin", out);
  BOOST_TEST(t.records == 15u);
  BOOST_TEST(t.bytes == 93537u);
  BOOST_TEST(t.packets == 155u);
  check_first_flow(out[0]);
}
