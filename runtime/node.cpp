#include "runtime/node.hpp"

#include <csignal>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/bgp/bgp_speaker_actor.hpp"
#include "messages/atoms.hpp"
#include "messages/error.hpp"
#include "messages/type_ids.hpp"
#include "runtime/logging.hpp"
#include "runtime/pipeline.hpp"

namespace tidewatch {

using signal_atom = caf::atom_constant<caf::atom("signal")>;

node_system_config::node_system_config(const tidewatch_config& cfg) {
  load<caf::io::middleman>();
  register_message_types(*this);
  add_error_category(error_category,
                     [](uint8_t code, caf::atom_value, const caf::message& ctx) -> std::string {
                       auto text = std::string("tidewatch:") + to_string(static_cast<ec>(code));
                       if (ctx.match_elements<std::string>())
                         text += ": " + ctx.get_as<std::string>(0);
                       return text;
                     });
  auto threads = cfg.node.scheduler_threads;
  if (threads == 0)
    threads = std::max(2u, std::thread::hardware_concurrency());
  set("scheduler.max-threads", size_t(threads));
  set("middleman.heartbeat-interval", caf::timespan(std::chrono::seconds(5)));
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

/// Applies a re-read configuration: what can change at run time changes now;
/// what needs a restart is named in the log.
void reload(const std::string& path, tidewatch_config& current) {
  if (path.empty()) {
    spdlog::info("SIGHUP: running on the built-in default config; nothing to reload");
    return;
  }
  tidewatch_config fresh;
  auto errors = load_config_file(path, fresh);
  if (!errors.empty()) {
    for (auto& e : errors)
      spdlog::error("reload rejected: {}", e.to_string());
    spdlog::error("SIGHUP: {} keeps running on its previous configuration", path);
    return;
  }
  setup_logging(fresh.logging, "tidewatchd");
  auto applied = current;
  applied.logging = fresh.logging;
  // Everything else is wired into running actors; say so rather than
  // pretending to apply it.
  bool restart_needed = render_config(fresh) != render_config(applied);
  current = applied;
  spdlog::info("SIGHUP: reloaded configuration from {} (logging level {}){}", path,
               fresh.logging.level,
               restart_needed ? "; other changes take effect at the next restart" : "");
}

} // namespace

int run_node(const tidewatch_config& initial, const std::string& config_path) {
  tidewatch_config cfg = initial;
  node_system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  int exit_code = 0;
  {
    caf::scoped_actor self{sys};
    // The BGP speaker is a node-level service beside the pipelines; it stops
    // with the node, and failing (e.g. its port taken) stops the node. It
    // starts first: the pipelines' enrichers subscribe to its routes.
    bgp_speaker_actor speaker;
    caf::actor bgp;
    if (cfg.bgp.enabled) {
      speaker = spawn_bgp_speaker(sys, cfg.bgp);
      bgp = caf::actor_cast<caf::actor>(speaker);
      self->monitor(bgp);
    }
    std::vector<caf::actor> pipelines;
    if (cfg.pipelines.netflow.enabled)
      pipelines.push_back(sys.spawn(supervisor, std::string("netflow"), make_restart_policy(cfg),
                                    netflow_pipeline(cfg, speaker)));
    if (cfg.pipelines.sflow.enabled)
      pipelines.push_back(sys.spawn(supervisor, std::string("sflow"), make_restart_policy(cfg),
                                    sflow_pipeline(cfg, speaker)));
    for (auto& p : pipelines)
      self->monitor(p);
    spdlog::info("tidewatchd {} node '{}' started with {} pipeline(s)", TIDEWATCH_VERSION,
                 cfg.node.name, pipelines.size());
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
              reload(config_path, cfg);
              // Prefix lists and databases are re-read whatever the config said.
              for (auto& p : pipelines)
                self->send(p, reload_atom::value);
              return;
            }
            if (stopping)
              return;
            stopping = true;
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
    if (!stopping) {
      // That SIGTERM became one more message for us; nothing to do with it.
      self->receive([](signal_atom, int) {}, caf::after(std::chrono::seconds(1)) >> [] {});
    }
  }
  spdlog::info("tidewatchd stopped (exit {})", exit_code);
  return exit_code;
}

} // namespace tidewatch
