#define BOOST_TEST_MODULE spool
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "actors/sink/spool.hpp"
#include "temp_dir.hpp"

using namespace tidewatch;
namespace fs = std::filesystem;

namespace {

/// A fresh directory per test, removed afterwards.
struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("spool_test") {}
};

spool::options small(const fs::path& dir, uint64_t max_bytes = 1 << 20) {
  spool::options o;
  o.directory = dir.string();
  o.max_bytes = max_bytes;
  o.segment_bytes = 100; // a few messages per segment
  return o;
}

/// Every message left in s, oldest first, as "key=value", releasing each segment.
std::vector<std::string> drain(spool& s) {
  std::vector<std::string> out;
  spool::segment seg;
  while (s.load_oldest(seg)) {
    for (auto& m : seg.messages)
      out.push_back(std::string(m.key) + "=" + std::string(m.value));
    s.release(seg.id);
  }
  return out;
}

std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> xs;
  for (auto& e : fs::directory_iterator(dir))
    xs.push_back(e.path());
  std::sort(xs.begin(), xs.end());
  return xs;
}

} // namespace

BOOST_AUTO_TEST_CASE(messages_come_back_in_the_order_they_were_appended_across_segments) {
  temp_dir dir;
  spool s;
  BOOST_REQUIRE(s.open(small(dir.path), nullptr));
  BOOST_TEST(s.empty());
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    auto value = "{\"n\":" + std::to_string(i) + "}";
    BOOST_REQUIRE(s.append(i % 2 ? "10.0.0.1" : "", value));
    expected.push_back((i % 2 ? "10.0.0.1=" : "=") + value);
  }
  BOOST_TEST(s.appended() == 20u);
  BOOST_TEST(s.segment_count() > 3u);
  BOOST_TEST(drain(s) == expected);
  BOOST_TEST(s.empty());
  BOOST_TEST(s.bytes() == 0u);
  BOOST_TEST(segment_files(dir.path).empty());
}

BOOST_AUTO_TEST_CASE(a_new_spool_on_the_same_directory_reads_what_the_last_one_left_first) {
  temp_dir dir;
  {
    spool s;
    BOOST_REQUIRE(s.open(small(dir.path), nullptr));
    for (int i = 0; i < 10; ++i)
      BOOST_REQUIRE(s.append("k", "old" + std::to_string(i)));
  }
  spool s;
  BOOST_REQUIRE(s.open(small(dir.path), nullptr));
  BOOST_TEST(!s.empty());
  // Segments close at >= 100 bytes: 8 bytes of magic + 7 messages of 15
  // bytes, then 8 + 3 * 15.
  BOOST_TEST(s.segment_count() == 2u);
  BOOST_TEST(s.bytes() == 113u + 53u);
  BOOST_REQUIRE(s.append("k", "new"));
  auto all = drain(s);
  BOOST_REQUIRE_EQUAL(all.size(), 11u);
  BOOST_TEST(all.front() == "k=old0");
  BOOST_TEST(all[9] == "k=old9");
  BOOST_TEST(all.back() == "k=new");
}

BOOST_AUTO_TEST_CASE(an_append_past_max_bytes_is_refused_and_counted) {
  temp_dir dir;
  spool s;
  // magic (8) + 3 messages of 8 + 2 + 1 + 9 = 20 bytes each = 68.
  BOOST_REQUIRE(s.open(small(dir.path, 68), nullptr));
  BOOST_TEST(spool::record_size(1, 9) == 20u);
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(s.append("k", "value-00" + std::to_string(i)));
  BOOST_TEST(s.bytes() == 68u);
  BOOST_TEST(!s.append("k", "value-003"));
  BOOST_TEST(!s.append("", "x"));
  BOOST_TEST(s.rejected() == 2u);
  BOOST_TEST(s.appended() == 3u);
  // Releasing what was sent makes room again.
  spool::segment seg;
  BOOST_REQUIRE(s.load_oldest(seg));
  BOOST_TEST(seg.messages.size() == 3u);
  s.release(seg.id);
  BOOST_TEST(s.bytes() == 0u);
  BOOST_TEST(s.append("k", "value-004"));
}

BOOST_AUTO_TEST_CASE(a_loaded_segment_stays_on_disk_until_released) {
  temp_dir dir;
  spool s;
  BOOST_REQUIRE(s.open(small(dir.path), nullptr));
  BOOST_REQUIRE(s.append("k", "v"));
  spool::segment seg;
  BOOST_REQUIRE(s.load_oldest(seg));
  BOOST_TEST(segment_files(dir.path).size() == 1u);
  BOOST_TEST(!s.load_oldest(seg)); // nothing else to load
  s.release(seg.id);
  BOOST_TEST(segment_files(dir.path).empty());
}

BOOST_AUTO_TEST_CASE(a_corrupted_message_ends_its_segment_and_is_counted_not_a_crash) {
  temp_dir dir;
  {
    spool s;
    auto o = small(dir.path);
    o.segment_bytes = 1 << 20; // one segment
    BOOST_REQUIRE(s.open(o, nullptr));
    for (int i = 0; i < 5; ++i)
      BOOST_REQUIRE(s.append("key", "value" + std::to_string(i))); // 8 + 2 + 3 + 6 = 19 bytes
  }
  auto file = segment_files(dir.path).at(0);
  BOOST_REQUIRE_EQUAL(fs::file_size(file), 8u + 5 * 19);
  {
    // Flip one byte inside the third message's value.
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 2 * 19 + 15);
    f.put('X');
  }
  spool s;
  BOOST_REQUIRE(s.open(small(dir.path), nullptr));
  spool::segment seg;
  BOOST_REQUIRE(s.load_oldest(seg));
  BOOST_REQUIRE_EQUAL(seg.messages.size(), 2u);
  BOOST_TEST(seg.messages[1].value == "value1");
  BOOST_TEST(s.corrupt_segments() == 1u);
  BOOST_TEST(s.corrupt_bytes() == 3u * 19);
  s.release(seg.id);
  BOOST_TEST(s.empty());
}

BOOST_AUTO_TEST_CASE(a_truncated_tail_and_a_foreign_file_are_counted_as_corrupt) {
  temp_dir dir;
  {
    spool s;
    BOOST_REQUIRE(s.open(small(dir.path), nullptr));
    BOOST_REQUIRE(s.append("", "0123456789")); // 20 bytes
  }
  auto file = segment_files(dir.path).at(0);
  fs::resize_file(file, 8 + 20 - 4);
  std::ofstream(dir.path / "00000000000000000099.spool") << "not a spool segment";
  std::ofstream(dir.path / "notes.txt") << "ignored";
  spool s;
  BOOST_REQUIRE(s.open(small(dir.path), nullptr));
  BOOST_TEST(s.segment_count() == 2u);
  BOOST_TEST(drain(s).empty());
  BOOST_TEST(s.corrupt_segments() == 2u);
  BOOST_TEST(s.corrupt_bytes() == 16u + 19u);
  BOOST_TEST(s.empty());
  BOOST_TEST(fs::exists(dir.path / "notes.txt"));
}
