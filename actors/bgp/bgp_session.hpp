#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "actors/bgp/bgp_message.hpp"
#include "messages/bgp.hpp"

namespace tidewatch {

/// BGP FSM states (RFC 4271 §8.2.2) a passive session goes through once its
/// TCP connection is accepted.
enum class bgp_state : uint8_t { idle, open_sent, open_confirm, established };

/// "idle", "open_sent", "open_confirm", "established".
const char* to_string(bgp_state s);

/// What our side of a session says and expects.
struct bgp_session_settings {
  uint32_t local_as = 0;
  uint32_t router_id = 0;
  uint32_t remote_as = 0;      ///< the neighbor must open with this AS
  uint16_t hold_time = 90;     ///< seconds we propose; the smaller of both applies
  uint16_t restart_time = 120; ///< graceful restart time we advertise
};

/// One BGP session as a plain state machine: bytes and the clock go in,
/// bytes to send and route changes come out. No sockets, no threads, so
/// that tests and the fuzzer drive it directly.
class bgp_session {
public:
  bgp_session(const bgp_session_settings& settings, const ip_address& peer);

  /// The TCP connection is up: appends our OPEN to out.
  void connected(int64_t now_ms, std::vector<uint8_t>& out);
  /// Bytes from the peer. Appends replies to out and route changes to
  /// changes (in order: a withdrawal after an announcement starts a new
  /// batch). Returns false when the session is over (a NOTIFICATION was
  /// sent or received): send out, then close.
  bool receive(const uint8_t* data, size_t size, int64_t now_ms, std::vector<uint8_t>& out,
               std::vector<bgp_route_batch>& changes);
  /// Runs the timers: appends a KEEPALIVE when one is due; false (with a
  /// NOTIFICATION in out) when the hold timer expired.
  bool tick(int64_t now_ms, std::vector<uint8_t>& out);
  /// Ends the session with a Cease NOTIFICATION (RFC 4486 subcode).
  void close(uint8_t subcode, std::vector<uint8_t>& out);
  /// Announces (attributes non-null) or withdraws one of our routes: appends
  /// the UPDATE to out and keeps the route in our Adj-RIB-Out, which is
  /// re-sent when the peer asks with a ROUTE-REFRESH (RFC 2918). Does
  /// nothing before Established: the caller advertises its routes once the
  /// session is up.
  void advertise(const bgp_route& route, const bgp_path_attributes* attributes,
                 std::vector<uint8_t>& out);

  bgp_state state() const { return state_; }
  const ip_address& peer() const { return peer_; }
  /// The peer's OPEN (valid from open_confirm on).
  const bgp_open& peer_open() const { return peer_open_; }
  /// The negotiated hold time in seconds (0: no keepalives).
  uint16_t hold_time() const { return hold_time_; }
  /// The peer sent End-of-RIB for every family it negotiated.
  bool end_of_rib_complete() const;
  /// The NOTIFICATION that ended the session, sent or received.
  const bgp_error& last_error() const { return last_error_; }
  bool error_was_received() const { return error_received_; }

  // -- counters --
  uint64_t updates_received() const { return updates_; }
  uint64_t withdrawals_received() const { return withdrawals_; }
  uint64_t announcements_received() const { return announcements_; }
  uint64_t treated_as_withdraw() const { return treat_as_withdraw_; }
  uint64_t attributes_discarded() const { return discarded_; }
  /// ROUTE-REFRESH messages received while Established (answered or not).
  uint64_t route_refreshes_received() const { return refreshes_; }

private:
  bool handle(const bgp_header& header, const uint8_t* body, size_t size, int64_t now_ms,
              std::vector<uint8_t>& out, std::vector<bgp_route_batch>& changes);
  bool fail(bgp_error error, std::vector<uint8_t>& out);
  void add_update(std::vector<bgp_route_batch>& changes);
  /// Re-sends our Adj-RIB-Out routes of one family.
  void readvertise(bgp_family family, std::vector<uint8_t>& out) const;

  bgp_session_settings settings_;
  ip_address peer_;
  bgp_state state_ = bgp_state::idle;
  bgp_open peer_open_;
  bgp_update_options options_;
  std::array<bool, bgp_family_count> families_{};
  std::array<bool, bgp_family_count> end_of_rib_{};
  uint16_t hold_time_ = 0;
  int64_t last_received_ms_ = 0;
  int64_t last_sent_ms_ = 0;
  std::vector<uint8_t> buffer_;
  bgp_update update_;
  bgp_error last_error_;
  bool error_received_ = false;
  uint64_t updates_ = 0;
  uint64_t withdrawals_ = 0;
  uint64_t announcements_ = 0;
  uint64_t treat_as_withdraw_ = 0;
  uint64_t discarded_ = 0;
  uint64_t refreshes_ = 0;
  /// Our routes the peer was sent, by prefix (network, length).
  std::map<std::pair<ip_address, uint8_t>, bgp_path_attributes> adj_rib_out_;
};

} // namespace tidewatch
