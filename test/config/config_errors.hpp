#pragma once

// Helpers shared by the config tests: a config's errors as text.

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "config/config.hpp"

namespace tidewatch::test {

/// The errors for `yaml` read as `file` (as node `node_name` when given),
/// each rendered as `file:line: key.path: message`.
inline std::vector<std::string> config_errors(const std::string& yaml, const std::string& file,
                                              const std::string& node_name = {}) {
  tidewatch_config cfg;
  std::vector<std::string> out;
  for (auto& e : parse_config(yaml, file, cfg, node_name))
    out.push_back(e.to_string());
  return out;
}

/// Checks that `yaml`, read as `file`, has exactly the error `expected`.
inline void expect_single_config_error(const std::string& yaml, const std::string& file,
                                       const std::string& expected) {
  auto errors = config_errors(yaml, file);
  BOOST_TEST_INFO("config:\n" << yaml);
  BOOST_REQUIRE_EQUAL(errors.size(), 1u);
  BOOST_TEST(errors[0] == expected);
}

} // namespace tidewatch::test
