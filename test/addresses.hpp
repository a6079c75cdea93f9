#pragma once

#include <boost/test/unit_test.hpp>

#include "actors/common/ip_prefix.hpp"

namespace tidewatch::test {

/// An address from text a test knows to be valid.
inline ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

/// A prefix from text a test knows to be valid.
inline ip_prefix prefix(const char* text) {
  ip_prefix p;
  BOOST_REQUIRE(ip_prefix::parse(text, p));
  return p;
}

} // namespace tidewatch::test
