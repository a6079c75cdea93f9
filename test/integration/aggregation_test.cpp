#define BOOST_TEST_MODULE aggregation
#include <boost/test/unit_test.hpp>

// A sink with `aggregate` writes one record per key and interval whose sums
// equal the per-flow records another sink of the same run wrote.

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(aggregated_sums_equal_the_flows_of_the_same_run_per_key_and_second) {
  scratch_dir dir{"aggregation"};
  uint16_t port = free_port();
  auto aggregated = dir / "aggregated.json";
  write_file(dir / "node.yaml", node_config(dir.path, port) +
                                    "      - type: file\n        path: " + aggregated.string() +
                                    "\n        aggregate: [src_host, dst_host, proto, dst_port]"
                                    "\n        aggregate_interval: 1s\n");
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  // 9,000 records over 3 s from 20 hosts: many flows per key and second.
  BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol ipfix --target 127.0.0.1:" + std::to_string(port) +
                          " --records 9000 --rate 3000 --hosts 20"),
                      0);
  std::this_thread::sleep_for(300ms);
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
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
