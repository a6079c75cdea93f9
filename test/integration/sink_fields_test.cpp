#define BOOST_TEST_MODULE sink_fields
#include <boost/test/unit_test.hpp>

// A sink with `fields` writes the same records as a full sink of the same
// run, with only the chosen keys.

#include "integration/harness.hpp"

using namespace tidewatch::test;

BOOST_AUTO_TEST_CASE(a_sink_with_fields_writes_the_full_sinks_records_cut_to_those_keys) {
  scratch_dir dir{"sink-fields"};
  auto selected = dir / "selected.json";
  // Listed out of order: lines keep the full line's order.
  run_node_with_flowgen(dir,
                        "      - type: file\n        path: " + selected.string() +
                            "\n        fields: [bytes, ip_src, ip_dst, port_dst, timestamp_start, "
                            "ip_proto]\n",
                        "--records 3000 --rate 3000 --hosts 50");
  BOOST_REQUIRE_EQUAL(count_lines(dir / "flows.json"), 3000u);
  std::string report;
  int status =
      run(python + " " + scripts + "/compare_projection.py " + (dir / "flows.json").string() + " " +
              selected.string() + " ip_src,ip_dst,port_dst,ip_proto,timestamp_start,bytes",
          &report);
  BOOST_TEST(status == 0, report);
  BOOST_TEST(report == "lines 3000\n");
}
