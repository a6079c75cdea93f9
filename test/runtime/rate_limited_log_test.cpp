#define BOOST_TEST_MODULE rate_limited_log
#include <boost/test/unit_test.hpp>

#include <thread>

#include "runtime/logging.hpp"

using namespace tidewatch;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(a_burst_passes_then_the_rest_is_counted_until_the_period_ends) {
  rate_limited_log log{3, 200ms};
  uint64_t suppressed = 99;
  int admitted = 0;
  for (int i = 0; i < 10; ++i)
    if (log.admit(suppressed))
      ++admitted;
  BOOST_TEST(admitted == 3);
  BOOST_TEST(log.suppressed_total() == 7u);
  std::this_thread::sleep_for(250ms);
  // The first message of the next period says how many were held back.
  BOOST_REQUIRE(log.admit(suppressed));
  BOOST_TEST(suppressed == 7u);
  BOOST_REQUIRE(log.admit(suppressed));
  BOOST_TEST(suppressed == 0u);
}
