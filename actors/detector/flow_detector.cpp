#include "actors/detector/flow_detector.hpp"

#include <algorithm>
#include <cmath>

namespace tidewatch {

namespace {

std::string prefix_text(const ip_prefix& p) {
  unsigned length = p.network.is_v4() ? unsigned(p.length) - 96 : p.length;
  return p.network.to_string() + "/" + std::to_string(length);
}

std::string host_text(const ip_address& a) {
  return a.to_string() + (a.is_v4() ? "/32" : "/128");
}

/// The directions a record of `scope` counts in: bit 0 incoming (for its
/// destination), bit 1 outgoing (for its source), the latter only when
/// outgoing attacks are watched. The scopes' values make this a mask:
/// inbound 1, outbound 2, internal 3; unknown 0 and external 4 none.
uint8_t directions_of(traffic_scope scope, bool outgoing) {
  static_assert(uint8_t(traffic_scope::inbound) == 1 && uint8_t(traffic_scope::outbound) == 2 &&
                uint8_t(traffic_scope::internal) == 3 &&
                (uint8_t(traffic_scope::external) & 3) == 0);
  return uint8_t(uint8_t(scope) & (outgoing ? 3 : 1));
}

} // namespace

flow_detector::flow_detector(detector_settings settings)
    : settings_(std::move(settings)), hosts_(settings_.max_hosts) {
  if (settings_.bucket_us <= 0)
    settings_.bucket_us = 1'000'000;
  build_tables({}, {});
  ring_.resize(std::max<size_t>(settings_.recent_records, 1));
}

void flow_detector::build_tables(const std::vector<std::string>& previous_names,
                                 std::vector<group_state> previous) {
  groups_by_prefix_ = prefix_table{};
  whitelist_ = prefix_table{};
  groups_.clear();
  for (size_t i = 0; i < settings_.hostgroups.size(); ++i) {
    auto& g = settings_.hostgroups[i];
    group_state state;
    for (size_t j = 0; j < previous.size(); ++j)
      if (previous_names[j] == g.name) {
        state.fast = previous[j].fast;
        state.window = previous[j].window;
      }
    if (!g.prefixes.empty()) {
      state.address = g.prefixes.front().network;
      state.prefix_text = prefix_text(g.prefixes.front());
    }
    groups_.push_back(std::move(state));
    for (auto& p : g.prefixes)
      groups_by_prefix_.add(p, uint32_t(i + 1));
  }
  groups_by_prefix_.build();
  for (auto& p : settings_.whitelist)
    whitelist_.add(p, 1);
  whitelist_.build();
}

void flow_detector::reconfigure(detector_settings settings) {
  settings.bucket_us = settings_.bucket_us;
  settings.max_hosts = settings_.max_hosts;
  settings.recent_records = settings_.recent_records;
  std::vector<std::string> old_names;
  for (auto& g : settings_.hostgroups)
    old_names.push_back(g.name);
  settings_ = std::move(settings);
  build_tables(old_names, std::move(groups_));
  auto new_index = [&](int old) {
    if (old < 0)
      return -1;
    for (size_t i = 0; i < settings_.hostgroups.size(); ++i)
      if (settings_.hostgroups[i].name == old_names[size_t(old)])
        return int(i);
    return -1;
  };
  // A group attack follows its group by name; a removed group's attack has
  // no window left and ends by the end_after rule.
  for (auto& a : active_)
    if (a->report.group_attack)
      a->group = new_index(a->group);
  // Headroom was taken under the old limits: every window checks at its next
  // record (settled first, so that what the old headroom took stays counted).
  auto renew = [](fast_window& f, rate_window& w) {
    w.settle(f);
    f.room = {};
    w.resume(f);
  };
  for (size_t i = 0; i < hosts_.size(); ++i) {
    auto group = uint16_t(groups_by_prefix_.lookup(hosts_.address(i)));
    bool whitelisted = whitelist_.lookup(hosts_.address(i)) != prefix_table::no_match;
    for (size_t dir = 0; dir < 2; ++dir) {
      auto& line = hosts_.lines(i)[dir];
      line.group = group;
      line.whitelisted = whitelisted;
      renew(line.fast, hosts_.windows(i)[dir]);
    }
  }
  for (auto& g : groups_)
    for (size_t dir = 0; dir < 2; ++dir)
      renew(g.fast[dir], g.window[dir]);
  for (auto& s : ring_) {
    if (s.received_us == 0)
      continue;
    uint8_t dirs = directions_of(s.scope, settings_.outgoing);
    bool in = dirs & 1;
    bool out = dirs & 2;
    s.dst_group = in ? uint16_t(groups_by_prefix_.lookup(s.dst_addr)) : 0;
    s.src_group = out ? uint16_t(groups_by_prefix_.lookup(s.src_addr)) : 0;
  }
}

void flow_detector::add(const flow_batch& batch, int64_t now_us,
                        std::vector<attack_event>& events) {
  auto& records = batch.records;
  records_ += records.size();
  const bool outgoing = settings_.outgoing;
  // Software-pipelined group prefetching over groups of records: while
  // group k is counted, the entries of group k + 1 (whose index slots are
  // in cache by now) and the index slots of group k + 2 are being loaded,
  // so the misses of two groups are in flight at any time. The lookups of
  // a group (up to two per record, in record order) are listed once.
  size_t groups = (records.size() + prefetch_window - 1) / prefetch_window;
  std::array<size_t, 3> listed{};
  auto hash_and_prefetch_slots = [&](size_t k) {
    if (k >= groups)
      return;
    size_t first = (k % 3) * 2 * prefetch_window;
    size_t n = first;
    size_t end = std::min((k + 1) * prefetch_window, records.size());
    for (size_t i = k * prefetch_window; i < end; ++i) {
      auto& r = records[i];
      uint8_t dirs = directions_of(r.scope, outgoing);
      for (size_t dir = 0; dir < 2; ++dir)
        if (dirs & (1u << dir)) {
          hashes_[n] = host_table::hash(dir == 0 ? r.dst_addr : r.src_addr);
          hosts_.prefetch_slot(hashes_[n]);
          lookup_dirs_[n] = uint8_t(dir);
          ++n;
        }
    }
    listed[k % 3] = n - first;
  };
  auto find_candidates = [&](size_t k) {
    if (k >= groups)
      return;
    size_t first = (k % 3) * 2 * prefetch_window;
    for (size_t n = first; n < first + listed[k % 3]; ++n)
      candidates_[n] = hosts_.candidate(hashes_[n], lookup_dirs_[n]);
  };
  int64_t last_t = now_us;
  hash_and_prefetch_slots(0);
  hash_and_prefetch_slots(1);
  find_candidates(0);
  for (size_t k = 0; k < groups; ++k) {
    hash_and_prefetch_slots(k + 2);
    find_candidates(k + 1);
    size_t lookup = (k % 3) * 2 * prefetch_window;
    size_t end = std::min((k + 1) * prefetch_window, records.size());
    for (size_t i = k * prefetch_window; i < end; ++i) {
      auto& r = records[i];
      uint8_t dirs = directions_of(r.scope, outgoing);
      if (dirs == 0) {
        ++records_not_ours_;
        continue;
      }
      int64_t t = r.received_us != 0 ? r.received_us : now_us;
      last_t = t;
      auto& s = sample(r, t, dirs);
      int64_t b = bucket_of(t);
      uint8_t mask = kinds_of(s.ip_protocol, s.tcp_flags, s.is_fragment);
      if (dirs & 1) {
        count(s, t, b, mask, r.dst_addr, hashes_[lookup], candidates_[lookup], 0);
        ++lookup;
      }
      if (dirs & 2) {
        count(s, t, b, mask, r.src_addr, hashes_[lookup], candidates_[lookup], 1);
        ++lookup;
      }
    }
  }
  if (active_.empty())
    return;
  // Attacks report their rates as of the end of the batch, the ones that
  // started in it too: their ban events carry the whole batch's evidence.
  refresh_rates(last_t);
  for (auto id : started_) {
    auto* a = find_attack(id);
    attack_event ev{attack_event_kind::ban, a->report};
    a->signature.fill(ev.report);
    events.push_back(std::move(ev));
  }
  started_.clear();
}

inline const flow_sample& flow_detector::sample(const flow_record& r, int64_t t, uint8_t dirs) {
  flow_sample& s = ring_[ring_next_];
  ring_next_ = ring_next_ + 1 == ring_.size() ? 0 : ring_next_ + 1;
  s.src_addr = r.src_addr;
  s.dst_addr = r.dst_addr;
  s.received_us = t;
  s.packets = r.packets;
  s.bytes = r.bytes;
  // A flow longer than a bucket counts with its average rate over a bucket.
  if (r.flow_start_us != 0 && r.flow_end_us - r.flow_start_us > settings_.bucket_us)
    spread(s, r.flow_end_us - r.flow_start_us);
  s.src_as = r.src_as;
  s.src_port = r.src_port;
  s.dst_port = r.dst_port;
  s.src_country = r.src_country;
  s.ip_protocol = r.ip_protocol;
  s.tcp_flags = r.tcp_flags;
  s.is_fragment = r.is_fragment;
  s.scope = r.scope;
  s.dst_group = 0;
  s.src_group = 0;
  if (!groups_.empty()) {
    if (dirs & 1)
      s.dst_group = uint16_t(groups_by_prefix_.lookup(r.dst_addr));
    if (dirs & 2)
      s.src_group = uint16_t(groups_by_prefix_.lookup(r.src_addr));
  }
  return s;
}

void flow_detector::spread(flow_sample& s, int64_t duration_us) const {
  // At least one packet: a small long flow still shows its kind.
  double share = double(settings_.bucket_us) / double(duration_us);
  s.packets = s.packets == 0 ? 0 : std::max<uint64_t>(1, std::llround(double(s.packets) * share));
  s.bytes = uint64_t(std::llround(double(s.bytes) * share));
}

int64_t flow_detector::bucket_of(int64_t t) {
  // Records arrive in time order, so most fall into the bucket of the one
  // before: a comparison instead of a 64-bit division.
  if (t - bucket_start_ >= settings_.bucket_us || t < bucket_start_) {
    bucket_ = t / settings_.bucket_us;
    bucket_start_ = bucket_ * settings_.bucket_us;
  }
  return bucket_;
}

void flow_detector::refresh_rates(int64_t now_us) {
  for (auto& a : active_) {
    auto& r = a->report;
    auto* w = window_of(*a);
    if (w == nullptr)
      continue;
    // Nothing is pending in an attacked window: without headroom, every
    // record goes the slow way, which settles.
    rates(*w, kind_counts{}, now_us, r.current_pps, r.current_bps, r.current_flows);
    r.peak_pps = std::max(r.peak_pps, r.current_pps);
    r.peak_bps = std::max(r.peak_bps, r.current_bps);
    r.peak_flows = std::max(r.peak_flows, r.current_flows);
  }
}

inline void flow_detector::count(const flow_sample& s, int64_t t, int64_t b, uint8_t mask,
                                 const ip_address& host, uint64_t hash, size_t candidate,
                                 size_t dir) {
  size_t i = candidate;
  if (i == host_table::npos || !host_table::same(hosts_.lines(i)[dir].address, host)) {
    i = find_or_track(host, hash, dir, dir == 0 ? s.dst_group : s.src_group);
    if (i == host_table::npos)
      return;
  }
  auto& line = hosts_.lines(i)[dir];
  uint16_t group = line.group;
  if (!line.fast.take(b, mask, s.packets, s.bytes)) {
    static const std::vector<rate_limit> no_limits;
    auto& limits = line.whitelisted ? no_limits
                   : group != 0 && !settings_.hostgroups[group - 1].host_limits.empty()
                       ? settings_.hostgroups[group - 1].host_limits
                       : settings_.limits;
    count_slowly(line.fast, hosts_.windows(i)[dir], dir, b, mask, s, limits, t, host,
                 int(group) - 1, false);
  }
  if (group == 0)
    return;
  auto& g = groups_[group - 1];
  if (!g.fast[dir].take(b, mask, s.packets, s.bytes))
    count_slowly(g.fast[dir], g.window[dir], dir, b, mask, s,
                 settings_.hostgroups[group - 1].group_limits, t, g.address, int(group) - 1, true);
}

size_t flow_detector::find_or_track(const ip_address& host, uint64_t hash, size_t dir,
                                    uint16_t group) {
  bool fresh = false;
  size_t i = hosts_.find_or_insert_hashed(host, hash, dir, fresh);
  if (i == host_table::npos) {
    ++hosts_not_tracked_;
    return i;
  }
  if (fresh) {
    bool whitelisted = whitelist_.lookup(host) != prefix_table::no_match;
    for (auto& l : hosts_.lines(i)) {
      l.group = group;
      l.whitelisted = whitelisted;
    }
  }
  return i;
}

void flow_detector::count_slowly(fast_window& f, rate_window& w, size_t dir, int64_t b,
                                 uint8_t mask, const flow_sample& s,
                                 const std::vector<rate_limit>& limits, int64_t t,
                                 const ip_address& host, int group, bool group_attack) {
  w.settle(f);
  w.roll(b, uint32_t(std::clamp<int64_t>(t - b * settings_.bucket_us, 0, settings_.bucket_us - 1)));
  w.add(mask, s.packets, s.bytes);
  if (!f.room.take(s.packets, s.bytes))
    recheck(w, f, dir, s, limits, t, host, group, group_attack);
  w.resume(f);
}

void flow_detector::recheck(rate_window& w, fast_window& f, size_t dir, const flow_sample& s,
                            const std::vector<rate_limit>& limits, int64_t t,
                            const ip_address& host, int group, bool group_attack) {
  if (w.attack != 0)
    if (auto* a = find_attack(w.attack))
      a->signature.add(s);
  if (!limits.empty())
    check(w, dir, limits, t, host, group, group_attack);
  // Under attack, every record goes to the attack's signature.
  f.room = w.attack != 0 ? headroom{} : w.room_for(limits, settings_.bucket_us);
}

void flow_detector::check(rate_window& w, size_t dir, const std::vector<rate_limit>& limits,
                          int64_t t, const ip_address& host, int group, bool group_attack) {
  int64_t b = bucket_of(t);
  // A record older than the window's bucket counts as arriving at its start.
  int64_t elapsed = b < w.bucket ? 0 : t - b * settings_.bucket_us;
  auto* crossed = w.crossed(limits, elapsed, settings_.bucket_us, settings_.bandwidth_min_flows);
  if (crossed == nullptr)
    return;
  if (w.attack != 0) {
    if (auto* a = find_attack(w.attack))
      a->report.last_over_us = std::max(a->report.last_over_us, t);
    return;
  }
  if (w.over_bucket != b) {
    w.over_run = w.over_bucket == b - 1 ? uint8_t(std::min(w.over_run + 1, 255)) : uint8_t(1);
    w.over_bucket = b;
  }
  if (w.over_run >= settings_.min_windows)
    start_attack(w, dir, *crossed, t, host, group, group_attack);
}

void flow_detector::start_attack(rate_window& w, size_t dir, const rate_limit& crossed, int64_t t,
                                 const ip_address& host, int group, bool group_attack) {
  auto a = std::make_unique<attack_state>();
  a->dir = dir;
  a->group = group_attack ? group : -1;
  auto& r = a->report;
  r.id = next_attack_id_++;
  r.address = host;
  r.target = group_attack ? groups_[group].prefix_text : host_text(host);
  r.hostgroup = group >= 0 ? settings_.hostgroups[group].name : std::string{};
  r.group_attack = group_attack;
  r.incoming = dir == 0;
  r.threshold = crossed.to_string();
  r.start_us = t;
  r.last_over_us = t;
  // The recent records of this target seed the signature, so that it shows
  // the traffic that crossed the threshold.
  for (auto& s : ring_) {
    if (s.received_us == 0 || (directions_of(s.scope, true) & (1u << dir)) == 0)
      continue;
    bool match = group_attack ? (dir == 0 ? s.dst_group : s.src_group) == uint16_t(group + 1)
                              : (dir == 0 ? s.dst_addr : s.src_addr) == host;
    if (match)
      a->signature.add(s);
  }
  std::array<uint64_t, traffic_kinds> packets{};
  for (size_t k = 0; k < traffic_kinds; ++k)
    packets[k] = w.value(false, traffic_kind(k), rate_metric::packets) +
                 w.value(true, traffic_kind(k), rate_metric::packets);
  classify(packets, a->signature, r);
  w.attack = uint32_t(r.id);
  ++attacks_started_;
  auto by_type = std::find_if(attacks_by_type_.begin(), attacks_by_type_.end(),
                              [&](auto& x) { return x.first == r.type; });
  if (by_type == attacks_by_type_.end())
    attacks_by_type_.emplace_back(r.type, 1);
  else
    ++by_type->second;
  started_.push_back(r.id);
  active_.push_back(std::move(a));
}

flow_detector::attack_state* flow_detector::find_attack(uint64_t id) {
  for (auto& a : active_)
    if (a->report.id == id)
      return a.get();
  return nullptr;
}

rate_window* flow_detector::window_of(const attack_state& a) {
  if (a.group >= 0)
    return &groups_[size_t(a.group)].window[a.dir];
  if (a.report.group_attack)
    return nullptr;
  size_t i = hosts_.find(a.report.address);
  return i == host_table::npos ? nullptr : &hosts_.windows(i)[a.dir];
}

void flow_detector::rates(const rate_window& w, const kind_counts& pending, int64_t now_us,
                          uint64_t& pps, uint64_t& bps, uint64_t& flows) const {
  auto B = settings_.bucket_us;
  int64_t b = now_us / B;
  int64_t e = now_us - b * B;
  double per_second = 1e6 / double(B);
  auto rate = [&](rate_metric m) {
    return uint64_t(
        std::llround(w.rate(traffic_kind::all, m, b, e, B, pending.value(m)) * per_second));
  };
  pps = rate(rate_metric::packets);
  bps = rate(rate_metric::bits);
  flows = rate(rate_metric::flows);
}

void flow_detector::tick(int64_t now_us, std::vector<attack_event>& events) {
  int64_t b = now_us / settings_.bucket_us;
  refresh_rates(now_us);
  for (size_t i = 0; i < active_.size();) {
    auto& a = *active_[i];
    auto& r = a.report;
    auto* w = window_of(a);
    if (now_us - r.last_over_us < settings_.quiet_us || now_us - r.start_us < settings_.ban_us) {
      ++i;
      continue;
    }
    r.end_us = now_us;
    a.signature.fill(r);
    if (w != nullptr) {
      w->attack = 0;
      w->over_run = 0;
    }
    events.push_back({attack_event_kind::unban, r});
    recent_.push_front(std::move(r));
    if (recent_.size() > settings_.recent_attacks)
      recent_.pop_back();
    active_.erase(active_.begin() + std::ptrdiff_t(i));
  }
  if (b == last_expiry_bucket_)
    return;
  last_expiry_bucket_ = b;
  int64_t idle_buckets = std::max<int64_t>(settings_.host_idle_us / settings_.bucket_us, 1);
  hosts_expired_ += hosts_.remove_if([&](const host_lines&, const host_windows& windows) {
    auto& [in, out] = windows;
    return std::max(in.bucket, out.bucket) + idle_buckets < b && in.attack == 0 && out.attack == 0;
  });
}

attack_list flow_detector::attacks() const {
  attack_list out;
  for (auto& a : active_) {
    out.attacks.push_back(a->report);
    a->signature.fill(out.attacks.back());
  }
  out.attacks.insert(out.attacks.end(), recent_.begin(), recent_.end());
  return out;
}

top_hosts flow_detector::top(rate_metric metric, bool incoming, size_t n, int64_t now_us) const {
  top_hosts out;
  out.metric = metric == rate_metric::packets ? "pps"
               : metric == rate_metric::bits  ? "bps"
                                              : "flows";
  out.direction = incoming ? "in" : "out";
  out.taken_us = now_us;
  out.hosts_tracked = hosts_.size();
  auto key = [&](const host_rates& h) {
    if (metric == rate_metric::packets)
      return incoming ? h.pps_in : h.pps_out;
    if (metric == rate_metric::bits)
      return incoming ? h.bps_in : h.bps_out;
    return incoming ? h.flows_in : h.flows_out;
  };
  // Keep the best n in a min-heap while scanning, so a query costs one pass.
  auto worse = [&](const host_rates& a, const host_rates& b) {
    return key(a) != key(b) ? key(a) > key(b) : a.address < b.address;
  };
  std::vector<host_rates> best;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    host_rates h;
    h.address = hosts_.address(i);
    auto& lines = hosts_.lines(i);
    auto& [in, out] = hosts_.windows(i);
    rates(in, in.pending_all(lines[0].fast), now_us, h.pps_in, h.bps_in, h.flows_in);
    rates(out, out.pending_all(lines[1].fast), now_us, h.pps_out, h.bps_out, h.flows_out);
    if (key(h) == 0)
      continue;
    if (best.size() == n && !worse(h, best.front()))
      continue;
    if (auto group = lines[0].group; group != 0)
      h.hostgroup = settings_.hostgroups[group - 1].name;
    best.push_back(std::move(h));
    std::push_heap(best.begin(), best.end(), worse);
    if (best.size() > n) {
      std::pop_heap(best.begin(), best.end(), worse);
      best.pop_back();
    }
  }
  std::sort_heap(best.begin(), best.end(), worse);
  out.hosts = std::move(best);
  return out;
}

void flow_detector::collect(std::vector<counter_value>& out) const {
  out.push_back({"detector_records_total", records_});
  out.push_back({"detector_records_not_ours_total", records_not_ours_});
  out.push_back({"detector_hosts_tracked", hosts_.size()});
  out.push_back({"detector_hosts_capacity", hosts_.capacity()});
  out.push_back({"detector_hosts_not_tracked_total", hosts_not_tracked_});
  out.push_back({"detector_hosts_expired_total", hosts_expired_});
  out.push_back({"detector_bytes_per_host", hosts_.bytes_per_host()});
  out.push_back({"detector_memory_bytes", hosts_.memory_bytes()});
  out.push_back({"detector_attacks_active", active_.size()});
  out.push_back({"detector_attacks_total", attacks_started_});
  for (auto& [type, n] : attacks_by_type_) {
    out.push_back({"detector_attacks_total{type=\"" + type + "\"}", n});
    uint64_t active = 0;
    for (auto& a : active_)
      active += a->report.type == type;
    out.push_back({"detector_attacks_active{type=\"" + type + "\"}", active});
  }
}

} // namespace tidewatch
