#include "actors/bgp/bgp_session.hpp"

namespace tidewatch {

namespace {

/// Hold time while waiting for the peer's OPEN (RFC 4271 §8: "large value", 4 minutes).
constexpr int64_t open_hold_ms = 240'000;

} // namespace

const char* to_string(bgp_state s) {
  switch (s) {
  case bgp_state::idle:
    return "idle";
  case bgp_state::open_sent:
    return "open_sent";
  case bgp_state::open_confirm:
    return "open_confirm";
  case bgp_state::established:
    return "established";
  }
  return "idle";
}

bgp_session::bgp_session(const bgp_session_settings& settings, const ip_address& peer)
    : settings_(settings), peer_(peer) {}

void bgp_session::connected(int64_t now_ms, std::vector<uint8_t>& out) {
  bgp_open open;
  open.as = settings_.local_as;
  open.hold_time = settings_.hold_time;
  open.router_id = settings_.router_id;
  open.four_octet_as = true;
  open.route_refresh = true;
  open.families = {true, true};
  open.any_family_capability = true;
  open.add_path = {1, 1}; // we receive path identifiers for both families
  open.graceful_restart = true;
  open.restart_time = settings_.restart_time;
  encode_open(open, out);
  state_ = bgp_state::open_sent;
  last_received_ms_ = last_sent_ms_ = now_ms;
}

bool bgp_session::fail(bgp_error error, std::vector<uint8_t>& out) {
  encode_notification(error, out);
  last_error_ = std::move(error);
  error_received_ = false;
  state_ = bgp_state::idle;
  return false;
}

void bgp_session::close(uint8_t subcode, std::vector<uint8_t>& out) {
  fail(bgp_error{bgp_error_code::cease, subcode, {}}, out);
}

bool bgp_session::end_of_rib_complete() const {
  for (size_t f = 0; f < bgp_family_count; ++f)
    if (families_[f] && !end_of_rib_[f])
      return false;
  return true;
}

bool bgp_session::receive(const uint8_t* data, size_t size, int64_t now_ms,
                          std::vector<uint8_t>& out, std::vector<bgp_route_batch>& changes) {
  if (state_ == bgp_state::idle)
    return false;
  buffer_.insert(buffer_.end(), data, data + size);
  size_t pos = 0;
  bool alive = true;
  while (alive && buffer_.size() - pos >= bgp_header_size) {
    bgp_header header;
    if (auto err = parse_header(buffer_.data() + pos, header)) {
      alive = fail(std::move(err), out);
      break;
    }
    if (buffer_.size() - pos < header.length)
      break;
    last_received_ms_ = now_ms;
    alive = handle(header, buffer_.data() + pos + bgp_header_size, header.length - bgp_header_size,
                   now_ms, out, changes);
    pos += header.length;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + std::ptrdiff_t(pos));
  return alive;
}

bool bgp_session::handle(const bgp_header& header, const uint8_t* body, size_t size, int64_t now_ms,
                         std::vector<uint8_t>& out, std::vector<bgp_route_batch>& changes) {
  const bgp_error fsm_error{bgp_error_code::fsm, 0, {}};
  switch (header.type) {
  case bgp_message_type::open: {
    if (state_ != bgp_state::open_sent)
      return fail(fsm_error, out);
    if (auto err = parse_open(body, size, peer_open_))
      return fail(std::move(err), out);
    if (peer_open_.as != settings_.remote_as) // RFC 4271 §6.2 "Bad Peer AS"
      return fail(bgp_error{bgp_error_code::open, 2, {}}, out);
    if (peer_open_.router_id == settings_.router_id)
      return fail(bgp_error{bgp_error_code::open, 3, {}}, out);
    hold_time_ = std::min(peer_open_.hold_time, settings_.hold_time);
    options_.four_octet_as = peer_open_.four_octet_as;
    for (size_t f = 0; f < bgp_family_count; ++f) {
      families_[f] = peer_open_.families[f];
      options_.add_path[f] = (peer_open_.add_path[f] & 2) != 0; // the peer sends path ids
    }
    end_of_rib_ = {};
    encode_keepalive(out);
    last_sent_ms_ = now_ms;
    state_ = bgp_state::open_confirm;
    return true;
  }
  case bgp_message_type::keepalive:
    if (state_ == bgp_state::open_confirm)
      state_ = bgp_state::established;
    else if (state_ != bgp_state::established)
      return fail(fsm_error, out);
    return true;
  case bgp_message_type::update: {
    if (state_ != bgp_state::established)
      return fail(fsm_error, out);
    parse_update(body, size, options_, update_);
    if (update_.outcome == bgp_update_outcome::session_reset)
      return fail(update_.error, out);
    ++updates_;
    if (update_.outcome == bgp_update_outcome::treat_as_withdraw)
      ++treat_as_withdraw_;
    discarded_ += update_.discarded;
    if (update_.end_of_rib)
      end_of_rib_[size_t(update_.end_of_rib_family)] = true;
    add_update(changes);
    return true;
  }
  case bgp_message_type::notification:
    last_error_ = parse_notification(body, size);
    error_received_ = true;
    state_ = bgp_state::idle;
    return false;
  case bgp_message_type::route_refresh: {
    if (state_ != bgp_state::established)
      return fail(fsm_error, out);
    ++refreshes_;
    // RFC 2918: a request for a family that was not negotiated is ignored.
    bgp_family family;
    if (parse_route_refresh(body, size, family) && families_[size_t(family)])
      readvertise(family, out);
    return true;
  }
  }
  return true;
}

void bgp_session::add_update(std::vector<bgp_route_batch>& changes) {
  if (update_.withdrawn.empty() && update_.announced.empty())
    return;
  if (changes.empty() || (!update_.withdrawn.empty() && !changes.back().announced.empty())) {
    changes.emplace_back();
    changes.back().neighbor = peer_;
  }
  auto& batch = changes.back();
  withdrawals_ += update_.withdrawn.size();
  announcements_ += update_.announced.size();
  batch.withdrawn.insert(batch.withdrawn.end(), update_.withdrawn.begin(), update_.withdrawn.end());
  if (update_.announced.empty())
    return;
  uint32_t index = uint32_t(batch.attributes.size());
  batch.attributes.push_back(update_.attributes);
  for (auto r : update_.announced) {
    r.attributes = index;
    batch.announced.push_back(r);
  }
}

void bgp_session::advertise(const bgp_route& route, const bgp_path_attributes* attributes,
                            std::vector<uint8_t>& out) {
  if (state_ != bgp_state::established)
    return;
  std::pair key{route.network, route.length};
  if (attributes)
    adj_rib_out_[key] = *attributes;
  else
    adj_rib_out_.erase(key);
  encode_update({route}, attributes, false, out);
}

void bgp_session::readvertise(bgp_family family, std::vector<uint8_t>& out) const {
  for (auto& [key, attributes] : adj_rib_out_)
    if (key.first.is_v4() == (family == bgp_family::ipv4))
      encode_update({{key.first, key.second, 0, 0}}, &attributes, false, out);
}

bool bgp_session::tick(int64_t now_ms, std::vector<uint8_t>& out) {
  if (state_ == bgp_state::idle)
    return false;
  int64_t hold_ms = state_ == bgp_state::open_sent ? open_hold_ms : int64_t(hold_time_) * 1000;
  if (hold_ms > 0 && now_ms - last_received_ms_ >= hold_ms)
    return fail(bgp_error{bgp_error_code::hold_timer_expired, 0, {}}, out);
  if (state_ != bgp_state::open_sent && hold_time_ > 0 &&
      now_ms - last_sent_ms_ >= int64_t(hold_time_) * 1000 / 3) {
    encode_keepalive(out);
    last_sent_ms_ = now_ms;
  }
  return true;
}

} // namespace tidewatch
