#include "actors/bgp/bgp_speaker_actor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/bgp/bgp_rib.hpp"
#include "actors/bgp/bgp_session.hpp"
#include "messages/error.hpp"

namespace tidewatch {

namespace {

/// Cease subcodes (RFC 4486).
constexpr uint8_t cease_administrative_shutdown = 2;
constexpr uint8_t cease_connection_rejected = 5;

/// Routes per batch when a replica is sent a neighbor's full table.
constexpr size_t snapshot_batch_routes = 16'384;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Writes all of `bytes` (blocking); false when the connection is gone.
bool write_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += size_t(n);
  }
  return true;
}

/// The address of a socket peer, IPv4-mapped addresses as IPv4.
ip_address peer_address(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) {
    auto& in = reinterpret_cast<const sockaddr_in&>(sa);
    return ip_address::from_v4_bytes(reinterpret_cast<const uint8_t*>(&in.sin_addr));
  }
  auto& in6 = reinterpret_cast<const sockaddr_in6&>(sa);
  return ip_address::from_v6_bytes(reinterpret_cast<const uint8_t*>(&in6.sin6_addr));
}

/// A listening TCP socket on address:port, or -1 (errno set).
int listen_on(const ip_address& address, uint16_t port) {
  bool v4 = address.is_v4();
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage sa{};
  socklen_t len;
  if (v4) {
    auto& in = reinterpret_cast<sockaddr_in&>(sa);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    std::memcpy(&in.sin_addr, address.bytes.data() + 12, 4);
    len = sizeof in;
  } else {
    int zero = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    auto& in6 = reinterpret_cast<sockaddr_in6&>(sa);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, address.bytes.data(), 16);
    len = sizeof in6;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, 64) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

/// Whether a blocking actor's mailbox asks it to stop; handles other messages with `other`.
template <class... Handlers> bool stop_requested(caf::blocking_actor* self, Handlers... other) {
  bool stop = false;
  while (!stop && !self->mailbox().empty())
    self->receive([&](caf::exit_msg&) { stop = true; }, other...);
  return stop;
}

/// Accepts connections on its own thread and hands them to the speaker.
void bgp_acceptor(caf::blocking_actor* self, int listen_fd, bgp_speaker_actor speaker) {
  while (!stop_requested(self)) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    self->send(speaker, accept_atom::value, fd, peer_address(sa));
  }
  ::close(listen_fd);
}

/// What a session actor is given.
struct session_setup {
  bgp_session_settings settings;
  ip_address peer;
  ip_address next_hop_v4; ///< of announced blackholes
  ip_address next_hop_v6;
};

/// One BGP session on its own thread: reads the socket, runs the state
/// machine and its timers, sends route changes and status to the speaker,
/// and writes blackhole announcements the speaker forwards.
void bgp_session_loop(caf::blocking_actor* self, int fd, session_setup setup,
                      bgp_speaker_actor speaker) {
  bgp_session session(setup.settings, setup.peer);
  std::vector<uint8_t> out;
  std::vector<bgp_route_batch> changes;
  session.connected(now_ms(), out);
  bool alive = write_all(fd, out);
  bool ended_by_us = false;
  bool was_established = false;
  bool swept = false;
  bgp_neighbor_status status;
  status.address = setup.peer;
  status.remote_as = setup.settings.remote_as;
  int64_t last_status_ms = 0;
  std::vector<uint8_t> buffer(65536);
  auto announce = [&](const blackhole_route& b) {
    bool v4 = b.address.is_v4();
    bgp_path_attributes a;
    a.origin = 0;
    a.segments = {uint16_t(uint16_t(as_segment_type::sequence) << 8 | 1)};
    a.as_path = {setup.settings.local_as};
    a.next_hop = v4 ? setup.next_hop_v4 : setup.next_hop_v6;
    a.communities = b.communities;
    std::vector<uint8_t> wire;
    session.advertise({b.address, uint8_t(v4 ? 32 : 128), 0, 0}, b.announce ? &a : nullptr, wire);
    if (!wire.empty() && !write_all(fd, wire))
      alive = false;
  };
  while (alive) {
    if (stop_requested(self, [&](const blackhole_route& b) { announce(b); })) {
      out.clear();
      session.close(cease_administrative_shutdown, out);
      write_all(fd, out);
      ended_by_us = true;
      break;
    }
    out.clear();
    changes.clear();
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0 && !(n < 0 && errno == EINTR)) {
        alive = false;
      } else if (n > 0) {
        alive = session.receive(buffer.data(), size_t(n), now_ms(), out, changes);
      }
    }
    if (alive)
      alive = session.tick(now_ms(), out);
    if (!out.empty() && !write_all(fd, out))
      alive = false;
    for (auto& batch : changes)
      self->send(speaker, std::move(batch));
    if (!swept && session.state() == bgp_state::established && session.end_of_rib_complete()) {
      // The neighbor re-sent its whole table: what is still stale is gone.
      swept = true;
      bgp_route_batch sweep;
      sweep.neighbor = setup.peer;
      sweep.sweep_stale = true;
      self->send(speaker, std::move(sweep));
    }
    auto state = to_string(session.state());
    int64_t t = now_ms();
    if (state != status.state || t - last_status_ms >= 1000 || !alive) {
      if (session.state() == bgp_state::established && status.state != "established") {
        status.established_us = wall_us();
        was_established = true;
      }
      status.state = alive ? state : "idle";
      status.router_id = session.peer_open().router_id;
      status.updates_received = session.updates_received();
      status.withdrawals_received = session.withdrawals_received();
      status.route_refreshes_received = session.route_refreshes_received();
      if (!alive)
        status.established_us = 0;
      self->send(speaker, status);
      last_status_ms = t;
    }
  }
  ::close(fd);
  const auto& err = session.last_error();
  if (err)
    spdlog::warn("bgp: session with {} ended: NOTIFICATION {}/{} {}", setup.peer.to_string(),
                 err.code, err.subcode, session.error_was_received() ? "received" : "sent");
  else
    spdlog::info("bgp: session with {} ended (connection closed)", setup.peer.to_string());
  // RFC 4724: routes of a neighbor that can restart gracefully outlive a
  // connection that dropped without a NOTIFICATION.
  bool graceful = !ended_by_us && !err && session.peer_open().graceful_restart && was_established;
  self->send(speaker, session_end_atom::value, setup.peer, graceful,
             uint32_t(session.peer_open().restart_time) * 1000);
}

/// One configured neighbor as the speaker tracks it.
struct neighbor_entry {
  bgp_neighbor_config config;
  bgp_neighbor_status status;
  caf::actor session;      ///< the current session, if any
  uint64_t generation = 0; ///< bumped per session, to ignore late sweep timers
};

struct bgp_speaker_state {
  bgp_config config;
  bgp_rib rib;
  std::map<ip_address, neighbor_entry> neighbors;
  std::map<ip_address, blackhole_route> blackholes;
  std::vector<bgp_replica_actor> replicas;
  caf::actor acceptor;
  static inline const char* name = "bgp_speaker";

  /// Applies a batch and forwards it to every replica.
  void publish(bgp_speaker_actor::stateful_pointer<bgp_speaker_state> self,
               const bgp_route_batch& batch) {
    rib.apply(batch);
    for (auto& r : replicas)
      self->send(r, batch);
  }

  /// The neighbor a message from `sender` is about, when it is that neighbor's current session.
  neighbor_entry* current(const ip_address& address, const caf::strong_actor_ptr& sender) {
    auto it = neighbors.find(address);
    if (it == neighbors.end() || !it->second.session ||
        caf::actor_cast<caf::strong_actor_ptr>(it->second.session) != sender)
      return nullptr;
    return &it->second;
  }

  /// Forgets a neighbor's routes (its session is gone and it cannot restart gracefully).
  void reset(bgp_speaker_actor::stateful_pointer<bgp_speaker_state> self,
             const ip_address& address) {
    bgp_route_batch b;
    b.neighbor = address;
    b.reset = true;
    publish(self, b);
  }
};

bgp_speaker_actor::behavior_type
bgp_speaker(bgp_speaker_actor::stateful_pointer<bgp_speaker_state> self, bgp_config cfg) {
  auto& st = self->state;
  st.config = cfg;
  for (auto& n : cfg.neighbors) {
    ip_address a;
    ip_address::parse(n.address, a);
    auto& e = st.neighbors[a];
    e.config = n;
    e.status.address = a;
    e.status.remote_as = n.remote_as;
    e.status.state = "idle";
  }
  ip_address listen_address;
  ip_address::parse(cfg.address, listen_address);
  int fd = listen_on(listen_address, cfg.port);
  if (fd < 0) {
    spdlog::error("bgp: cannot listen on [{}]:{}: {}", cfg.address, cfg.port, std::strerror(errno));
    self->quit(
        make_error(ec::cannot_listen, "bgp " + cfg.address + ":" + std::to_string(cfg.port)));
    return bgp_speaker_actor::behavior_type::make_empty_behavior();
  }
  spdlog::info("bgp: listening on [{}]:{} as AS{} with {} neighbor(s)", cfg.address, cfg.port,
               cfg.local_as, cfg.neighbors.size());
  st.acceptor = self->spawn<caf::linked>(bgp_acceptor, fd, bgp_speaker_actor{self});
  // Sessions are linked: one that fails (a bug) ends as a session that
  // dropped; the router reconnects and gets a fresh one. The acceptor failing
  // ends the speaker.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& [address, n] : st.neighbors)
      if (n.session && n.session.address() == msg.source) {
        if (msg.reason && msg.reason != caf::exit_reason::normal)
          spdlog::error("bgp: session with {} failed: {}", address.to_string(),
                        self->system().render(msg.reason));
        n.session = nullptr;
        n.status.state = "idle";
        n.status.established_us = 0;
        st.reset(self, address);
        return;
      }
    // A session that ended normally already reported its end.
    if (msg.reason == caf::exit_reason::normal && msg.source != st.acceptor.address())
      return;
    // Shutdown (or the acceptor failed): the sessions and the acceptor follow.
    for (auto& [address, n] : st.neighbors)
      if (n.session)
        self->send_exit(n.session, msg.reason);
    self->send_exit(st.acceptor, msg.reason);
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& rs = self->state.replicas;
    rs.erase(std::remove_if(rs.begin(), rs.end(),
                            [&](const bgp_replica_actor& r) { return r.address() == msg.source; }),
             rs.end());
  });
  return {
      [self](bgp_route_batch& batch) {
        if (auto* n = self->state.current(batch.neighbor, self->current_sender())) {
          batch.router_id = n->status.router_id;
          self->state.publish(self, batch);
        }
      },
      [self](bgp_neighbor_status& status) {
        auto* n = self->state.current(status.address, self->current_sender());
        if (!n)
          return;
        bool up = status.state == "established" && n->status.state != "established";
        n->status = status;
        if (up) {
          spdlog::info("bgp: session with {} (AS{}) established", status.address.to_string(),
                       status.remote_as);
          if (n->config.announce_blackhole)
            for (auto& [address, b] : self->state.blackholes)
              caf::anon_send(n->session, b);
        }
      },
      [self](session_end_atom, const ip_address& address, bool graceful, uint32_t restart_ms) {
        auto* n = self->state.current(address, self->current_sender());
        if (!n)
          return;
        n->session = nullptr;
        n->status.state = "idle";
        n->status.established_us = 0;
        if (!graceful)
          return self->state.reset(self, address);
        spdlog::info("bgp: {} may restart gracefully: its routes stay for {} ms",
                     address.to_string(), restart_ms);
        bgp_route_batch b;
        b.neighbor = address;
        b.mark_stale = true;
        self->state.publish(self, b);
        self->delayed_send(self, std::chrono::milliseconds(restart_ms), sweep_atom::value, address,
                           n->generation);
      },
      [self](sweep_atom, const ip_address& address, uint64_t generation) {
        auto it = self->state.neighbors.find(address);
        // Only when no session came back since (a new one sweeps at its End-of-RIB).
        if (it == self->state.neighbors.end() || it->second.generation != generation ||
            it->second.session)
          return;
        bgp_route_batch b;
        b.neighbor = address;
        b.sweep_stale = true;
        self->state.publish(self, b);
      },
      [self](accept_atom, int fd, const ip_address& peer) {
        auto& st = self->state;
        auto it = st.neighbors.find(peer);
        if (it == st.neighbors.end()) {
          spdlog::warn("bgp: refused a connection from {}: not a configured neighbor",
                       peer.to_string());
          std::vector<uint8_t> wire;
          encode_notification(bgp_error{bgp_error_code::cease, cease_connection_rejected, {}},
                              wire);
          write_all(fd, wire);
          ::close(fd);
          return;
        }
        auto& n = it->second;
        if (n.session) {
          // A new connection from a neighbor we think is up: the old one is dead.
          self->send_exit(n.session, caf::exit_reason::user_shutdown);
          n.session = nullptr;
          st.reset(self, peer);
        }
        ++n.generation;
        session_setup setup;
        setup.settings.local_as = st.config.local_as;
        ip_address id;
        ip_address::parse(st.config.router_id, id);
        setup.settings.router_id = id.v4_host_order();
        setup.settings.remote_as = n.config.remote_as;
        setup.settings.hold_time = uint16_t(st.config.hold_time.count() / 1000);
        setup.settings.restart_time = uint16_t(st.config.restart_time.count() / 1000);
        setup.peer = peer;
        ip_address::parse(st.config.blackhole_next_hop, setup.next_hop_v4);
        ip_address::parse(st.config.blackhole_next_hop_v6, setup.next_hop_v6);
        n.session = self->spawn<caf::linked>(bgp_session_loop, fd, setup, bgp_speaker_actor{self});
        n.status.state = "open_sent";
      },
      [self](blackhole_route& b) {
        auto& st = self->state;
        if (b.announce)
          st.blackholes[b.address] = b;
        else
          st.blackholes.erase(b.address);
        spdlog::info("bgp: {} blackhole {}", b.announce ? "announcing" : "withdrawing",
                     b.address.to_string());
        for (auto& [address, n] : st.neighbors)
          if (n.session && n.config.announce_blackhole)
            caf::anon_send(n.session, b);
      },
      [self](subscribe_atom, bgp_replica_actor& replica) {
        auto& st = self->state;
        self->monitor(replica);
        for (auto& address : st.rib.neighbor_addresses()) {
          auto n = st.neighbors.find(address);
          uint32_t router_id = n == st.neighbors.end() ? 0 : n->second.status.router_id;
          st.rib.snapshot(address, snapshot_batch_routes, [&](bgp_route_batch&& b) {
            b.router_id = router_id;
            self->send(replica, std::move(b));
          });
        }
        st.replicas.push_back(replica);
      },
      [self](stats_atom) {
        // Per neighbor, for /metrics and `tidewatch stats` (the inspector
        // asks every registered role).
        stats_snapshot s;
        s.pipeline = "bgp";
        s.stage = "bgp_speaker";
        for (auto& [address, n] : self->state.neighbors) {
          auto label = "{neighbor=\"" + address.to_string() + "\"}";
          auto* rib = self->state.rib.neighbor(address);
          s.counters.push_back({"bgp_established" + label, n.status.established_us != 0});
          s.counters.push_back({"bgp_prefixes" + label, rib ? rib->size() : 0});
          s.counters.push_back({"bgp_updates_received_total" + label, n.status.updates_received});
          s.counters.push_back(
              {"bgp_withdrawals_received_total" + label, n.status.withdrawals_received});
          s.counters.push_back(
              {"bgp_route_refreshes_received_total" + label, n.status.route_refreshes_received});
        }
        s.counters.push_back({"bgp_blackholes_active", self->state.blackholes.size()});
        return std::vector<stats_snapshot>{std::move(s)};
      },
      [self](status_atom) {
        role_status s;
        s.role = "bgp";
        s.actor_id = self->id();
        return s;
      },
      [self](neighbors_atom) {
        std::vector<bgp_neighbor_status> out;
        for (auto& [address, n] : self->state.neighbors) {
          out.push_back(n.status);
          auto* rib = self->state.rib.neighbor(address);
          out.back().prefixes = rib ? rib->size() : 0;
        }
        return out;
      },
      [self](lookup_atom, const ip_address& a, const std::string& neighbor) {
        auto& rib = self->state.rib;
        bgp_route_report report;
        ip_address wanted;
        bool any = neighbor.empty() || !ip_address::parse(neighbor, wanted);
        for (auto& address : rib.neighbor_addresses()) {
          if (!any && address != wanted)
            continue;
          auto m = rib.lookup(rib.neighbor(address), a);
          if (!m.attributes)
            continue;
          report.found = true;
          report.neighbor = address;
          report.length = m.length;
          report.path_id = m.path_id;
          report.attributes = m.attributes->attributes;
          report.network = a;
          // Clear the host bits to report the matched prefix.
          size_t first = a.is_v4() ? 12 : 0;
          unsigned bits = m.length;
          for (size_t i = first; i<16; ++i, bits = bits> 8 ? bits - 8 : 0)
            report.network.bytes[i] &= bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
          break;
        }
        return report;
      },
  };
}

} // namespace

bgp_speaker_actor spawn_bgp_speaker(caf::actor_system& sys, const bgp_config& cfg) {
  return sys.spawn(bgp_speaker, cfg);
}

} // namespace tidewatch
