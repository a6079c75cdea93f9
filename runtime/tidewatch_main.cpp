// tidewatch: the operator's command line.

#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "actors/enricher/enrichment_files.hpp"
#include "config/config.hpp"
#include "runtime/decode_command.hpp"
#include "runtime/inspect_commands.hpp"

namespace {

void usage(std::ostream& out) {
  out << "usage: tidewatch <command> ...\n"
         "  config check FILE [--syntax-only]\n"
         "                      validate FILE, print the effective config (defaults filled in);\n"
         "                      also reads the prefix lists and databases it names, unless\n"
         "                      --syntax-only (e.g. on another machine than the node's)\n"
         "  config defaults     print the built-in default config\n"
         "  decode FILE [--port N]\n"
         "                      decode the NetFlow/IPFIX/sFlow datagrams of a capture (pcap or\n"
         "                      pcapng) in order; JSON lines on stdout, summary on stderr\n"
         "Inspecting a running node (options: --node HOST:PORT, default 127.0.0.1:7790, or\n"
         "--config FILE for every node of FILE's cluster, each under its name;\n"
         "--json; --interval DURATION between the two snapshots rates come from, default\n"
         "1s; --tls-cert FILE --tls-key FILE --tls-ca FILE for a node that requires TLS):\n";
  for (auto& c : tidewatch::inspect_commands()) {
    std::string name = "  " + std::string(c.name);
    out << name << std::string(name.size() < 22 ? 22 - name.size() : 1, ' ') << c.help << "\n";
  }
}

/// Reads the files a pipeline's enricher would read at start: a prefix list
/// that does not load stops the pipeline from starting (an error here); a
/// database that does not open only leaves its fields empty (a warning).
size_t check_enrichment_files(const std::string& pipeline, const tidewatch::enrichment_config& e) {
  std::vector<std::string> errors;
  if (!e.prefix_file.empty()) {
    tidewatch::prefix_list list;
    tidewatch::prefix_list::load(e.prefix_file, list, errors);
  }
  for (auto* path : {&e.country_database, &e.asn_database}) {
    std::string error;
    if (!path->empty() && !tidewatch::open_database_copy(*path, error))
      std::cerr << "warning: pipelines." << pipeline << ": database " << *path << ": " << error
                << " (its fields will stay empty)\n";
  }
  for (auto& error : errors)
    std::cerr << error << "\n";
  return errors.size();
}

int config_check(const std::string& path, bool syntax_only) {
  tidewatch::tidewatch_config cfg;
  auto errors = tidewatch::load_config_file(path, cfg);
  if (!errors.empty()) {
    for (auto& e : errors)
      std::cerr << e.to_string() << "\n";
    std::cerr << errors.size() << " error(s) in " << path << "\n";
    return 1;
  }
  size_t file_errors = 0;
  if (!syntax_only)
    for (auto [name, p] :
         {std::pair{"netflow", &cfg.pipelines.netflow}, std::pair{"sflow", &cfg.pipelines.sflow}})
      if (p->enabled)
        file_errors += check_enrichment_files(name, p->enrichment);
  if (file_errors != 0) {
    std::cerr << file_errors << " error(s) in files that " << path << " names\n";
    return 1;
  }
  std::cout << "# " << path << ": OK; effective configuration:\n" << tidewatch::render_config(cfg);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "config" && args[1] == "check")
    return config_check(args[2], false);
  if (args.size() == 4 && args[0] == "config" && args[1] == "check" && args[3] == "--syntax-only")
    return config_check(args[2], true);
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
  for (auto& c : tidewatch::inspect_commands())
    if (!args.empty() && args[0] == c.name)
      return tidewatch::run_inspect_command(
          c, std::vector<std::string>(args.begin() + 1, args.end()), std::cout, std::cerr);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    usage(std::cout);
    return 0;
  }
  usage(std::cerr);
  return 2;
}
