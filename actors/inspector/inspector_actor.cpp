#include "actors/inspector/inspector_actor.hpp"

#include <caf/all.hpp>

#include "actors/common/clock.hpp"
#include "messages/error.hpp"

namespace tidewatch {

namespace {

using self_ptr = inspector_actor::stateful_pointer<inspector_state>;

/// Collects one answer per role into `result` and delivers it once every
/// role answered or failed.
template <class Result> struct gathering {
  Result result;
  size_t outstanding = 0;
  caf::typed_response_promise<Result> promise;

  void done() {
    if (--outstanding == 0)
      promise.deliver(std::move(result));
  }
};

} // namespace

inspector_actor::behavior_type inspector(self_ptr self, std::string node, caf::timespan timeout) {
  self->state.node = std::move(node);
  self->state.started_us = unix_now_us();
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& roles = self->state.roles;
    for (auto it = roles.begin(); it != roles.end();)
      it = it->second.address() == dm.source ? roles.erase(it) : std::next(it);
  });
  return {
      [self](register_atom, const std::string& role, caf::actor handle) {
        self->monitor(handle);
        self->state.roles[role] = std::move(handle);
      },
      [self](locate_atom, const std::string& role) -> caf::result<caf::actor> {
        auto it = self->state.roles.find(role);
        if (it == self->state.roles.end())
          return make_error(ec::unknown_role, role);
        return it->second;
      },
      [self, timeout](status_atom) -> caf::result<node_status> {
        auto& st = self->state;
        auto g = std::make_shared<gathering<node_status>>();
        g->promise = self->make_response_promise<node_status>();
        g->result.node = st.node;
        g->result.version = TIDEWATCH_VERSION;
        g->result.started_us = st.started_us;
        g->result.now_us = unix_now_us();
        g->outstanding = st.roles.size() + 1;
        for (auto& [role, handle] : st.roles) {
          auto index = g->result.roles.size();
          g->result.roles.push_back({role, handle.id(), {}});
          self->request(handle, timeout, status_atom::value)
              .then(
                  [g, index](role_status& s) {
                    g->result.roles[index].children = std::move(s.children);
                    g->done();
                  },
                  [g](caf::error&) { g->done(); });
        }
        g->done();
        return g->promise;
      },
      [self, timeout](stats_atom) -> caf::result<std::vector<stats_snapshot>> {
        auto& st = self->state;
        auto g = std::make_shared<gathering<std::vector<stats_snapshot>>>();
        g->promise = self->make_response_promise<std::vector<stats_snapshot>>();
        g->outstanding = st.roles.size() + 1;
        auto stamp = [self](stats_snapshot& s) {
          if (s.node.empty())
            s.node = self->state.node;
        };
        for (auto& [role, handle] : st.roles)
          self->request(handle, timeout, stats_atom::value)
              .then(
                  [g, stamp](std::vector<stats_snapshot>& xs) {
                    for (auto& x : xs) {
                      stamp(x);
                      g->result.push_back(std::move(x));
                    }
                    g->done();
                  },
                  [g](caf::error&) { g->done(); });
        g->done();
        return g->promise;
      },
      [](ping_atom x) { return x; },
  };
}

} // namespace tidewatch
