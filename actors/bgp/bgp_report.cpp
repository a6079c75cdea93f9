#include "actors/bgp/bgp_report.hpp"

#include <fmt/format.h>

#include "actors/bgp/bgp_format.hpp"

namespace tidewatch {

namespace {

int64_t uptime_seconds(const bgp_neighbor_status& n, int64_t now_us) {
  return n.established_us == 0 || now_us < n.established_us
             ? 0
             : (now_us - n.established_us) / 1'000'000;
}

std::string router_id_text(uint32_t id) {
  return ip_address::from_v4(id).to_string();
}

/// The route's attributes as (key, value) pairs, in output order; numbers unquoted in JSON.
struct report_field {
  const char* key;
  std::string value;
  bool number;
};

std::vector<report_field> report_fields(const bgp_route_report& r) {
  const auto& a = r.attributes;
  std::vector<report_field> f = {
      {"neighbor", r.neighbor.to_string(), false},
      {"prefix", fmt::format("{}/{}", r.network.to_string(), r.length), false},
      {"path_id", std::to_string(r.path_id), true},
      {"as_path", format_as_path(a), false},
      {"as_origin", std::to_string(origin_as(a)), true},
      {"peer_as", std::to_string(peer_as(a)), true},
      {"origin", origin_name(a.origin), false},
      {"next_hop", a.next_hop.to_string(), false},
  };
  if (a.flags & bgp_path_attributes::has_med)
    f.push_back({"med", std::to_string(a.med), true});
  if (a.flags & bgp_path_attributes::has_local_pref)
    f.push_back({"local_pref", std::to_string(a.local_pref), true});
  f.push_back({"comms", format_communities(a), false});
  f.push_back({"ecomms", format_extended_communities(a), false});
  f.push_back({"lcomms", format_large_communities(a), false});
  return f;
}

} // namespace

std::string format_uptime(int64_t seconds) {
  int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
  if (d > 0)
    return fmt::format("{}d{:02}h{:02}m{:02}s", d, h, m, s);
  if (h > 0)
    return fmt::format("{}h{:02}m{:02}s", h, m, s);
  if (m > 0)
    return fmt::format("{}m{:02}s", m, s);
  return fmt::format("{}s", s);
}

std::string render_neighbors_table(const std::vector<bgp_neighbor_status>& neighbors,
                                   int64_t now_us) {
  std::string out = fmt::format("{:<40} {:>10} {:<15} {:<13} {:>10} {:>10} {:>10} {:>11} {:>9}\n",
                                "NEIGHBOR", "AS", "ROUTER ID", "STATE", "UPTIME", "PREFIXES",
                                "UPDATES", "WITHDRAWALS", "REFRESHES");
  for (auto& n : neighbors)
    out += fmt::format("{:<40} {:>10} {:<15} {:<13} {:>10} {:>10} {:>10} {:>11} {:>9}\n",
                       n.address.to_string(), n.remote_as, router_id_text(n.router_id), n.state,
                       format_uptime(uptime_seconds(n, now_us)), n.prefixes, n.updates_received,
                       n.withdrawals_received, n.route_refreshes_received);
  return out;
}

std::string render_neighbors_json(const std::vector<bgp_neighbor_status>& neighbors,
                                  int64_t now_us) {
  std::string out = "[";
  for (auto& n : neighbors) {
    if (out.size() > 1)
      out += ",";
    out += fmt::format(
        "{{\"neighbor\":\"{}\",\"remote_as\":{},\"router_id\":\"{}\",\"state\":\"{}\","
        "\"uptime\":{},\"prefixes\":{},\"updates\":{},\"withdrawals\":{},\"refreshes\":{}}}",
        n.address.to_string(), n.remote_as, router_id_text(n.router_id), n.state,
        uptime_seconds(n, now_us), n.prefixes, n.updates_received, n.withdrawals_received,
        n.route_refreshes_received);
  }
  return out + "]";
}

std::string render_route_report(const bgp_route_report& report) {
  if (!report.found)
    return "no route\n";
  std::string out;
  for (auto& f : report_fields(report))
    out += fmt::format("{:<11} {}\n", std::string(f.key) + ":", f.value);
  return out;
}

std::string render_route_report_json(const bgp_route_report& report) {
  if (!report.found)
    return "{\"found\":false}";
  std::string out = "{\"found\":true";
  for (auto& f : report_fields(report))
    out += f.number ? fmt::format(",\"{}\":{}", f.key, f.value)
                    : fmt::format(",\"{}\":\"{}\"", f.key, f.value);
  return out + "}";
}

} // namespace tidewatch
