#include "runtime/bgp_link.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <spdlog/spdlog.h>

#include "config/config.hpp"

namespace tidewatch {

namespace {

using self_ptr = bgp_link_actor::stateful_pointer<bgp_link_state>;

/// Routes per batch when a local replica is sent the full copy.
constexpr size_t snapshot_routes = 4096;

/// Applies a batch to our copy and passes it on to every local replica.
void publish(self_ptr self, const bgp_route_batch& batch) {
  auto& st = self->state;
  st.rib.apply(batch);
  if (batch.router_id != 0)
    st.router_ids[batch.neighbor] = batch.router_id;
  for (auto& r : st.replicas)
    self->send(r, batch);
}

/// Drops the routes still stale: their speaker did not send them again.
void sweep(self_ptr self) {
  auto& st = self->state;
  for (auto& neighbor : std::exchange(st.stale, {})) {
    bgp_route_batch b;
    b.neighbor = neighbor;
    b.sweep_stale = true;
    publish(self, b);
  }
  ++st.stale_sweeps;
}

void schedule_retry(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.delay, caf::connect_atom::value);
  st.delay = std::min(st.delay * 2, st.opts.retry_max);
}

void connect_failed(self_ptr self, const caf::error& e) {
  auto& st = self->state;
  st.connecting = false;
  ++st.connect_failures;
  spdlog::warn("bgp link: cannot reach the speaker on node '{}' ({}): {}; retrying in {} ms",
               st.opts.node, st.opts.inspector, self->system().render(e),
               std::chrono::duration_cast<std::chrono::milliseconds>(st.delay).count());
  schedule_retry(self);
}

/// Subscribes to the located speaker, which sends its full copy first (each
/// neighbor's starting with a reset, which replaces that neighbor's stale
/// routes), and re-sends the blackholes we announced.
void connected(self_ptr self, const caf::actor& located) {
  auto& st = self->state;
  st.connecting = false;
  st.speaker = caf::actor_cast<bgp_speaker_actor>(located);
  st.delay = st.opts.retry_initial;
  ++st.connects;
  self->monitor(st.speaker);
  self->send(st.speaker, subscribe_atom::value, caf::actor_cast<bgp_replica_actor>(self));
  for (auto& [address, b] : st.blackholes) {
    self->send(st.speaker, b);
    ++st.blackholes_sent;
  }
  spdlog::info("bgp link: subscribed to the speaker on node '{}' ({}); re-sent {} blackhole(s)",
               st.opts.node, st.opts.inspector, st.blackholes.size());
}

/// Connects to the node's inspector and locates its BGP speaker.
void connect(self_ptr self) {
  auto& st = self->state;
  if (st.connecting || st.speaker)
    return;
  st.connecting = true;
  std::string host;
  uint16_t port = 0;
  parse_host_port(st.opts.inspector, host, port); // validated with the config
  auto& sys = self->system();
  auto manager =
      st.opts.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  self->request(manager, st.opts.request_timeout, caf::connect_atom::value, host, port)
      .then(
          [self](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr)
              return connect_failed(self, caf::make_error(caf::sec::no_actor_published_at_port));
            auto insp = caf::actor_cast<inspector_actor>(ptr);
            self->request(insp, self->state.opts.request_timeout, locate_atom::value,
                          std::string("bgp"))
                .then([self](caf::actor& speaker) { connected(self, speaker); },
                      [self](caf::error& e) { connect_failed(self, e); });
          },
          [self](caf::error& e) { connect_failed(self, e); });
}

/// The speaker went away: keep its routes (stale) for the grace time and reconnect.
void lost(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.speaker = nullptr;
  ++st.losses;
  ++st.generation;
  for (auto& neighbor : st.rib.neighbor_addresses()) {
    st.stale.insert(neighbor);
    bgp_route_batch b;
    b.neighbor = neighbor;
    b.mark_stale = true;
    publish(self, b);
  }
  spdlog::warn("bgp link: lost the speaker on node '{}' ({}): {}; keeping {} route(s) of {} "
               "neighbor(s), marked stale, for {} s unless it sends them again; reconnecting",
               st.opts.node, st.opts.inspector, self->system().render(reason), st.rib.size(),
               st.stale.size(),
               std::chrono::duration_cast<std::chrono::seconds>(st.opts.stale_time).count());
  self->delayed_send(self, st.opts.stale_time, sweep_atom::value, st.generation);
  st.delay = st.opts.retry_initial;
  schedule_retry(self);
}

} // namespace

bgp_link_actor::behavior_type bgp_link(self_ptr self, bgp_link_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.delay = st.opts.retry_initial;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.speaker && dm.source == st.speaker.address())
      return lost(self, dm.reason);
    auto& rs = st.replicas;
    rs.erase(std::remove_if(rs.begin(), rs.end(),
                            [&](const bgp_replica_actor& r) { return r.address() == dm.source; }),
             rs.end());
  });
  connect(self);
  return {
      [self](subscribe_atom, bgp_replica_actor& replica) {
        auto& st = self->state;
        self->monitor(replica);
        for (auto& address : st.rib.neighbor_addresses()) {
          auto id = st.router_ids.find(address);
          st.rib.snapshot(address, snapshot_routes, [&](bgp_route_batch&& b) {
            b.router_id = id == st.router_ids.end() ? 0 : id->second;
            self->send(replica, std::move(b));
          });
          if (st.stale.contains(address)) {
            bgp_route_batch b;
            b.neighbor = address;
            b.mark_stale = true;
            self->send(replica, std::move(b));
          }
        }
        st.replicas.push_back(replica);
      },
      [self](const blackhole_route& b) {
        auto& st = self->state;
        if (b.announce)
          st.blackholes[b.address] = b;
        else
          st.blackholes.erase(b.address);
        if (!st.speaker) {
          ++st.blackholes_pending;
          return;
        }
        self->send(st.speaker, b);
        ++st.blackholes_sent;
      },
      [self](const bgp_route_batch& batch) {
        auto& st = self->state;
        // Only the current speaker's batches: a late one from a lost
        // connection would undo the resync.
        if (!st.speaker ||
            self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.speaker))
          return;
        ++st.route_batches;
        if (batch.reset)
          st.stale.erase(batch.neighbor);
        publish(self, batch);
      },
      [self](caf::connect_atom) { connect(self); },
      [self](sweep_atom, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation || st.stale.empty())
          return;
        spdlog::warn("bgp link: the speaker on node '{}' stayed away for {} s; dropping the "
                     "routes of {} neighbor(s)",
                     st.opts.node,
                     std::chrono::duration_cast<std::chrono::seconds>(st.opts.stale_time).count(),
                     st.stale.size());
        sweep(self);
      },
      [self](stats_atom) {
        auto& st = self->state;
        stats_snapshot s;
        s.stage = "bgp_link";
        s.counters = {{"bgp_link_connected", st.speaker ? 1u : 0u},
                      {"bgp_link_connects_total", st.connects},
                      {"bgp_link_connect_failures_total", st.connect_failures},
                      {"bgp_link_losses_total", st.losses},
                      {"bgp_link_route_batches_total", st.route_batches},
                      {"bgp_link_routes", st.rib.size()},
                      {"bgp_link_stale_neighbors", st.stale.size()},
                      {"bgp_link_stale_sweeps_total", st.stale_sweeps},
                      {"bgp_link_replicas", st.replicas.size()},
                      {"bgp_link_blackholes_sent_total", st.blackholes_sent},
                      {"bgp_link_blackholes_pending_total", st.blackholes_pending}};
        return std::vector<stats_snapshot>{std::move(s)};
      },
      [self](status_atom) {
        auto& st = self->state;
        role_status r;
        r.role = "bgp_link";
        r.actor_id = self->id();
        auto handle = caf::actor_cast<caf::actor>(st.speaker);
        r.children.push_back({"speaker@" + st.opts.node, handle, handle ? handle.id() : 0,
                              st.connects == 0 ? 0 : st.connects - 1});
        return r;
      },
  };
}

} // namespace tidewatch
