#define BOOST_TEST_MODULE rotating_file
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

#include "actors/sink/rotating_file.hpp"
#include "temp_dir.hpp"

using namespace tidewatch;
namespace fs = std::filesystem;

namespace {

/// A fresh directory per test, removed afterwards.
struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("rotating_file_test") {}
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> file_names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.insert(entry.path().filename().string());
  return names;
}

constexpr int64_t t0 = 1700000000000000; // 2023-11-14 22:13:20 UTC
constexpr int64_t second = 1'000'000;

} // namespace

BOOST_AUTO_TEST_CASE(writes_reach_the_file_after_a_flush) {
  temp_dir dir;
  rotating_file file;
  std::string error;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 0, 0}, &error));
  BOOST_TEST(file.write("one\n", t0));
  BOOST_TEST(file.write("two\n", t0));
  BOOST_TEST(read_file(dir.path / "flows.json") == "");
  BOOST_TEST(file.flush());
  BOOST_TEST(read_file(dir.path / "flows.json") == "one\ntwo\n");
  BOOST_TEST(file.flush(true));
  BOOST_TEST(file.bytes_written() == 8u);
  BOOST_TEST(file.rotations() == 0u);
  BOOST_TEST(file.write_errors() == 0u);
}

BOOST_AUTO_TEST_CASE(opening_appends_to_an_existing_file_and_counts_its_size) {
  temp_dir dir;
  auto path = dir.path / "flows.json";
  std::ofstream(path) << "old\n";
  rotating_file file;
  BOOST_REQUIRE(file.open({path.string(), 10, 0}, nullptr));
  file.write("new\n", t0);  // 8 bytes
  file.write("more\n", t0); // would make 13 > 10: rotates first
  file.close();
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320.json") == "old\nnew\n");
  BOOST_TEST(read_file(path) == "more\n");
}

BOOST_AUTO_TEST_CASE(a_file_rotates_before_a_write_would_pass_the_size_limit) {
  temp_dir dir;
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 10, 0}, nullptr));
  file.write("aaaa\n", t0);                                      // 5
  file.write("bbbb\n", t0 + second);                             // 10: still fits
  file.write("cccc\n", t0 + 2 * second);                         // 15: rotates
  file.write("a line longer than the limit\n", t0 + 3 * second); // rotates, then written whole
  file.write("dddd\n", t0 + 4 * second);                         // rotates again
  file.close();
  BOOST_TEST(file.rotations() == 3u);
  BOOST_TEST(file_names(dir.path) ==
             (std::set<std::string>{"flows-20231114-221320.json", "flows-20231114-221322.json",
                                    "flows-20231114-221323.json", "flows.json"}));
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320.json") == "aaaa\nbbbb\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221322.json") == "cccc\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221323.json") ==
             "a line longer than the limit\n");
  BOOST_TEST(read_file(dir.path / "flows.json") == "dddd\n");
  BOOST_TEST(file.bytes_written() == 49u);
}

BOOST_AUTO_TEST_CASE(a_file_rotates_once_it_is_as_old_as_the_interval) {
  temp_dir dir;
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 0, 60 * second}, nullptr));
  file.write("a\n", t0);
  file.write("b\n", t0 + 59 * second);
  file.write("c\n", t0 + 60 * second); // rotates
  file.write("d\n", t0 + 119 * second);
  file.write("e\n", t0 + 120 * second); // rotates
  file.close();
  BOOST_TEST(file.rotations() == 2u);
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320.json") == "a\nb\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221420.json") == "c\nd\n");
  BOOST_TEST(read_file(dir.path / "flows.json") == "e\n");
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_not_rotated_however_old) {
  temp_dir dir;
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 0, second}, nullptr));
  file.write("", t0);
  file.write("x\n", t0 + 10 * second);
  file.close();
  BOOST_TEST(file.rotations() == 0u);
  BOOST_TEST(file_names(dir.path) == std::set<std::string>{"flows.json"});
}

BOOST_AUTO_TEST_CASE(rotation_never_overwrites_an_earlier_file_of_the_same_second) {
  temp_dir dir;
  std::ofstream(dir.path / "flows-20231114-221320.json") << "from before\n";
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 2, 0}, nullptr));
  for (char c : std::string("abcd"))
    file.write(std::string(1, c) + "\n", t0);
  file.close();
  BOOST_TEST(file.rotations() == 3u);
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320.json") == "from before\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320-1.json") == "a\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320-2.json") == "b\n");
  BOOST_TEST(read_file(dir.path / "flows-20231114-221320-3.json") == "c\n");
  BOOST_TEST(read_file(dir.path / "flows.json") == "d\n");
}

BOOST_AUTO_TEST_CASE(a_path_without_extension_gets_the_stamp_at_its_end) {
  temp_dir dir;
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows").string(), 1, 0}, nullptr));
  file.write("a\n", t0);
  file.write("b\n", t0);
  file.close();
  BOOST_TEST(file_names(dir.path) == (std::set<std::string>{"flows", "flows-20231114-221320"}));
}

BOOST_AUTO_TEST_CASE(missing_parent_directories_are_created) {
  temp_dir dir;
  auto path = dir.path / "a" / "b" / "c" / "flows.json";
  rotating_file file;
  std::string error;
  BOOST_REQUIRE(file.open({path.string(), 0, 0}, &error));
  BOOST_TEST(error == "");
  file.write("x\n", t0);
  file.close();
  BOOST_TEST(read_file(path) == "x\n");
}

BOOST_AUTO_TEST_CASE(an_unwritable_path_fails_with_the_path_and_the_reason) {
  temp_dir dir;
  auto blocker = dir.path / "not-a-directory";
  std::ofstream(blocker) << "file\n";
  rotating_file file;
  std::string error;
  BOOST_TEST(!file.open({(blocker / "flows.json").string(), 0, 0}, &error));
  BOOST_TEST(error == "cannot create directory " + blocker.string() + ": Not a directory");
  BOOST_TEST(!file.is_open());
  BOOST_TEST(!file.write("x\n", t0));
  BOOST_TEST(file.write_errors() == 2u);

  if (::geteuid() != 0) { // root ignores permission bits
    fs::permissions(dir.path, fs::perms::owner_write, fs::perm_options::remove);
    BOOST_TEST(!file.open({(dir.path / "flows.json").string(), 0, 0}, &error));
    BOOST_TEST(error == "cannot open " + (dir.path / "flows.json").string() +
                            " for writing: Permission denied");
  }
  BOOST_TEST(!file.open({"", 0, 0}, &error));
  BOOST_TEST(error == "no output file path given");
}

BOOST_AUTO_TEST_CASE(a_directory_in_place_of_the_file_fails_to_open) {
  temp_dir dir;
  rotating_file file;
  std::string error;
  BOOST_TEST(!file.open({dir.path.string(), 0, 0}, &error));
  BOOST_TEST(error == "cannot open " + dir.path.string() + " for writing: Is a directory");
}

BOOST_AUTO_TEST_CASE(large_writes_bypass_the_buffer_in_order) {
  temp_dir dir;
  rotating_file file;
  BOOST_REQUIRE(file.open({(dir.path / "flows.json").string(), 0, 0}, nullptr));
  std::string big(300 * 1024, 'x');
  file.write("head\n", t0);
  file.write(big, t0);
  file.write("tail\n", t0);
  file.close();
  BOOST_TEST(read_file(dir.path / "flows.json") == "head\n" + big + "tail\n");
  BOOST_TEST(file.bytes_written() == big.size() + 10);
}
