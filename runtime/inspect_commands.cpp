#include "runtime/inspect_commands.hpp"

#include <algorithm>
#include <charconv>
#include <ostream>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "actors/bgp/bgp_report.hpp"
#include "actors/common/clock.hpp"
#include "actors/detector/detector_report.hpp"
#include "actors/inspector/inspect_views.hpp"
#include "config/config.hpp"
#include "messages/error.hpp"
#include "messages/type_ids.hpp"
#include "runtime/node.hpp"
#include "runtime/tls_files.hpp"

namespace tidewatch {

namespace {

int status_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  node_status status;
  if (!s.status(status, err))
    return 1;
  out << render_status(status, s.opts.json);
  return 0;
}

/// Two snapshots `interval` apart, for rates.
bool two_snapshots(inspect_session& s, std::vector<stats_snapshot>& before,
                   std::vector<stats_snapshot>& after, double& seconds, std::ostream& err) {
  auto start = std::chrono::steady_clock::now();
  if (!s.stats(before, err))
    return false;
  if (s.opts.interval.count() > 0)
    std::this_thread::sleep_for(s.opts.interval);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.opts.interval.count() == 0) {
    after = before;
    return true;
  }
  return s.stats(after, err);
}

/// Rows from two snapshots `interval` apart, rendered: stats and exporters.
template <class Rows, class Render>
int rates_command(inspect_session& s, std::ostream& out, std::ostream& err, Rows rows,
                  Render render) {
  std::vector<stats_snapshot> before, after;
  double seconds = 0;
  if (!two_snapshots(s, before, after, seconds, err))
    return 1;
  out << render(rows(before, after, seconds), s.opts.json);
  return 0;
}

int stats_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  return rates_command(s, out, err, stage_rows, render_stats);
}

int exporters_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  return rates_command(s, out, err, exporter_rows, render_exporters);
}

/// The templates of every role's decoder, or (with arguments) of the named
/// roles only: each is located and asked for its children directly.
int templates_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  std::vector<role_status> roles;
  if (s.opts.args.empty()) {
    node_status status;
    if (!s.status(status, err))
      return 1;
    roles = std::move(status.roles);
  }
  for (auto& name : s.opts.args) {
    caf::actor role;
    if (!s.locate(name, role, err) || !s.ask(role, err, roles.emplace_back(), status_atom::value))
      return 1;
  }
  std::vector<pipeline_templates> result;
  for (auto& role : roles)
    for (auto& child : role.children) {
      if (child.name != "decoder" || !child.handle)
        continue;
      auto& p = result.emplace_back();
      p.pipeline = role.role;
      if (!s.ask(child.handle, err, p.templates, templates_atom::value))
        return 1;
    }
  out << render_templates(result, s.opts.json);
  return 0;
}

/// The detectors of every role (or of the roles named): children named
/// "detector" of each pipeline supervisor.
bool find_detectors(inspect_session& s, const std::vector<std::string>& names,
                    std::vector<caf::actor>& out, std::ostream& err) {
  std::vector<role_status> roles;
  if (names.empty()) {
    node_status status;
    if (!s.status(status, err))
      return false;
    roles = std::move(status.roles);
  }
  for (auto& name : names) {
    caf::actor role;
    if (!s.locate(name, role, err) || !s.ask(role, err, roles.emplace_back(), status_atom::value))
      return false;
  }
  for (auto& role : roles)
    for (auto& child : role.children)
      if (child.name == "detector" && child.handle)
        out.push_back(child.handle);
  if (out.empty())
    err << "tidewatch: " << s.opts.node << ": no pipeline runs a detector\n";
  return !out.empty();
}

/// `attacks [ROLE...]`: active and recent attacks with their signatures.
int attacks_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  std::vector<caf::actor> detectors;
  if (!find_detectors(s, s.opts.args, detectors, err))
    return 1;
  attack_list all;
  for (auto& d : detectors) {
    attack_list one;
    if (!s.ask(d, err, one, attacks_atom::value))
      return 1;
    all.attacks.insert(all.attacks.end(), one.attacks.begin(), one.attacks.end());
  }
  out << (s.opts.json ? render_attacks_json(all) : render_attacks_table(all));
  return 0;
}

/// `top [pps|bps|flows] [in|out] [N]`: the hosts with the highest rates, from
/// the first detector; with --watch, refreshed every --interval like
/// fastnetmon_client until interrupted.
int top_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  std::string metric = "pps", direction = "in";
  uint32_t count = 20;
  std::vector<std::string> roles;
  for (auto& a : s.opts.args) {
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), n);
    if (a == "pps" || a == "bps" || a == "flows")
      metric = a;
    else if (a == "in" || a == "out")
      direction = a;
    else if (ec == std::errc{} && end == a.data() + a.size() && n > 0)
      count = n;
    else
      roles.push_back(a);
  }
  std::vector<caf::actor> detectors;
  if (!find_detectors(s, roles, detectors, err))
    return 1;
  for (;;) {
    top_hosts top;
    if (!s.ask(detectors.front(), err, top, top_atom::value, metric, direction, count))
      return 1;
    if (s.opts.watch && !s.opts.json)
      out << "\x1b[H\x1b[2J"; // home and clear, as a terminal refresh
    out << (s.opts.json ? render_top_json(top) : render_top_table(top));
    out.flush();
    if (!s.opts.watch)
      return 0;
    std::this_thread::sleep_for(s.opts.interval);
  }
}

/// `bgp neighbors` and `bgp lookup IP [--neighbor N]`, asked of the node's BGP speaker.
int bgp_command(inspect_session& s, std::ostream& out, std::ostream& err) {
  auto& args = s.opts.args;
  bool neighbors = args.size() == 1 && args[0] == "neighbors";
  ip_address address;
  bool lookup = args.size() == 2 && args[0] == "lookup" && ip_address::parse(args[1], address);
  if (!neighbors && !lookup) {
    err << "tidewatch: bgp takes `neighbors` or `lookup IP [--neighbor ADDRESS]`\n";
    return 2;
  }
  caf::actor speaker;
  if (!s.locate("bgp", speaker, err))
    return 1;
  if (neighbors) {
    std::vector<bgp_neighbor_status> status;
    if (!s.ask(speaker, err, status, neighbors_atom::value))
      return 1;
    out << (s.opts.json ? render_neighbors_json(status, unix_now_us())
                        : render_neighbors_table(status, unix_now_us()));
    return 0;
  }
  bgp_route_report report;
  if (!s.ask(speaker, err, report, lookup_atom::value, address, s.opts.neighbor))
    return 1;
  out << (s.opts.json ? render_route_report_json(report) : render_route_report(report));
  return 0;
}

/// Parses a duration such as 500ms or 2s.
bool parse_millis(const std::string& text, std::chrono::milliseconds& out) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, text.data() + text.size() - end);
  if (ec != std::errc{} || n < 0 || (unit != "ms" && unit != "s"))
    return false;
  out = std::chrono::milliseconds(unit == "s" ? n * 1000 : n);
  return true;
}

bool parse_options(const std::vector<std::string>& args, inspect_options& o, std::ostream& err) {
  for (size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    bool has_value = i + 1 < args.size();
    if (a == "--json") {
      o.json = true;
    } else if (a == "--node" && has_value) {
      o.node = args[++i];
    } else if (a == "--config" && has_value) {
      o.config = args[++i];
    } else if (a == "--interval" && has_value) {
      if (!parse_millis(args[++i], o.interval)) {
        err << "tidewatch: --interval takes a duration such as 500ms or 2s\n";
        return false;
      }
    } else if (a == "--watch") {
      o.watch = true;
    } else if (a == "--neighbor" && has_value) {
      o.neighbor = args[++i];
    } else if (a == "--tls-cert" && has_value) {
      o.certificate = args[++i];
    } else if (a == "--tls-key" && has_value) {
      o.key = args[++i];
    } else if (a == "--tls-ca" && has_value) {
      o.ca_file = args[++i];
    } else if (a.starts_with("--")) {
      err << "tidewatch: unknown option or missing value: " << a << "\n";
      return false;
    } else {
      o.args.push_back(a);
    }
  }
  std::string host;
  uint16_t port = 0;
  if (!parse_host_port(o.node, host, port) || port == 0) {
    err << "tidewatch: --node takes host:port (IPv6: [address]:port), not '" << o.node << "'\n";
    return false;
  }
  bool tls = !o.certificate.empty() || !o.key.empty() || !o.ca_file.empty();
  if (tls && (o.certificate.empty() || o.key.empty() || o.ca_file.empty())) {
    err << "tidewatch: TLS needs --tls-cert, --tls-key and --tls-ca together\n";
    return false;
  }
  std::string error;
  if (tls && !check_tls_files(o.certificate, o.key, o.ca_file, error)) {
    err << "tidewatch: " << error << "\n";
    return false;
  }
  return true;
}

/// The CLI's actor system: middleman, message types, TLS when asked for.
struct client_config : caf::actor_system_config {
  explicit client_config(const inspect_options& o) {
    load<caf::io::middleman>();
    register_message_types(*this);
    add_error_rendering(*this);
    set("scheduler.max-threads", size_t(2));
    if (!o.certificate.empty())
      enable_tls(*this, o.certificate, o.key, o.ca_file);
  }
};

} // namespace

bool inspect_session::stats(std::vector<stats_snapshot>& out, std::ostream& err) {
  return ask(inspector, err, out, stats_atom::value);
}

bool inspect_session::status(node_status& out, std::ostream& err) {
  return ask(inspector, err, out, status_atom::value);
}

bool inspect_session::locate(const std::string& role, caf::actor& out, std::ostream& err) {
  return ask(inspector, err, out, locate_atom::value, role);
}

const std::vector<inspect_command>& inspect_commands() {
  static const std::vector<inspect_command> commands = {
      {"status", "node, version, uptime, roles (pipelines) and their actors, restarts",
       status_command},
      {"stats", "per stage: datagrams, records, errors by reason, kernel drops, queue, records/s",
       stats_command},
      {"exporters",
       "per exporter: datagrams, records, records/s, sequence loss, templates, sampling",
       exporters_command},
      {"templates", "[ROLE...] the NetFlow v9 / IPFIX templates each (or ROLE's) decoder holds",
       templates_command},
      {"attacks", "[ROLE...] active and recent attacks with their traffic signatures",
       attacks_command},
      {"top", "[pps|bps|flows] [in|out] [N] [ROLE] top hosts by rate (--watch: refresh)",
       top_command},
      {"bgp", "neighbors | lookup IP [--neighbor ADDRESS]: BGP sessions and routes", bgp_command},
  };
  return commands;
}

namespace {

/// One node the CLI asks: its name (empty: the --node address only) and inspector.
struct inspect_target {
  std::string name;
  std::string inspector;
};

/// Connects to one node's inspector and runs the command there; 1 when the
/// node cannot be reached.
int run_on_node(caf::actor_system& sys, const inspect_command& command, const inspect_options& opts,
                std::ostream& out, std::ostream& err) {
  std::string host;
  uint16_t port = 0;
  parse_host_port(opts.node, host, port);
  auto handle = opts.certificate.empty()
                    ? sys.middleman().remote_actor<inspector_actor>(host, port)
                    : caf::openssl::remote_actor<inspector_actor>(sys, host, port);
  if (!handle) {
    err << "tidewatch: cannot reach the inspector at " << opts.node << ": "
        << sys.render(handle.error()) << "\n";
    return 1;
  }
  caf::scoped_actor self{sys};
  inspect_session session{sys, self, *handle, opts};
  return command.run(session, out, err);
}

/// The nodes a --config file names: its cluster's, or its one node.
bool config_targets(inspect_options& opts, std::vector<inspect_target>& out, std::ostream& err) {
  tidewatch_config cfg;
  auto errors = load_config_file(opts.config, cfg);
  for (auto& e : errors)
    err << e.to_string() << "\n";
  if (!errors.empty())
    return false;
  for (auto& n : cfg.cluster.nodes)
    out.push_back({n.name, n.inspector});
  if (out.empty())
    out.push_back({cfg.node.name, cfg.node.inspector.listen});
  auto& insp = cfg.node.inspector;
  if (opts.certificate.empty() && !insp.certificate.empty()) {
    opts.certificate = insp.certificate;
    opts.key = insp.key;
    opts.ca_file = insp.ca_file;
    std::string error;
    if (!check_tls_files(opts.certificate, opts.key, opts.ca_file, error)) {
      err << "tidewatch: " << error << "\n";
      return false;
    }
  }
  return true;
}

/// Text without its trailing newlines.
std::string chomp(std::string text) {
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

} // namespace

int run_inspect_command(const inspect_command& command, const std::vector<std::string>& args,
                        std::ostream& out, std::ostream& err) {
  inspect_options opts;
  if (!parse_options(args, opts, err))
    return 2;
  std::vector<inspect_target> targets;
  if (!opts.config.empty() && !config_targets(opts, targets, err))
    return 2;
  client_config cfg{opts};
  caf::actor_system sys{cfg};
  if (targets.empty())
    return run_on_node(sys, command, opts, out, err);
  // Every node answers under its name; one that does not stops nothing.
  int rc = 0;
  std::string json;
  for (auto& t : targets) {
    auto node_opts = opts;
    node_opts.node = t.inspector;
    std::ostringstream answer, problem;
    int node_rc = run_on_node(sys, command, node_opts, answer, problem);
    bool reached = problem.str().find("cannot reach the inspector") == std::string::npos;
    rc = std::max(rc, node_rc);
    if (opts.json) {
      json += std::string(json.empty() ? "" : ",") + "{\"node\":" + json_string(t.name) +
              ",\"inspector\":" + json_string(t.inspector) +
              ",\"reachable\":" + (reached ? "true" : "false");
      if (node_rc == 0)
        json += ",\"result\":" + chomp(answer.str());
      else
        json += ",\"error\":" + json_string(chomp(problem.str()));
      json += "}";
      continue;
    }
    out << "== node " << t.name << " (" << t.inspector << ")" << (reached ? "" : ": unreachable")
        << " ==\n"
        << answer.str() << problem.str();
  }
  if (opts.json)
    out << "{\"nodes\":[" << json << "]}\n";
  return rc;
}

} // namespace tidewatch
