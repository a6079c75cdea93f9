#define BOOST_TEST_MODULE template_restart
#include <boost/test/unit_test.hpp>

// Templates survive a restart: tidewatchd learns them, stops, starts again
// and decodes data that arrives with no template resent.

#include "integration/harness.hpp"

using namespace tidewatch::test;
using namespace std::chrono_literals;

namespace {

const std::string replay = "/usr/bin/python3 " + env_or("TIDEWATCH_SOURCE_DIR", ".") +
                           "/test/integration/scripts/replay.py";

struct restart_fixture {
  scratch_dir dir{"restart"};
  uint16_t port = free_port();
  std::filesystem::path capture = dir / "export.pcap";
  std::filesystem::path output = dir / "flows.json";

  restart_fixture() {
    // 2000 v9 records, 25 per datagram: datagram 0 carries the templates and
    // the sampling options (1 in 100), datagrams 1..80 data only.
    BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol v9 --write-pcap " + capture.string() +
                            " --records 2000 --template-interval 0 --sampling-rate 100"),
                        0);
    write_file(dir / "node.yaml", node_config(dir.path, port));
  }

  /// Runs tidewatchd while datagrams [first, end) of the capture are replayed.
  std::string run_daemon(int first, int end) {
    process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
    BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
    BOOST_REQUIRE_EQUAL(run(replay + " " + capture.string() + " " + std::to_string(port) +
                            " 127.0.0.1 " + std::to_string(first) + " " + std::to_string(end)),
                        0);
    std::this_thread::sleep_for(300ms);
    d.signal(SIGTERM);
    auto code = d.wait_exit(15s);
    BOOST_REQUIRE(code.has_value());
    BOOST_TEST(*code == 0);
    return d.err();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(data_sent_right_after_a_restart_decodes_with_the_saved_templates,
                        restart_fixture) {
  run_daemon(0, 11);
  BOOST_TEST(count_lines(output) == 250u);
  BOOST_REQUIRE(std::filesystem::exists(dir / "netflow-templates.bin"));
  auto log = run_daemon(11, 81);
  BOOST_TEST(log.find("templates restored from " + (dir / "netflow-templates.bin").string()) !=
             std::string::npos);
  auto text = read_file(output);
  BOOST_TEST(count_lines(output) == 2000u);
  // The sampling rate came in options data before the restart and is kept too.
  BOOST_TEST(count_of(text, "\"sampling_rate\": 100,") == 2000u);
}

BOOST_FIXTURE_TEST_CASE(without_the_state_file_the_same_data_waits_for_a_template,
                        restart_fixture) {
  run_daemon(0, 11);
  std::filesystem::remove(dir / "netflow-templates.bin");
  run_daemon(11, 81);
  // The control case: nothing after the restart decodes.
  BOOST_TEST(count_lines(output) == 250u);
}
