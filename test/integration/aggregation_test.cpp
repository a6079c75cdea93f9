#define BOOST_TEST_MODULE aggregation
#include <boost/test/unit_test.hpp>

// A sink with `aggregate` writes one record per key and interval whose sums
// equal the per-flow records another sink of the same run wrote.

#include "integration/harness.hpp"

using namespace tidewatch::test;

BOOST_AUTO_TEST_CASE(aggregated_sums_equal_the_flows_of_the_same_run_per_key_and_second) {
  scratch_dir dir{"aggregation"};
  auto aggregated = dir / "aggregated.json";
  // 9,000 records over 3 s from 20 hosts: many flows per key and second.
  run_node_with_flowgen(dir,
                        "      - type: file\n        path: " + aggregated.string() +
                            "\n        aggregate: [src_host, dst_host, proto, dst_port]"
                            "\n        aggregate_interval: 1s\n",
                        "--records 9000 --rate 3000 --hosts 20");
  BOOST_REQUIRE_EQUAL(count_lines(dir / "flows.json"), 9000u);
  std::string report;
  int status =
      run(python + " " + scripts + "/compare_aggregates.py " + (dir / "flows.json").string() + " " +
              aggregated.string() + " ip_src,ip_dst,ip_proto,port_dst 1",
          &report);
  BOOST_TEST(status == 0, report);
  BOOST_TEST(report.find(" flows 9000 ") != std::string::npos, report);
  // Fewer lines than flows: the point of aggregating.
  auto lines = count_lines(aggregated);
  BOOST_TEST(lines < 9000u);
  BOOST_TEST(report.find("keys " + std::to_string(lines) + " ") == 0, report);
}
