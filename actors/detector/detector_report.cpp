#include "actors/detector/detector_report.hpp"

#include <cstdio>
#include <ctime>

namespace tidewatch {

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (uint8_t(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", unsigned(uint8_t(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json_ranking(const std::vector<ranked_item>& items) {
  std::string out = "[";
  for (auto& i : items)
    out += (out.size() > 1 ? "," : "") + std::string("{\"key\":") + json_string(i.key) +
           ",\"packets\":" + std::to_string(i.packets) + "}";
  return out + "]";
}

std::string text_ranking(const std::vector<ranked_item>& items) {
  std::string out;
  for (auto& i : items)
    out += (out.empty() ? "" : ", ") + i.key + " (" + std::to_string(i.packets) + ")";
  return out.empty() ? "-" : out;
}

std::string mbps(uint64_t bps) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", double(bps) / 1e6);
  return buf;
}

std::string percent(uint32_t permille) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.1f%%", double(permille) / 10);
  return buf;
}

std::string type_text(const attack_report& a) {
  return a.service.empty() ? a.type : a.type + " (" + a.service + ")";
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width)
    s.append(width - s.size(), ' ');
  return s;
}

} // namespace

std::string format_time_us(int64_t us) {
  if (us == 0)
    return "-";
  time_t seconds = time_t(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                int(us % 1'000'000 / 1000));
  return buf;
}

std::string render_attack_details(const attack_report& a) {
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += key + ": " + value + "\n";
  };
  line("Attack", std::to_string(a.id));
  line("Target", a.target);
  line("Hostgroup", a.hostgroup.empty() ? "-" : a.hostgroup);
  line("Scope", a.group_attack ? "hostgroup total" : "host");
  line("Direction", a.incoming ? "incoming" : "outgoing");
  line("Type", type_text(a));
  line("Matched share", percent(a.share_permille));
  line("Threshold crossed", a.threshold);
  line("Start", format_time_us(a.start_us));
  line("End", a.end_us == 0 ? "active" : format_time_us(a.end_us));
  line("Current rate", std::to_string(a.current_pps) + " pps, " + mbps(a.current_bps) +
                           " Mbit/s, " + std::to_string(a.current_flows) + " flows/s");
  line("Peak rate", std::to_string(a.peak_pps) + " pps, " + mbps(a.peak_bps) + " Mbit/s, " +
                        std::to_string(a.peak_flows) + " flows/s");
  line("Signature flows", std::to_string(a.records) + " (" + std::to_string(a.packets) +
                              " packets, " + std::to_string(a.bytes) + " bytes)");
  line("Protocols", text_ranking(a.protocols));
  line("Source ports", text_ranking(a.src_ports));
  line("Destination ports", text_ranking(a.dst_ports));
  line("TCP flags", text_ranking(a.tcp_flags));
  line("Packet sizes", text_ranking(a.packet_sizes));
  line("Source ASNs", text_ranking(a.src_asns));
  line("Source countries", text_ranking(a.src_countries));
  line("Source addresses", text_ranking(a.src_addresses));
  line("BPF", a.bpf);
  line("FlowSpec", a.flowspec);
  out += "Flow sample:\n";
  for (auto& f : a.flow_sample)
    out += "  " + f + "\n";
  return out;
}

std::string render_attacks_table(const attack_list& list) {
  std::string out = pad("ID", 6) + pad("TARGET", 26) + pad("DIR", 5) + pad("TYPE", 28) +
                    pad("SHARE", 8) + pad("PEAK_PPS", 12) + pad("PEAK_MBPS", 11) +
                    pad("START", 26) + "END\n";
  for (auto& a : list.attacks)
    out += pad(std::to_string(a.id), 6) + pad(a.target, 26) + pad(a.incoming ? "in" : "out", 5) +
           pad(type_text(a), 28) + pad(percent(a.share_permille), 8) +
           pad(std::to_string(a.peak_pps), 12) + pad(mbps(a.peak_bps), 11) +
           pad(format_time_us(a.start_us), 26) +
           (a.end_us == 0 ? "active" : format_time_us(a.end_us)) + "\n";
  return out;
}

std::string render_attacks_json(const attack_list& list) {
  std::string out = "{\"attacks\":[";
  bool first = true;
  for (auto& a : list.attacks) {
    out += first ? "{" : ",{";
    first = false;
    out += "\"id\":" + std::to_string(a.id);
    out += ",\"target\":" + json_string(a.target);
    out += ",\"address\":" + json_string(a.address.to_string());
    out += ",\"hostgroup\":" + json_string(a.hostgroup);
    out += std::string(",\"group_attack\":") + (a.group_attack ? "true" : "false");
    out += std::string(",\"direction\":") + (a.incoming ? "\"incoming\"" : "\"outgoing\"");
    out += ",\"type\":" + json_string(a.type);
    out += ",\"service\":" + json_string(a.service);
    out += ",\"share_permille\":" + std::to_string(a.share_permille);
    out += ",\"threshold\":" + json_string(a.threshold);
    out += ",\"start\":" + json_string(format_time_us(a.start_us));
    out +=
        ",\"end\":" + (a.end_us == 0 ? std::string("null") : json_string(format_time_us(a.end_us)));
    out += ",\"active\":" + std::string(a.end_us == 0 ? "true" : "false");
    for (auto [key, value] : {std::pair{"peak_pps", a.peak_pps},
                              {"peak_bps", a.peak_bps},
                              {"peak_flows", a.peak_flows},
                              {"current_pps", a.current_pps},
                              {"current_bps", a.current_bps},
                              {"current_flows", a.current_flows},
                              {"records", a.records},
                              {"packets", a.packets},
                              {"bytes", a.bytes}})
      out += ",\"" + std::string(key) + "\":" + std::to_string(value);
    for (auto [key, items] : {std::pair{"src_ports", &a.src_ports},
                              {"dst_ports", &a.dst_ports},
                              {"protocols", &a.protocols},
                              {"tcp_flags", &a.tcp_flags},
                              {"packet_sizes", &a.packet_sizes},
                              {"src_asns", &a.src_asns},
                              {"src_countries", &a.src_countries},
                              {"src_addresses", &a.src_addresses}})
      out += ",\"" + std::string(key) + "\":" + json_ranking(*items);
    out += ",\"flow_sample\":[";
    for (size_t i = 0; i < a.flow_sample.size(); ++i)
      out += (i == 0 ? "" : ",") + json_string(a.flow_sample[i]);
    out += "],\"bpf\":" + json_string(a.bpf) + ",\"flowspec\":" + json_string(a.flowspec) + "}";
  }
  return out + "]}\n";
}

std::string render_top_table(const top_hosts& top) {
  std::string out = "Top hosts by " + top.metric + " " + top.direction + " at " +
                    format_time_us(top.taken_us) + " (" + std::to_string(top.hosts_tracked) +
                    " hosts tracked)\n";
  out += pad("HOST", 40) + pad("HOSTGROUP", 16) + pad("PPS_IN", 12) + pad("PPS_OUT", 12) +
         pad("MBPS_IN", 10) + pad("MBPS_OUT", 10) + pad("FLOWS_IN", 10) + "FLOWS_OUT\n";
  for (auto& h : top.hosts)
    out += pad(h.address.to_string(), 40) + pad(h.hostgroup.empty() ? "-" : h.hostgroup, 16) +
           pad(std::to_string(h.pps_in), 12) + pad(std::to_string(h.pps_out), 12) +
           pad(mbps(h.bps_in), 10) + pad(mbps(h.bps_out), 10) +
           pad(std::to_string(h.flows_in), 10) + std::to_string(h.flows_out) + "\n";
  return out;
}

std::string render_top_json(const top_hosts& top) {
  std::string out = "{\"metric\":" + json_string(top.metric) +
                    ",\"direction\":" + json_string(top.direction) +
                    ",\"taken\":" + json_string(format_time_us(top.taken_us)) +
                    ",\"hosts_tracked\":" + std::to_string(top.hosts_tracked) + ",\"hosts\":[";
  for (size_t i = 0; i < top.hosts.size(); ++i) {
    auto& h = top.hosts[i];
    out += (i == 0 ? "{" : ",{") + std::string("\"address\":") +
           json_string(h.address.to_string()) + ",\"hostgroup\":" + json_string(h.hostgroup);
    for (auto [key, value] : {std::pair{"pps_in", h.pps_in},
                              {"pps_out", h.pps_out},
                              {"bps_in", h.bps_in},
                              {"bps_out", h.bps_out},
                              {"flows_in", h.flows_in},
                              {"flows_out", h.flows_out}})
      out += ",\"" + std::string(key) + "\":" + std::to_string(value);
    out += "}";
  }
  return out + "]}\n";
}

} // namespace tidewatch
