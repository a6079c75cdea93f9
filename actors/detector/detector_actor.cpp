#include "actors/detector/detector_actor.hpp"

#include <syslog.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/common/clock.hpp"
#include "actors/detector/detector_report.hpp"
#include "messages/blackhole.hpp"

namespace tidewatch {

namespace {

using self_ptr = detector_actor::stateful_pointer<detector_state>;

void run_child(self_ptr self, const std::vector<std::string>& argv, std::string input,
               std::chrono::milliseconds timeout, int64_t now_us) {
  auto& st = self->state;
  std::string error;
  if (!st.children.start(argv, std::move(input), timeout.count() * 1000, now_us, error)) {
    ++st.action_errors;
    spdlog::error("{}: detector: cannot run {}", st.opts.pipeline, error);
  }
}

void notify(self_ptr self, const attack_report& a, const char* action, int64_t now_us) {
  auto& act = self->state.opts.actions;
  if (!act.notify_script.empty())
    run_child(self, notify_arguments(act.notify_script, a, action), render_attack_details(a),
              act.notify_timeout, now_us);
}

/// Everything configured for a ban or an unban.
void act(self_ptr self, const attack_event& ev, int64_t now_us) {
  auto& st = self->state;
  auto& act = st.opts.actions;
  auto& a = ev.report;
  bool ban = ev.kind == attack_event_kind::ban;
  const char* action = ban ? "ban" : "unban";
  spdlog::warn("{}: detector: {}", st.opts.pipeline, syslog_line(action, a));
  ++(ban ? st.bans : st.unbans);
  if (act.syslog)
    ::syslog(LOG_WARNING, "tidewatch detector: %s", syslog_line(action, a).c_str());
  if (!act.details_directory.empty()) {
    std::string error;
    if (write_attack_details(act.details_directory, a, error).empty()) {
      ++st.action_errors;
      spdlog::error("{}: detector: {}", st.opts.pipeline, error);
    }
  }
  notify(self, a, action, now_us);
  if (ban && !act.notify_script.empty())
    st.details_due.emplace_back(a.id, now_us + act.details_delay.count() * 1000);
  if (!act.email_command.empty())
    run_child(self, act.email_command, email_message(act.email_from, act.email_to, action, a),
              act.email_timeout, now_us);
  if (st.opts.bgp_speaker && !a.group_attack) {
    caf::anon_send(st.opts.bgp_speaker, blackhole_route{a.address, act.blackhole_communities, ban});
    ++st.blackholes_sent;
  }
}

void handle_events(self_ptr self, int64_t now_us) {
  auto& st = self->state;
  for (auto& ev : st.events)
    act(self, ev, now_us);
  st.events.clear();
}

/// Sends attack_details for attacks whose delay has passed (with the
/// signature gathered since the ban).
void send_due_details(self_ptr self, int64_t now_us) {
  auto& st = self->state;
  if (st.details_due.empty())
    return;
  auto list = st.detector->attacks();
  for (size_t i = 0; i < st.details_due.size();) {
    auto [id, due] = st.details_due[i];
    if (due > now_us) {
      ++i;
      continue;
    }
    for (auto& a : list.attacks)
      if (a.id == id)
        notify(self, a, "attack_details", now_us);
    st.details_due.erase(st.details_due.begin() + std::ptrdiff_t(i));
  }
}

/// The options in `reloaded` with the ones a reload keeps (pipeline, tick).
detector_actor_options reloaded_options(const detector_actor_options& current) {
  auto fresh = *current.reloaded->get();
  fresh.pipeline = current.pipeline;
  fresh.tick_interval = current.tick_interval;
  fresh.reloaded = current.reloaded;
  return fresh;
}

} // namespace

detector_actor::behavior_type detector(self_ptr self, detector_actor_options opts) {
  auto& st = self->state;
  // A restarted detector starts with what the last SIGHUP put in place.
  st.opts = opts.reloaded ? reloaded_options(opts) : std::move(opts);
  st.detector = std::make_unique<flow_detector>(st.opts.settings);
  spdlog::info("{}: detector tracks up to {} hosts, {} bytes each", st.opts.pipeline,
               st.opts.settings.max_hosts, st.detector->bytes_per_host());
  self->delayed_send(self, st.opts.tick_interval, tick_atom::value);
  return {
      [self](const flow_batch& batch) {
        auto& st = self->state;
        auto now = unix_now_us();
        st.detector->add(batch, now, st.events);
        ++st.batches;
        if (auto sender = self->current_sender())
          self->send(caf::actor_cast<flow_producer_actor>(sender), ack_atom::value);
        handle_events(self, now);
      },
      [self](drain_atom, caf::actor coordinator) {
        auto& st = self->state;
        spdlog::info("{}: detector: {} bans, {} unbans, {} attacks active", st.opts.pipeline,
                     st.bans, st.unbans, st.detector->active_attacks());
        caf::anon_send(coordinator, drained_atom::value, std::string{"detector"});
      },
      [self](tick_atom) {
        auto& st = self->state;
        auto now = unix_now_us();
        st.detector->tick(now, st.events);
        handle_events(self, now);
        send_due_details(self, now);
        st.children.poll(now);
        self->delayed_send(self, st.opts.tick_interval, tick_atom::value);
      },
      [self](reload_atom) {
        auto& st = self->state;
        if (!st.opts.reloaded)
          return;
        st.opts = reloaded_options(st.opts);
        st.detector->reconfigure(st.opts.settings);
        spdlog::info("{}: detector: SIGHUP applied {} thresholds, {} hostgroups, {} whitelisted "
                     "prefixes; {} hosts and {} attacks carried over",
                     st.opts.pipeline, st.opts.settings.limits.size(),
                     st.opts.settings.hostgroups.size(), st.opts.settings.whitelist.size(),
                     st.detector->hosts_tracked(), st.detector->active_attacks());
      },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.pipeline = st.opts.pipeline;
        s.stage = "detector";
        s.taken_us = unix_now_us();
        st.detector->collect(s.counters);
        auto& c = st.children.stats();
        s.counters.insert(s.counters.end(),
                          {{"detector_batches_total", st.batches},
                           {"detector_bans_total", st.bans},
                           {"detector_unbans_total", st.unbans},
                           {"detector_action_errors_total", st.action_errors},
                           {"detector_blackhole_routes_sent_total", st.blackholes_sent},
                           {"detector_commands_started_total", c.started},
                           {"detector_commands_failed_total", c.exited_error + c.spawn_failed},
                           {"detector_commands_timed_out_total", c.timed_out},
                           {"detector_commands_running", st.children.running()}});
        return s;
      },
      [self](attacks_atom) { return self->state.detector->attacks(); },
      [self](top_atom, const std::string& metric, const std::string& direction, uint32_t n) {
        auto m = metric == "bps"     ? rate_metric::bits
                 : metric == "flows" ? rate_metric::flows
                                     : rate_metric::packets;
        return self->state.detector->top(m, direction != "out", n, unix_now_us());
      },
  };
}

} // namespace tidewatch
