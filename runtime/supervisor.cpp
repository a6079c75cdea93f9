#include "runtime/supervisor.hpp"

#include <optional>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/atoms.hpp"
#include "messages/error.hpp"
#include "messages/inspector.hpp"

namespace tidewatch {

std::chrono::milliseconds restart_backoff(const restart_policy& p, uint32_t n) {
  auto d = p.backoff_initial;
  for (uint32_t i = 1; i < n && d < p.backoff_max; ++i)
    d *= 2;
  return std::min(d, p.backoff_max);
}

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

void start_from(self_ptr self, size_t first) {
  auto& st = self->state;
  for (size_t i = first; i < st.specs.size(); ++i) {
    std::vector<caf::actor> earlier(st.children.begin(), st.children.begin() + long(i));
    st.children[i] = st.specs[i].start(self, earlier);
  }
}

/// Stops children [first, end) without treating their exit as a failure.
void stop_from(self_ptr self, size_t first) {
  auto& st = self->state;
  for (size_t i = st.children.size(); i-- > first;) {
    if (!st.children[i])
      continue;
    self->unlink_from(st.children[i]);
    self->send_exit(st.children[i], caf::exit_reason::user_shutdown);
    st.children[i] = nullptr;
  }
}

stats_snapshot own_stats(self_ptr self) {
  auto& st = self->state;
  stats_snapshot s;
  s.pipeline = st.pipeline;
  s.stage = "supervisor";
  for (size_t i = 0; i < st.specs.size(); ++i)
    s.counters.push_back({"restarts_total{child=\"" + st.specs[i].name + "\"}", st.restarts[i]});
  return s;
}

void on_child_exit(self_ptr self, caf::exit_msg& msg) {
  auto& st = self->state;
  auto it = std::find_if(st.children.begin(), st.children.end(),
                         [&](const caf::actor& c) { return c && c.address() == msg.source; });
  if (it == st.children.end()) {
    // Our own parent (or the system) asks us to stop.
    if (msg.source != self->address()) {
      stop_from(self, 0);
      self->quit(msg.reason);
    }
    return;
  }
  auto index = size_t(it - st.children.begin());
  auto& name = st.specs[index].name;
  st.children[index] = nullptr;
  if (!msg.reason || msg.reason == caf::exit_reason::user_shutdown) {
    if (st.draining)
      return;
    spdlog::warn("{}: child {} stopped unexpectedly; restarting it", st.pipeline, name);
  } else {
    spdlog::error("{}: child {} failed: {}", st.pipeline, name, self->system().render(msg.reason));
  }
  if (st.draining)
    return; // a failure while draining: the drain timeout ends it
  auto now = self->clock().now();
  while (!st.recent_restarts.empty() && now - st.recent_restarts.front() > st.policy.window)
    st.recent_restarts.pop_front();
  if (st.recent_restarts.size() >= st.policy.max_restarts) {
    auto text = st.pipeline + ": " + std::to_string(st.recent_restarts.size() + 1) +
                " failures within " + std::to_string(st.policy.window.count()) +
                "ms (max_restarts " + std::to_string(st.policy.max_restarts) + "); giving up";
    spdlog::critical("{}", text);
    stop_from(self, 0);
    self->quit(make_error(ec::restart_limit, text));
    return;
  }
  st.recent_restarts.push_back(now);
  ++st.restarts[index];
  stop_from(self, index + 1);
  auto delay = restart_backoff(st.policy, uint32_t(st.recent_restarts.size()));
  spdlog::info("{}: restarting {} (and what depends on it) in {} ms", st.pipeline, name,
               delay.count());
  self->delayed_send(self, delay, restart_atom::value, uint64_t(index));
}

} // namespace

caf::behavior supervisor(self_ptr self, std::string pipeline, restart_policy policy,
                         std::vector<child_spec> specs) {
  auto& st = self->state;
  st.pipeline = std::move(pipeline);
  st.policy = policy;
  st.specs = std::move(specs);
  st.children.resize(st.specs.size());
  st.restarts.resize(st.specs.size());
  self->set_exit_handler([self](caf::exit_msg& msg) { on_child_exit(self, msg); });
  start_from(self, 0);
  return {
      [self](restart_atom, uint64_t index) {
        auto& st = self->state;
        if (st.draining || index >= st.children.size())
          return;
        start_from(self, index);
      },
      [self](reload_atom) {
        auto& st = self->state;
        for (size_t i = 0; i < st.specs.size(); ++i)
          if (st.specs[i].reloadable && st.children[i])
            self->send(st.children[i], reload_atom::value);
      },
      [self](stats_atom) -> caf::result<std::vector<stats_snapshot>> {
        auto& st = self->state;
        auto rp = self->make_response_promise<std::vector<stats_snapshot>>();
        // One slot per child, so that the answer lists the stages in start
        // order whatever order the children answer in.
        auto slots =
            std::make_shared<std::vector<std::optional<stats_snapshot>>>(st.children.size());
        auto live = std::make_shared<size_t>(0);
        auto deliver = [self, slots, rp]() mutable {
          std::vector<stats_snapshot> xs{own_stats(self)};
          for (auto& x : *slots)
            if (x)
              xs.push_back(std::move(*x));
          rp.deliver(std::move(xs));
        };
        for (auto& c : st.children)
          if (c)
            ++*live;
        if (*live == 0) {
          deliver();
          return rp;
        }
        for (size_t i = 0; i < st.children.size(); ++i) {
          if (!st.children[i])
            continue;
          self->request(st.children[i], std::chrono::seconds(5), stats_atom::value)
              .then(
                  [=](stats_snapshot& s) mutable {
                    (*slots)[i] = std::move(s);
                    if (--*live == 0)
                      deliver();
                  },
                  [=](caf::error&) mutable {
                    if (--*live == 0)
                      deliver();
                  });
        }
        return rp;
      },
      [self](status_atom) {
        auto& st = self->state;
        role_status s;
        s.role = st.pipeline;
        s.actor_id = self->id();
        for (size_t i = 0; i < st.specs.size(); ++i)
          s.children.push_back({st.specs[i].name, st.children[i],
                                st.children[i] ? st.children[i].id() : 0, st.restarts[i]});
        return s;
      },
      [self](drain_atom) {
        auto& st = self->state;
        st.draining = true;
        st.drain_requester = caf::actor_cast<caf::actor>(self->current_sender());
        size_t entries = 0;
        for (size_t i = 0; i < st.specs.size(); ++i)
          if (st.specs[i].drain_entry && st.children[i]) {
            self->send(st.children[i], drain_atom::value, caf::actor_cast<caf::actor>(self));
            ++entries;
          }
        auto finish = [self] {
          stop_from(self, 0);
          if (self->state.drain_requester)
            self->send(self->state.drain_requester, drained_atom::value, self->state.pipeline);
          self->quit();
        };
        if (entries == 0)
          return finish();
        self->delayed_send(self, st.policy.drain_timeout, drained_atom::value, std::string{});
        self->become(caf::keep_behavior, [self, finish](drained_atom, const std::string& stage) {
          auto& st = self->state;
          if (stage.empty()) {
            spdlog::warn("{}: drain timed out after {} ms; stopping anyway", st.pipeline,
                         st.policy.drain_timeout.count());
            return finish();
          }
          size_t exits = 0;
          for (auto& s : st.specs)
            exits += s.drain_exit ? 1 : 0;
          spdlog::debug("{}: {} drained", st.pipeline, stage);
          if (++st.drained >= exits)
            finish();
        });
      },
  };
}

} // namespace tidewatch
