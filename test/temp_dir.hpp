#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <boost/test/unit_test.hpp>

namespace tidewatch::test {

/// A fresh directory per test (`<tmp>/<prefix>-XXXXXX`), removed afterwards,
/// write permission given back first in case a test took it away.
struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    BOOST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace tidewatch::test
