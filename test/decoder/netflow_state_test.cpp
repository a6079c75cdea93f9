#define BOOST_TEST_MODULE netflow_state
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "actors/decoder/netflow_decoder.hpp"
#include "decoder/netflow_packets.hpp"

using namespace tidewatch;
using tidewatch::test::addr;
using tidewatch::test::from;
using tidewatch::test::packet;

namespace {

size_t decode(netflow_decoder& d, const packet& p, const datagram_info& meta,
              std::vector<flow_record>& out) {
  return d.decode(p.b.data(), p.b.size(), meta, out);
}

/// Two exporters with the same template ID and different layouts, v9 options
/// sampling on one of them and IPFIX with a system init time.
void learn(netflow_decoder& d) {
  std::vector<flow_record> out;
  auto a = packet::v9(1, 0);
  a.template_set(0, 256, {{48, 1}, {8, 4}, {1, 4}});
  a.begin_set(1).u16(300).u16(4).u16(8).u16(1).u16(4).u16(48).u16(1).u16(50).u16(4).end_set();
  a.begin_set(300).u32(0).u8(2).u32(128).zeros(3).end_set();
  decode(d, a, from("127.0.0.1"), out);
  auto b = packet::v9(1, 5);
  b.template_set(0, 256, {{1, 8}, {8, 4}});
  decode(d, b, from("127.0.0.2"), out);
  auto c = packet::ipfix(0, 9);
  c.begin_set(3).u16(401).u16(2).u16(1).u16(149).u16(4).u16(160).u16(8).end_set();
  c.begin_set(401).u32(9).u64(1'699'990'000'000).end_set();
  c.template_set(2, 256, {{8, 4}, {22, 4}, {82, 0xffff}}).done();
  decode(d, c, from("::1"), out);
}

/// Data for the templates `learn` installs, decoded by `d`.
std::vector<flow_record> decode_data(netflow_decoder& d) {
  std::vector<flow_record> out;
  auto a = packet::v9(2, 0);
  a.begin_set(256).u8(2).v4("10.0.0.1").u32(100).end_set();
  decode(d, a, from("127.0.0.1", 1, 1111), out);
  auto b = packet::v9(2, 5);
  b.begin_set(256).u64(200).v4("10.0.0.2").end_set();
  decode(d, b, from("127.0.0.2", 1, 2222), out);
  auto c = packet::ipfix(1, 9);
  c.begin_set(256).v4("10.0.0.3").u32(9'990'000).u8(0).end_set().done();
  decode(d, c, from("::1", 1, 3333), out);
  return out;
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          ("tidewatch-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

} // namespace

BOOST_AUTO_TEST_CASE(saved_templates_and_sampling_decode_the_same_data_after_a_restart) {
  netflow_decoder first;
  learn(first);
  auto expected = decode_data(first);
  BOOST_TEST_REQUIRE(expected.size() == 3u);
  BOOST_TEST(expected[0].sampling_rate == 128u);
  BOOST_TEST(expected[2].flow_start_us == 1'699'999'990'000'000);
  auto bytes = first.save_state();
  netflow_decoder second;
  BOOST_TEST(second.load_state(bytes.data(), bytes.size()));
  BOOST_TEST(second.template_count(addr("127.0.0.1"), 0) == 2u);
  BOOST_TEST(second.template_count(addr("127.0.0.2"), 5) == 1u);
  BOOST_TEST(second.template_count(addr("::1"), 9) == 2u);
  BOOST_TEST(!second.state_dirty());
  auto got = decode_data(second);
  BOOST_TEST_REQUIRE(got.size() == 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    BOOST_TEST(got[i].src_addr == expected[i].src_addr);
    BOOST_TEST(got[i].bytes == expected[i].bytes);
    BOOST_TEST(got[i].sampling_rate == expected[i].sampling_rate);
    BOOST_TEST(got[i].flow_start_us == expected[i].flow_start_us);
  }
  BOOST_TEST(second.save_state() == bytes);
}

BOOST_AUTO_TEST_CASE(state_is_dirty_only_when_templates_or_options_change) {
  netflow_decoder d;
  BOOST_TEST(!d.state_dirty());
  learn(d);
  BOOST_TEST(d.state_dirty());
  d.save_state();
  BOOST_TEST(!d.state_dirty());
  learn(d); // periodic refresh: same templates, same option values
  decode_data(d);
  BOOST_TEST(!d.state_dirty());
  std::vector<flow_record> out;
  auto p = packet::v9(3, 0);
  p.begin_set(300).u32(0).u8(2).u32(256).zeros(3).end_set(); // new sampling interval
  decode(d, p, from("127.0.0.1"), out);
  BOOST_TEST(d.state_dirty());
}

BOOST_AUTO_TEST_CASE(a_corrupt_or_foreign_state_is_rejected_and_leaves_no_templates) {
  netflow_decoder good;
  learn(good);
  auto bytes = good.save_state();
  netflow_decoder d;
  learn(d);
  BOOST_TEST(d.template_count() == 5u);
  auto flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x01;
  BOOST_TEST(!d.load_state(flipped.data(), flipped.size()));
  BOOST_TEST(d.template_count() == 0u);
  for (size_t cut : {size_t(0), size_t(5), size_t(14), bytes.size() - 1})
    BOOST_TEST(!d.load_state(bytes.data(), cut));
  std::string foreign = "this is not a template cache at all, just text";
  BOOST_TEST(!d.load_state(reinterpret_cast<const uint8_t*>(foreign.data()), foreign.size()));
  BOOST_TEST(!d.load_state(nullptr, 0));
  BOOST_TEST(d.load_state(bytes.data(), bytes.size()));
  BOOST_TEST(d.template_count() == 5u);
}

BOOST_AUTO_TEST_CASE(state_files_are_written_atomically_and_missing_files_load_nothing) {
  auto path = temp_path("templates.bin");
  netflow_decoder first;
  learn(first);
  std::string error;
  BOOST_TEST(first.save_state_file(path, &error), error);
  BOOST_TEST(!first.state_dirty());
  BOOST_TEST(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  netflow_decoder second;
  BOOST_TEST(second.load_state_file(path, &error), error);
  BOOST_TEST(second.template_count() == 5u);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << "garbage";
  }
  BOOST_TEST(!second.load_state_file(path, &error));
  BOOST_TEST(second.template_count() == 0u);
  BOOST_TEST(!error.empty());
  std::filesystem::remove(path);
  error.clear();
  BOOST_TEST(!second.load_state_file(path, &error));
  BOOST_TEST(error.find("cannot open") != std::string::npos);
  BOOST_TEST(!first.save_state_file("/nonexistent-dir/x/templates.bin", &error));
  BOOST_TEST(first.state_dirty() == false);
}
