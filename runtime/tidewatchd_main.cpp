// tidewatchd: the tidewatch daemon. Runs the pipelines of one node.

#include <sys/resource.h>

#include <cstring>
#include <iostream>

#include "config/config.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"

namespace {

void usage() {
  std::cout << "usage: tidewatchd [--config FILE] [--node NAME]\n"
               "  Runs the tidewatch pipelines that FILE configures (without --config: the\n"
               "  built-in defaults, which `tidewatch config defaults` prints). In a cluster\n"
               "  (FILE lists cluster.nodes), runs the roles placed on node NAME (default:\n"
               "  node.name).\n"
               "  SIGTERM/SIGINT drain and stop; SIGHUP reloads FILE.\n";
}

} // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string node_name;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--config" || arg == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--node" && i + 1 < argc) {
      node_name = argv[++i];
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
  if (!node_name.empty() && config_path.empty()) {
    std::cerr << "tidewatchd: --node selects a node of a cluster config: give --config FILE\n";
    return 2;
  }
  if (!config_path.empty()) {
    auto errors = tidewatch::load_config_file(config_path, cfg, node_name);
    if (!errors.empty()) {
      for (auto& e : errors)
        std::cerr << e.to_string() << "\n";
      std::cerr << "tidewatchd: " << errors.size() << " configuration error(s); not starting\n";
      return 2;
    }
  }
  if (!cfg.cluster.nodes.empty() && !tidewatch::this_cluster_node(cfg)) {
    std::cerr << config_path << ": cluster.nodes lists every node but node.name is not set: "
              << "start tidewatchd with --node NAME\n";
    return 2;
  }
  // Sockets are file descriptors: the replicator keeps one per exporter for
  // copies that keep the source, the BGP speaker one per neighbor. The soft
  // limit (often 1024) goes up to the hard one, as far as we are allowed.
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Before any thread exists, so that only run_node's signal thread sees them.
  tidewatch::block_signals();
  tidewatch::setup_logging(cfg.logging, "tidewatchd");
  return tidewatch::run_node(cfg, config_path);
}
