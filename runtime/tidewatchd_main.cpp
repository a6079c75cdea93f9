// tidewatchd: the tidewatch daemon. Runs the pipelines of one node.

#include <cstring>
#include <iostream>

#include "config/config.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"

namespace {

void usage() {
  std::cout << "usage: tidewatchd [--config FILE]\n"
               "  Runs the tidewatch pipelines that FILE configures (without --config: the\n"
               "  built-in defaults, which `tidewatch config defaults` prints).\n"
               "  SIGTERM/SIGINT drain and stop; SIGHUP reloads FILE.\n";
}

} // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--config" || arg == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else if (arg == "--version") {
      std::cout << "tidewatchd " << TIDEWATCH_VERSION << "\n";
      return 0;
    } else {
      std::cerr << "tidewatchd: unknown argument '" << arg << "'\n";
      usage();
      return 2;
    }
  }
  auto cfg = tidewatch::default_config();
  if (!config_path.empty()) {
    auto errors = tidewatch::load_config_file(config_path, cfg);
    if (!errors.empty()) {
      for (auto& e : errors)
        std::cerr << e.to_string() << "\n";
      std::cerr << "tidewatchd: " << errors.size() << " configuration error(s); not starting\n";
      return 2;
    }
  }
  // Before any thread exists, so that only run_node's signal thread sees them.
  tidewatch::block_signals();
  tidewatch::setup_logging(cfg.logging, "tidewatchd");
  return tidewatch::run_node(cfg, config_path);
}
