#include "runtime/node.hpp"

#include <csignal>
#include <cstdlib>
#include <thread>
#include <tuple>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <spdlog/spdlog.h>

#include "actors/bgp/bgp_speaker_actor.hpp"
#include "actors/inspector/inspector_actor.hpp"
#include "messages/atoms.hpp"
#include "messages/error.hpp"
#include "messages/type_ids.hpp"
#include "runtime/bgp_link.hpp"
#include "runtime/logging.hpp"
#include "runtime/metrics_server.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/service_notify.hpp"
#include "runtime/tls_files.hpp"

namespace tidewatch {

using signal_atom = caf::atom_constant<caf::atom("signal")>;

namespace {

/// Scheduler worker threads: node.scheduler_threads, 0 meaning one per core.
size_t scheduler_threads(const tidewatch_config& cfg) {
  auto threads = cfg.node.scheduler_threads;
  if (threads == 0)
    threads = std::max(2u, std::thread::hardware_concurrency());
  return threads;
}

} // namespace

node_system_config::node_system_config(const tidewatch_config& cfg) {
  load<caf::io::middleman>();
  register_message_types(*this);
  add_error_rendering(*this);
  set("scheduler.max-threads", scheduler_threads(cfg));
  set("middleman.heartbeat-interval", caf::timespan(std::chrono::seconds(5)));
  auto& insp = cfg.node.inspector;
  if (!insp.certificate.empty())
    enable_tls(*this, insp.certificate, insp.key, insp.ca_file);
}

void add_error_rendering(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) -> std::string {
                           auto text = std::string("tidewatch:") + to_string(static_cast<ec>(code));
                           if (ctx.match_elements<std::string>())
                             text += ": " + ctx.get_as<std::string>(0);
                           return text;
                         });
}

void enable_tls(caf::actor_system_config& cfg, const std::string& certificate,
                const std::string& key, const std::string& ca_file) {
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = certificate;
  cfg.openssl_key = key;
  cfg.openssl_cafile = ca_file;
}

void block_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
}

namespace {

/// What SIGHUP can change in running pipelines besides their files.
struct reloadable_settings {
  std::shared_ptr<exporter_allow_list> netflow_allowed = std::make_shared<exporter_allow_list>();
  std::shared_ptr<exporter_allow_list> sflow_allowed = std::make_shared<exporter_allow_list>();
  /// Detector options and replication receivers, filled when the pipelines start.
  std::shared_ptr<pipeline_reloadables> netflow_live = std::make_shared<pipeline_reloadables>();
  std::shared_ptr<pipeline_reloadables> sflow_live = std::make_shared<pipeline_reloadables>();

  /// Sets them from `cfg` and says so in the log when `log` is set.
  void apply(const tidewatch_config& cfg, bool log) {
    for (auto [name, p, list] :
         {std::tuple{"netflow", &cfg.pipelines.netflow, netflow_allowed.get()},
          std::tuple{"sflow", &cfg.pipelines.sflow, sflow_allowed.get()}}) {
      list->replace(allowed_exporter_prefixes(*p));
      if (log && p->enabled)
        spdlog::info("SIGHUP: {} accepts exporters from {}", name,
                     p->allowed_exporters.empty()
                         ? std::string("everywhere")
                         : std::to_string(p->allowed_exporters.size()) + " allowed prefix(es)");
    }
    // At start the pipelines fill these from the config themselves.
    if (log) {
      update_reloadables(*netflow_live, cfg.pipelines.netflow);
      update_reloadables(*sflow_live, cfg.pipelines.sflow);
    }
  }
};

/// Takes what a running pipeline can change from `fresh` into `applied`: the
/// detector's settings but for being on, its rate window and its table size;
/// the replication receivers when there were and are some (the replicator
/// is started or stopped only at start).
void apply_pipeline_changes(pipeline_config& applied, const pipeline_config& fresh) {
  auto detector = fresh.detector;
  detector.enabled = applied.detector.enabled;
  detector.bucket = applied.detector.bucket;
  detector.max_hosts = applied.detector.max_hosts;
  applied.detector = detector;
  if (!applied.replicators.empty() && !fresh.replicators.empty())
    applied.replicators = fresh.replicators;
}

/// Applies a re-read configuration: what can change at run time changes now;
/// what needs a restart is named in the log.
void reload(const std::string& path, tidewatch_config& current, reloadable_settings& settings) {
  if (path.empty()) {
    spdlog::info("SIGHUP: running on the built-in default config; nothing to reload");
    return;
  }
  tidewatch_config fresh;
  // A cluster node stays the node it started as (tidewatchd --node).
  auto errors = load_config_file(path, fresh,
                                 current.cluster.nodes.empty() ? std::string() : current.node.name);
  if (!errors.empty()) {
    for (auto& e : errors)
      spdlog::error("reload rejected: {}", e.to_string());
    spdlog::error("SIGHUP: {} keeps running on its previous configuration", path);
    return;
  }
  setup_logging(fresh.logging, "tidewatchd");
  auto applied = current;
  applied.logging = fresh.logging;
  applied.pipelines.netflow.allowed_exporters = fresh.pipelines.netflow.allowed_exporters;
  applied.pipelines.sflow.allowed_exporters = fresh.pipelines.sflow.allowed_exporters;
  apply_pipeline_changes(applied.pipelines.netflow, fresh.pipelines.netflow);
  apply_pipeline_changes(applied.pipelines.sflow, fresh.pipelines.sflow);
  settings.apply(applied, true);
  // Everything else is wired into running actors; say so rather than
  // pretending to apply it.
  bool restart_needed = render_config(fresh) != render_config(applied);
  current = applied;
  spdlog::info("SIGHUP: reloaded configuration from {} (logging level {}){}", path,
               fresh.logging.level,
               restart_needed ? "; other changes take effect at the next restart" : "");
}

/// Publishes the inspector on node.inspector.listen (TLS when configured);
/// logs why when it cannot listen there.
void publish_inspector(caf::actor_system& sys, const inspector_config& c,
                       const inspector_actor& insp) {
  std::string host;
  uint16_t port = 0;
  parse_host_port(c.listen, host, port); // validated with the config
  bool tls = !c.certificate.empty();
  auto bound = tls ? caf::openssl::publish(insp, port, host.c_str(), true)
                   : sys.middleman().publish(insp, port, host.c_str(), true);
  if (!bound) {
    spdlog::critical("inspector: cannot listen on {}: {}; running without remote inspection",
                     c.listen, sys.render(bound.error()));
    return;
  }
  spdlog::info("inspector listening on {}:{} ({})", host, *bound,
               tls ? "TLS, client certificates verified" : "plain, loopback only");
}

/// Starts the /metrics endpoint on node.metrics.listen; logs why when it cannot.
std::unique_ptr<metrics_server> start_metrics(caf::actor_system& sys, const metrics_config& c,
                                              const inspector_actor& insp) {
  std::string host;
  uint16_t port = 0;
  parse_host_port(c.listen, host, port); // validated with the config
  std::string error;
  auto server = metrics_server::start(sys, insp, host, port, error);
  if (server)
    spdlog::info("metrics listening on http://{}:{}/metrics", host, server->port());
  else
    spdlog::critical("metrics: cannot listen on {}: {}; running without /metrics", c.listen, error);
  return server;
}

/// Test hook (environment TIDEWATCH_TEST_WEDGE_AFTER_MS): after that delay,
/// one actor per scheduler thread blocks its thread for good, as a deadlock
/// would, so that tests can watch the watchdog react.
void schedule_wedge(caf::actor_system& sys, size_t threads) {
  const char* after = std::getenv("TIDEWATCH_TEST_WEDGE_AFTER_MS");
  if (after == nullptr)
    return;
  auto delay = std::chrono::milliseconds(std::strtoll(after, nullptr, 10));
  spdlog::warn("test hook: wedging all {} scheduler threads in {} ms", threads, delay.count());
  for (size_t i = 0; i < threads; ++i)
    sys.spawn(
        [](caf::event_based_actor* self, std::chrono::milliseconds d) -> caf::behavior {
          self->delayed_send(self, d, tick_atom::value);
          return {[](tick_atom) {
            for (;;)
              std::this_thread::sleep_for(std::chrono::hours(1));
          }};
        },
        delay);
}

} // namespace

int run_node(const tidewatch_config& initial, const std::string& config_path) {
  tidewatch_config cfg = initial;
  if (auto& c = cfg.node.inspector; !c.certificate.empty()) {
    std::string error;
    if (!check_tls_files(c.certificate, c.key, c.ca_file, error)) {
      spdlog::critical("node.inspector: {}; not starting", error);
      return 2;
    }
  }
  node_system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  int exit_code = 0;
  {
    caf::scoped_actor self{sys};
    auto insp = sys.spawn(inspector, cfg.node.name, caf::timespan(std::chrono::seconds(5)));
    // In a cluster the node's entry says where its inspector and /metrics listen.
    auto inspector_settings = cfg.node.inspector;
    auto metrics_settings = cfg.node.metrics;
    if (auto* me = this_cluster_node(cfg)) {
      inspector_settings.listen = me->inspector;
      if (!me->metrics.empty())
        metrics_settings.listen = me->metrics;
    }
    // Without its inspector a node still collects: a taken port costs
    // remote inspection, not flows.
    if (!inspector_settings.listen.empty())
      publish_inspector(sys, inspector_settings, insp);
    reloadable_settings settings;
    settings.apply(cfg, false);
    // The BGP speaker is a node-level service beside the pipelines: their
    // enrichers subscribe to its routes and their detectors announce
    // blackholes through it, so it starts first. It stops with the node, and
    // failing (e.g. its port taken) stops the node. When another cluster
    // node runs it, a link to that node stands in for it.
    bgp_route_source_actor routes;
    caf::actor bgp;
    std::string bgp_role = "bgp";
    if (runs_role(cfg, "bgp")) {
      auto speaker = spawn_bgp_speaker(sys, cfg.bgp);
      routes = speaker;
      bgp = caf::actor_cast<caf::actor>(speaker);
    } else if (auto* remote = cluster_node_running(cfg, "bgp");
               remote && cfg.bgp.enabled &&
               (runs_role(cfg, "netflow") || runs_role(cfg, "sflow"))) {
      bgp_link_options o;
      o.node = remote->name;
      o.inspector = remote->inspector;
      o.tls = !cfg.node.inspector.certificate.empty();
      o.retry_initial = cfg.cluster.retry_initial;
      o.retry_max = cfg.cluster.retry_max;
      o.stale_time = cfg.cluster.bgp_stale_time;
      auto link = sys.spawn(bgp_link, o);
      routes = link;
      bgp = caf::actor_cast<caf::actor>(link);
      bgp_role = "bgp_link";
    }
    if (bgp)
      self->monitor(bgp);
    const bool run_netflow = runs_role(cfg, "netflow");
    const bool run_sflow = runs_role(cfg, "sflow");
    std::vector<caf::actor> pipelines;
    if (run_netflow)
      pipelines.push_back(sys.spawn(
          supervisor, std::string("netflow"), make_restart_policy(cfg),
          netflow_pipeline(cfg, settings.netflow_allowed, routes, settings.netflow_live)));
    if (run_sflow)
      pipelines.push_back(
          sys.spawn(supervisor, std::string("sflow"), make_restart_policy(cfg),
                    sflow_pipeline(cfg, settings.sflow_allowed, routes, settings.sflow_live)));
    for (auto& p : pipelines)
      self->monitor(p);
    if (run_netflow)
      self->send(insp, register_atom::value, std::string("netflow"), pipelines.front());
    if (run_sflow)
      self->send(insp, register_atom::value, std::string("sflow"), pipelines.back());
    std::unique_ptr<metrics_server> metrics;
    if (!metrics_settings.listen.empty())
      metrics = start_metrics(sys, metrics_settings, insp);
    if (bgp)
      self->send(insp, register_atom::value, bgp_role, bgp);
    spdlog::info("tidewatchd {} node '{}' started with {} pipeline(s)", TIDEWATCH_VERSION,
                 cfg.node.name, pipelines.size());
    // Ready once every pipeline's supervisor has answered through the inspector.
    self->request(insp, std::chrono::seconds(10), status_atom::value)
        .receive([](const node_status&) { notify_service_manager("READY=1"); },
                 [&](caf::error& e) {
                   spdlog::error("pipelines did not answer at start: {}", sys.render(e));
                 });
    std::unique_ptr<service_watchdog> watchdog;
    if (auto interval = watchdog_interval(); interval.count() > 0) {
      spdlog::info("watchdog: pinging every {} ms while the actor system answers",
                   interval.count() / 2000);
      watchdog = std::make_unique<service_watchdog>(interval, [&sys, insp, interval] {
        bool ok = false;
        caf::scoped_actor probe{sys};
        probe->request(insp, interval / 4, ping_atom::value)
            .receive([&](ping_atom) { ok = true; }, [](caf::error&) {});
        return ok;
      });
    }
    schedule_wedge(sys, scheduler_threads(cfg));
    // A thread waits for signals and turns them into messages.
    std::thread signal_thread([target = caf::actor_cast<caf::actor>(self)] {
      sigset_t sigs;
      sigemptyset(&sigs);
      sigaddset(&sigs, SIGINT);
      sigaddset(&sigs, SIGTERM);
      sigaddset(&sigs, SIGHUP);
      for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
          continue;
        caf::anon_send(target, signal_atom::value, sig);
        if (sig != SIGHUP)
          return;
      }
    });
    size_t running = pipelines.size() + (bgp ? 1 : 0);
    bool stopping = false;
    while (running > 0) {
      self->receive(
          [&](signal_atom, int sig) {
            if (sig == SIGHUP) {
              notify_service_manager("RELOADING=1");
              reload(config_path, cfg, settings);
              // Prefix lists and databases are re-read whatever the config
              // said; detectors and replicators take what reload() put in place.
              for (auto& p : pipelines)
                self->send(p, reload_atom::value);
              notify_service_manager("READY=1");
              return;
            }
            if (stopping)
              return;
            stopping = true;
            notify_service_manager("STOPPING=1");
            spdlog::info("{}: draining pipelines and flushing sinks", strsignal(sig));
            for (auto& p : pipelines)
              self->send(p, drain_atom::value);
            if (bgp)
              self->send_exit(bgp, caf::exit_reason::user_shutdown);
          },
          [&](drained_atom, const std::string& pipeline) {
            spdlog::info("pipeline {} drained", pipeline);
          },
          [&](caf::down_msg& dm) {
            --running;
            if (dm.reason && dm.reason != caf::exit_reason::user_shutdown) {
              spdlog::critical("a pipeline stopped: {}; exiting", sys.render(dm.reason));
              exit_code = 1;
              for (auto& p : pipelines)
                self->send_exit(p, caf::exit_reason::user_shutdown);
              if (bgp)
                self->send_exit(bgp, caf::exit_reason::user_shutdown);
            }
          });
    }
    if (!stopping) {
      // Release the signal thread so that the process can end.
      ::kill(::getpid(), SIGTERM);
    }
    signal_thread.join();
    watchdog.reset();
    metrics.reset();
    self->send_exit(insp, caf::exit_reason::user_shutdown);
    if (!stopping) {
      // That SIGTERM became one more message for us; nothing to do with it.
      self->receive([](signal_atom, int) {}, caf::after(std::chrono::seconds(1)) >> [] {});
    }
  }
  spdlog::info("tidewatchd stopped (exit {})", exit_code);
  return exit_code;
}

} // namespace tidewatch
