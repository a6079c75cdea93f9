// tidewatch: the operator's command line.

#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "runtime/decode_command.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: tidewatch <command> ...\n"
         "  config check FILE   validate FILE, print the effective config (defaults filled in)\n"
         "  config defaults     print the built-in default config\n"
         "  decode FILE [--port N]\n"
         "                      decode the NetFlow/IPFIX/sFlow datagrams of a capture (pcap or\n"
         "                      pcapng) in order; JSON lines on stdout, summary on stderr\n";
}

int config_check(const std::string& path) {
  tidewatch::tidewatch_config cfg;
  auto errors = tidewatch::load_config_file(path, cfg);
  if (!errors.empty()) {
    for (auto& e : errors)
      std::cerr << e.to_string() << "\n";
    std::cerr << errors.size() << " error(s) in " << path << "\n";
    return 1;
  }
  std::cout << "# " << path << ": OK; effective configuration:\n" << tidewatch::render_config(cfg);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "config" && args[1] == "check")
    return config_check(args[2]);
  if (args.size() == 2 && args[0] == "config" && args[1] == "defaults") {
    std::cout << tidewatch::render_config(tidewatch::default_config());
    return 0;
  }
  if ((args.size() == 2 || args.size() == 4) && args[0] == "decode") {
    uint16_t port = 0;
    if (args.size() == 4) {
      auto& text = args[3];
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (args[2] != "--port" || ec != std::errc{} || end != text.data() + text.size() ||
          port == 0) {
        std::cerr << "tidewatch decode: --port takes a port number from 1 to 65535\n";
        return 2;
      }
    }
    return tidewatch::decode_capture(args[1], port, std::cout, std::cerr);
  }
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    usage(std::cout);
    return 0;
  }
  usage(std::cerr);
  return 2;
}
