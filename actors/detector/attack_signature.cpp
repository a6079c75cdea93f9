#include "actors/detector/attack_signature.hpp"

#include <cstdio>

namespace tidewatch {

namespace {

std::string country_text(uint16_t code) {
  if (code == 0)
    return "??";
  return std::string{char(code >> 8), char(code & 0xff)};
}

template <class Key, size_t N, class Render>
std::vector<ranked_item> ranked(const top_keys<Key, N>& keys, Render render) {
  std::vector<ranked_item> out;
  for (auto& [key, packets] : keys.top(10))
    out.push_back({render(key), packets});
  return out;
}

/// True when `part` is at least half of `whole`.
bool dominant(uint64_t part, uint64_t whole) {
  return whole > 0 && part * 2 >= whole;
}

std::string size_class_text(size_t i) {
  if (i == 0)
    return "<64";
  if (i + 1 == packet_size_bounds.size())
    return ">=" + std::to_string(packet_size_bounds[i - 1]);
  return std::to_string(packet_size_bounds[i - 1]) + "-" +
         std::to_string(packet_size_bounds[i] - 1);
}

} // namespace

std::string protocol_name(uint8_t protocol) {
  switch (protocol) {
  case 1:
    return "icmp";
  case 6:
    return "tcp";
  case 17:
    return "udp";
  case 47:
    return "gre";
  case 58:
    return "icmp6";
  default:
    return std::to_string(protocol);
  }
}

std::string tcp_flags_text(uint8_t flags) {
  static const char* names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
  std::string out;
  for (size_t i = 0; i < 8; ++i)
    if (flags & (1u << i))
      out += (out.empty() ? "" : "|") + std::string(names[i]);
  return out.empty() ? "none" : out;
}

std::string flow_sample::to_string() const {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s:%u > %s:%u %s%s%s %llu pkts %llu bytes",
                src_addr.to_string().c_str(), unsigned(src_port), dst_addr.to_string().c_str(),
                unsigned(dst_port), protocol_name(ip_protocol).c_str(),
                ip_protocol == 6 ? (" " + tcp_flags_text(tcp_flags)).c_str() : "",
                is_fragment ? " frag" : "", static_cast<unsigned long long>(packets),
                static_cast<unsigned long long>(bytes));
  return buf;
}

const std::vector<amplification_service>& amplification_services() {
  static const std::vector<amplification_service> services = {
      {19, "chargen"},      {53, "dns"},      {69, "tftp"},           {111, "portmap"},
      {123, "ntp"},         {137, "netbios"}, {161, "snmp"},          {389, "cldap"},
      {1900, "ssdp"},       {3283, "ard"},    {3702, "ws-discovery"}, {5353, "mdns"},
      {11211, "memcached"}, {17, "qotd"},     {520, "rip"},           {1434, "mssql"},
      {10001, "ubiquiti"},  {37810, "dvr"}};
  return services;
}

void signature_collector::add(const flow_sample& s) {
  ++records_;
  packets_ += s.packets;
  bytes_ += s.bytes;
  if (s.ip_protocol == 6 || s.ip_protocol == 17) {
    src_ports_.add(s.src_port, s.packets);
    dst_ports_.add(s.dst_port, s.packets);
  }
  if (s.ip_protocol == 17)
    udp_src_ports_.add(s.src_port, s.packets);
  protocols_[s.ip_protocol] += s.packets;
  if (s.ip_protocol == 6)
    tcp_flags_.add(s.tcp_flags, s.packets);
  uint64_t average = s.packets == 0 ? 0 : s.bytes / s.packets;
  size_t size_class = 0;
  while (average >= packet_size_bounds[size_class])
    ++size_class;
  sizes_[size_class] += s.packets;
  asns_.add(s.src_as, s.packets);
  countries_.add(s.src_country, s.packets);
  sources_.add(s.src_addr, s.packets);
  if (sample_.size() < sample_size) {
    if (sample_.capacity() == 0)
      sample_.reserve(sample_size);
    sample_.push_back(s);
  }
}

std::pair<uint16_t, uint64_t> signature_collector::top_udp_src_port() const {
  auto top = udp_src_ports_.top(1);
  return top.empty() ? std::pair<uint16_t, uint64_t>{0, 0} : top.front();
}

void signature_collector::fill(attack_report& r) const {
  r.records = records_;
  r.packets = packets_;
  r.bytes = bytes_;
  auto number = [](auto x) { return std::to_string(x); };
  r.src_ports = ranked(src_ports_, number);
  r.dst_ports = ranked(dst_ports_, number);
  r.protocols.clear();
  for (size_t p = 0; p < protocols_.size(); ++p)
    if (protocols_[p] > 0)
      r.protocols.push_back({protocol_name(uint8_t(p)), protocols_[p]});
  std::stable_sort(r.protocols.begin(), r.protocols.end(),
                   [](auto& a, auto& b) { return a.packets > b.packets; });
  r.tcp_flags = ranked(tcp_flags_, [](uint8_t f) { return tcp_flags_text(f); });
  r.packet_sizes.clear();
  for (size_t i = 0; i < sizes_.size(); ++i)
    if (sizes_[i] > 0)
      r.packet_sizes.push_back({size_class_text(i), sizes_[i]});
  r.src_asns = ranked(asns_, number);
  r.src_countries = ranked(countries_, country_text);
  r.src_addresses = ranked(sources_, [](const ip_address& a) { return a.to_string(); });
  r.flow_sample.clear();
  for (auto& s : sample_)
    r.flow_sample.push_back(s.to_string());
  // The suggested filters name what most packets share.
  std::string side = r.incoming ? "dst" : "src";
  r.bpf = side + (r.group_attack ? " net " + r.target : " host " + r.address.to_string());
  r.flowspec = std::string(r.incoming ? "destination " : "source ") + r.target;
  uint8_t protocol = 0;
  for (size_t p = 0; p < protocols_.size(); ++p)
    if (dominant(protocols_[p], packets_))
      protocol = uint8_t(p);
  if (protocol != 0) {
    r.bpf += protocol == 1 || protocol == 6 || protocol == 17 || protocol == 58
                 ? " and " + protocol_name(protocol)
                 : " and ip proto " + std::to_string(protocol);
    r.flowspec += "; protocol =" + std::to_string(protocol);
  }
  if (protocol == 6 || protocol == 17) {
    auto src = src_ports_.top(1);
    if (!src.empty() && dominant(src.front().second, packets_)) {
      r.bpf += " and src port " + std::to_string(src.front().first);
      r.flowspec += "; source-port =" + std::to_string(src.front().first);
    }
    auto dst = dst_ports_.top(1);
    if (!dst.empty() && dominant(dst.front().second, packets_)) {
      r.bpf += " and dst port " + std::to_string(dst.front().first);
      r.flowspec += "; destination-port =" + std::to_string(dst.front().first);
    }
  }
  if (protocol == 6) {
    auto flags = tcp_flags_.top(1);
    if (!flags.empty() && flags.front().first == 0x02 && dominant(flags.front().second, packets_)) {
      r.bpf += " and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn";
      r.flowspec += "; tcp-flags =syn";
    }
  }
  if (r.type == "fragment_flood") {
    r.bpf += " and (ip[6:2] & 0x3fff != 0)";
    r.flowspec += "; fragment is-fragment";
  }
}

void classify(const std::array<uint64_t, traffic_kinds>& packets,
              const signature_collector& signature, attack_report& r) {
  uint64_t all = packets[size_t(traffic_kind::all)];
  auto share = [all](uint64_t part) {
    return all == 0 ? 0u : uint32_t(std::min<uint64_t>(part * 1000 / all, 1000));
  };
  r.service.clear();
  uint64_t udp = packets[size_t(traffic_kind::udp)];
  auto [port, port_packets] = signature.top_udp_src_port();
  if (dominant(udp, all) && dominant(port_packets, signature.packets())) {
    for (auto& s : amplification_services())
      if (s.port == port) {
        r.type = "amplification";
        r.service = s.name;
        // The share of the window's packets that came from the service's port.
        r.share_permille = uint32_t(uint64_t(share(udp)) * port_packets / signature.packets());
        return;
      }
  }
  static const std::pair<traffic_kind, const char*> order[] = {
      {traffic_kind::fragment, "fragment_flood"},
      {traffic_kind::tcp_syn, "syn_flood"},
      {traffic_kind::udp, "udp_flood"},
      {traffic_kind::icmp, "icmp_flood"},
      {traffic_kind::tcp, "tcp_flood"}};
  for (auto& [kind, name] : order)
    if (dominant(packets[size_t(kind)], all)) {
      r.type = name;
      r.share_permille = share(packets[size_t(kind)]);
      return;
    }
  r.type = "unclassified";
  r.share_permille = 1000;
}

} // namespace tidewatch
