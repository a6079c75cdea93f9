#pragma once

// Helpers shared by the BGP unit tests.

#include <boost/test/unit_test.hpp>

#include "messages/address.hpp"

namespace tidewatch::test {

/// An address from its text; fails the test when the text is not one.
inline ip_address addr(const char* text) {
  ip_address a;
  BOOST_REQUIRE(ip_address::parse(text, a));
  return a;
}

} // namespace tidewatch::test
