#include "actors/sink/json_encoder.hpp"

#include "actors/sink/flow_aggregator.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

/// Forces a lambda inline (GCC's attribute; a C++ attribute there would apply
/// to the lambda's type).
#define TIDEWATCH_INLINE __attribute__((always_inline))

namespace tidewatch {

namespace detail {
namespace {

/// The protocol names nfacctd 1.7.7 prints in "ip_proto"; every other number
/// is printed as decimal text (test/fixtures/pmacct/nfacctd-ip-proto-names.txt).
constexpr std::array<std::string_view, 256> make_ip_proto_names() {
  constexpr std::pair<uint8_t, std::string_view> named[] = {
      {1, "icmp"},        {2, "igmp"},    {3, "ggp"},         {4, "ipencap"},
      {6, "tcp"},         {8, "egp"},     {9, "igp"},         {17, "udp"},
      {18, "mux"},        {41, "ipv6"},   {43, "ipv6-route"}, {44, "ipv6-frag"},
      {46, "rsvp"},       {47, "gre"},    {50, "esp"},        {51, "ah"},
      {55, "mobile"},     {56, "tlsp"},   {58, "ipv6-icmp"},  {59, "ipv6-nonxt"},
      {60, "ipv6-opts"},  {80, "iso-ip"}, {83, "vines"},      {88, "eigrp"},
      {89, "ospf"},       {91, "larp"},   {93, "ax.25"},      {94, "ipip"},
      {98, "encap"},      {102, "pnni"},  {103, "pim"},       {108, "IPcomp"},
      {111, "ipx-in-ip"}, {112, "vrrp"},  {115, "l2tp"},      {124, "isis"},
      {132, "sctp"},      {133, "fc"},
  };
  std::array<std::string_view, 256> names{};
  for (const auto& [number, name] : named)
    names[number] = name;
  return names;
}

constexpr auto ip_proto_names = make_ip_proto_names();

template <size_t N> char* put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

char* put(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

/// "00".."99", for writing two digits at a time.
constexpr std::array<char, 200> make_digit_pairs() {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[size_t(2 * i)] = char('0' + i / 10);
    pairs[size_t(2 * i + 1)] = char('0' + i % 10);
  }
  return pairs;
}

constexpr auto digit_pairs = make_digit_pairs();

/// Most counters and keys are small: write those inline, defer the rest.
char* put_uint(char* p, uint64_t value) {
  if (value < 10) {
    *p = char('0' + value);
    return p + 1;
  }
  if (value < 100) {
    std::memcpy(p, &digit_pairs[value * 2], 2);
    return p + 2;
  }
  return std::to_chars(p, p + 20, value).ptr;
}

char* put_int(char* p, int64_t value) {
  return std::to_chars(p, p + 20, value).ptr;
}

/// Writes value as exactly 2 * pairs decimal digits (value < 100^pairs).
char* put_fixed_pairs(char* p, uint32_t value, int pairs) {
  for (int i = pairs - 1; i >= 0; --i) {
    std::memcpy(p + 2 * i, &digit_pairs[(value % 100) * 2], 2);
    value /= 100;
  }
  return p + 2 * pairs;
}

/// Each byte value as text plus a trailing dot, and the text's length.
struct octet_text {
  char text[4];
  uint8_t length;
};

constexpr std::array<octet_text, 256> make_octet_texts() {
  std::array<octet_text, 256> texts{};
  for (unsigned v = 0; v < 256; ++v) {
    auto& t = texts[v];
    uint8_t n = 0;
    if (v >= 100)
      t.text[n++] = char('0' + v / 100);
    if (v >= 10)
      t.text[n++] = char('0' + v / 10 % 10);
    t.text[n++] = char('0' + v % 10);
    t.text[n] = '.';
    t.length = n;
  }
  return texts;
}

constexpr auto octet_texts = make_octet_texts();

/// Dotted quad of a host-order IPv4 address; four fixed-size copies.
char* put_v4(char* p, uint32_t v4) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto& t = octet_texts[(v4 >> shift) & 0xff];
    std::memcpy(p, t.text, 4);
    p += t.length + (shift != 0 ? 1 : 0);
  }
  return p;
}

/// Bytes 8..11 of a v4-mapped address (00 00 ff ff) read as a native word.
constexpr uint32_t v4_mapped_marker =
    std::endian::native == std::endian::little ? 0xffff0000u : 0x0000ffffu;

/// ip_address::is_v4 as two word compares (it sits on the per-field path).
bool is_v4(const ip_address& a) {
  uint64_t head;
  uint32_t middle;
  std::memcpy(&head, a.bytes.data(), 8);
  std::memcpy(&middle, a.bytes.data() + 8, 4);
  return head == 0 && middle == v4_mapped_marker;
}

char* put_address(char* p, const ip_address& a) {
  return is_v4(a) ? put_v4(p, a.v4_host_order()) : p + a.format(p);
}

/// An address, or nothing when it is unset (pmacct prints "" then).
char* put_optional_address(char* p, const ip_address& a) {
  if (is_v4(a))
    return a.v4_host_order() == 0 ? p : put_v4(p, a.v4_host_order());
  return a == ip_address{} ? p : p + a.format(p);
}

/// The network of a under a prefix of `bits` (pmacct's net_src/net_dst).
char* put_network(char* p, const ip_address& a, uint8_t bits) {
  if (is_v4(a))
    return put_v4(p, bits == 0    ? 0
                     : bits >= 32 ? a.v4_host_order()
                                  : a.v4_host_order() & ~(~0u >> bits));
  ip_address net = a;
  for (size_t i = 0; i < 16; ++i) {
    size_t bit = i * 8;
    if (bits <= bit)
      net.bytes[i] = 0;
    else if (bits < bit + 8)
      net.bytes[i] &= uint8_t(0xff << (bit + 8 - bits));
  }
  return p + net.format(p);
}

/// "network/length" of the prefix of `bits` holding a, or nothing when bits is 0.
char* put_cidr(char* p, const ip_address& a, uint8_t bits) {
  if (bits == 0)
    return p;
  p = put_network(p, a, bits);
  *p++ = '/';
  return put_uint(p, bits);
}

char* put_mac(char* p, uint64_t mac) {
  constexpr char hex[] = "0123456789abcdef";
  for (int shift = 40; shift >= 0; shift -= 8) {
    unsigned b = unsigned(mac >> shift) & 0xff;
    *p++ = hex[b >> 4];
    *p++ = hex[b & 0xf];
    if (shift != 0)
      *p++ = ':';
  }
  return p;
}

/// Floor division of a µs timestamp into whole seconds and the µs remainder.
std::pair<int64_t, uint32_t> split_us(int64_t us) {
  int64_t s = us / 1'000'000;
  int64_t rest = us % 1'000'000;
  if (rest < 0) {
    s -= 1;
    rest += 1'000'000;
  }
  return {s, uint32_t(rest)};
}

std::string_view direction_name(flow_direction d) {
  switch (d) {
  case flow_direction::ingress:
    return "ingress";
  case flow_direction::egress:
    return "egress";
  default:
    return "unknown";
  }
}

std::string_view protocol_name(export_protocol p) {
  switch (p) {
  case export_protocol::netflow_v5:
    return "netflow_v5";
  case export_protocol::netflow_v9:
    return "netflow_v9";
  case export_protocol::ipfix:
    return "ipfix";
  case export_protocol::sflow_v5:
    return "sflow_v5";
  default:
    return "unknown";
  }
}

/// Longest escaped text a label may take in a line; longer labels are cut at
/// a character boundary, which keeps every line under max_line_size.
constexpr size_t max_label_output = 240;
/// The same for the BGP texts (AS path, communities), which run longer.
constexpr size_t max_bgp_text_output = 1024;

/// A label as JSON string content: quotes, backslashes and control
/// characters escaped, UTF-8 passed through; cut at `limit` bytes.
char* put_label(char* p, std::string_view text, size_t limit = max_label_output) {
  constexpr char hex[] = "0123456789abcdef";
  char* end = p + limit;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = uint8_t(text[i]);
    size_t need = c < 0x20 ? 6 : (c == '"' || c == '\\') ? 2 : 1;
    if (c >= 0x80 && (c & 0xc0) == 0xc0) // a sequence's lead byte: keep the sequence whole
      need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (p + need > end)
      break;
    if (c < 0x20) {
      p = put(p, "\\u00");
      *p++ = hex[c >> 4];
      *p++ = hex[c & 0xf];
    } else if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = char(c);
    } else if (need > 1) {
      size_t n = std::min(need, text.size() - i);
      std::memcpy(p, text.data() + i, n);
      p += n;
      i += n - 1;
    } else {
      *p++ = char(c);
    }
  }
  return p;
}

/// An ISO country code (two chars in a uint16), or nothing.
char* put_country(char* p, uint16_t code) {
  if (code != 0) {
    *p++ = char(code >> 8);
    *p++ = char(code & 0xff);
  }
  return p;
}

/// Each json_field's key and whether its value is a JSON string.
struct field_description {
  std::string_view name;
  bool quoted;
};

constexpr std::array<field_description, size_t(json_field::count_)> field_descriptions = {{
    {"event_type", true},
    {"mac_src", true},
    {"mac_dst", true},
    {"vlan", false},
    {"as_src", false},
    {"as_dst", false},
    {"comms", true},
    {"ecomms", true},
    {"lcomms", true},
    {"as_path", true},
    {"local_pref", false},
    {"med", false},
    {"peer_as_src", false},
    {"peer_as_dst", false},
    {"peer_ip_src", true},
    {"peer_ip_dst", true},
    {"comms_src", true},
    {"ecomms_src", true},
    {"lcomms_src", true},
    {"as_path_src", true},
    {"local_pref_src", false},
    {"med_src", false},
    {"iface_in", false},
    {"iface_out", false},
    {"ip_src", true},
    {"net_src", true},
    {"ip_dst", true},
    {"net_dst", true},
    {"mask_src", false},
    {"mask_dst", false},
    {"port_src", false},
    {"port_dst", false},
    {"tcp_flags", true},
    {"ip_proto", true},
    {"tos", false},
    {"sampling_rate", false},
    {"timestamp_start", true},
    {"timestamp_end", true},
    {"timestamp_arrival", true},
    {"export_proto_version", false},
    {"stamp_inserted", true},
    {"stamp_updated", true},
    {"flows", false},
    {"packets", false},
    {"bytes", false},
    {"export_protocol", true},
    {"observation_domain", false},
    {"ip_version", false},
    {"flow_direction", true},
    {"forwarding_status", false},
    {"next_hop", true},
    {"sampler_id", false},
    {"sample_pool", false},
    {"sampling_source", true},
    {"packets_sampled", false},
    {"bytes_sampled", false},
    {"tag2", false},
    {"traffic_scope", true},
    {"net_cidr_src", true},
    {"net_cidr_dst", true},
    {"net_name_src", true},
    {"net_name_dst", true},
    {"country_ip_src", true},
    {"country_ip_dst", true},
    {"as_name_src", true},
    {"as_name_dst", true},
    {"region", true},
}};

/// What a line holds before a field's value: `, "key": ` and, for a
/// string, the opening quote; padded to a fixed size so that it is copied
/// in one fixed-size move.
struct key_text {
  std::array<char, 32> text{};
  uint8_t length = 0;
};

constexpr std::array<key_text, size_t(json_field::count_)> make_key_texts() {
  std::array<key_text, size_t(json_field::count_)> keys{};
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& k = keys[i];
    auto append = [&k](std::string_view part) {
      for (char c : part)
        k.text[k.length++] = c;
    };
    append(", \"");
    append(field_descriptions[i].name);
    append(field_descriptions[i].quoted ? "\": \"" : "\": ");
  }
  return keys;
}

constexpr auto key_texts = make_key_texts();

/// The keys nfacctd prints only with a BGP daemon.
constexpr bool is_bgp_field(json_field f) {
  return (f >= json_field::comms && f <= json_field::peer_as_dst) ||
         (f >= json_field::comms_src && f <= json_field::med_src);
}

char* put_key(char* p, json_field f) {
  const auto& k = key_texts[size_t(f)];
  std::memcpy(p, k.text.data(), k.text.size());
  return p + k.length;
}

/// The export_proto_version number pmacct prints (sFlow v5 is 5 there too).
unsigned proto_version_number(export_protocol p) {
  return p == export_protocol::sflow_v5 ? 5u : unsigned(p);
}

} // namespace
} // namespace detail

std::string_view json_field_name(json_field f) {
  return detail::field_descriptions[size_t(f)].name;
}

std::optional<json_field> json_field_by_name(std::string_view name) {
  for (size_t i = 0; i < detail::field_descriptions.size(); ++i)
    if (detail::field_descriptions[i].name == name)
      return json_field(i);
  return std::nullopt;
}

json_encoder::json_encoder(const options& opts)
    : fields_(opts.fields), selected_(opts.fields.any()) {
  if (selected_)
    return;
  fields_.set();
  for (size_t i = 0; i < fields_.size(); ++i)
    if (detail::is_bgp_field(json_field(i)))
      fields_[i] = opts.bgp_fields;
  fields_[size_t(json_field::packets_sampled)] = opts.unscaled_counters;
  fields_[size_t(json_field::bytes_sampled)] = opts.unscaled_counters;
}

char* json_encoder::put_date(char* p, int64_t s) const {
  auto& slot = dates_[uint64_t(s) % dates_.size()];
  if (slot.second != s) {
    // Days since the epoch to a proleptic Gregorian date: the civil_from_days
    // algorithm published by H. Hinnant, exact over the whole int64 range.
    int64_t days = s / 86400;
    int64_t secs = s % 86400;
    if (secs < 0) {
      secs += 86400;
      days -= 1;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    char* q = slot.text.data();
    if (year >= 0 && year <= 9999)
      q = detail::put_fixed_pairs(q, uint32_t(year), 2);
    else
      q = detail::put_int(q, year);
    *q++ = '-';
    q = detail::put_fixed_pairs(q, uint32_t(month), 1);
    *q++ = '-';
    q = detail::put_fixed_pairs(q, uint32_t(day), 1);
    *q++ = ' ';
    q = detail::put_fixed_pairs(q, uint32_t(secs / 3600), 1);
    *q++ = ':';
    q = detail::put_fixed_pairs(q, uint32_t(secs / 60 % 60), 1);
    *q++ = ':';
    q = detail::put_fixed_pairs(q, uint32_t(secs % 60), 1);
    slot.length = uint8_t(q - slot.text.data());
    slot.second = s;
  }
  // A fixed-size copy (the line buffer has room) beats a variable one.
  std::memcpy(p, slot.text.data(), slot.text.size());
  return p + slot.length;
}

char* json_encoder::put_timestamp(char* p, int64_t us) const {
  if (us == 0)
    return detail::put(p, "0000-00-00 00:00:00.000000");
  auto [s, fraction] = detail::split_us(us);
  p = put_date(p, s);
  *p++ = '.';
  return detail::put_fixed_pairs(p, fraction, 3);
}

void json_encoder::encode_counters(const sflow_interface_counters& c, uint64_t& seq,
                                   std::string& out) const {
  using namespace detail;
  // Each line is a few hundred bytes: numbers of at most 20 digits, one address.
  char line[1024];
  auto head = [&](const char* type) {
    char* p = put(line, "{\"seq\": ");
    p = put_uint(p, seq++);
    p = put_timestamp(put(p, ", \"timestamp\": \""), c.received_us);
    p = put_optional_address(put(p, "\", \"peer_ip_src\": \""), c.agent);
    p = put_uint(put(p, "\", \"event_type\": \"log\", \"source_id_index\": "), c.source_index);
    p = put_uint(put(p, ", \"sflow_seq\": "), c.datagram_sequence);
    p = put_uint(put(p, ", \"sflow_cnt_seq\": "), c.sequence);
    p = put(put(put(p, ", \"sf_cnt_type\": \""), std::string_view(type)), "\"");
    return p;
  };
  using counter_field = std::pair<std::string_view, uint64_t>;
  auto write_line = [&](const char* type, std::initializer_list<counter_field> fields) {
    char* p = head(type);
    for (auto& [key, value] : fields)
      p = put_uint(put(put(put(p, ", \""), key), "\": "), value);
    p = put(p, "}\n");
    out.append(line, size_t(p - line));
  };
  if (c.has_generic)
    write_line("sflow_cnt_generic", {{"ifIndex", c.if_index},
                                     {"ifType", c.if_type},
                                     {"ifSpeed", c.if_speed},
                                     {"ifDirection", c.if_direction},
                                     {"ifStatus", c.if_status},
                                     {"ifInOctets", c.in_octets},
                                     {"ifInUcastPkts", c.in_unicast_packets},
                                     {"ifInMulticastPkts", c.in_multicast_packets},
                                     {"ifInBroadcastPkts", c.in_broadcast_packets},
                                     {"ifInDiscards", c.in_discards},
                                     {"ifInErrors", c.in_errors},
                                     {"ifInUnknownProtos", c.in_unknown_protocols},
                                     {"ifOutOctets", c.out_octets},
                                     {"ifOutUcastPkts", c.out_unicast_packets},
                                     {"ifOutMulticastPkts", c.out_multicast_packets},
                                     {"ifOutBroadcastPkts", c.out_broadcast_packets},
                                     {"ifOutDiscards", c.out_discards},
                                     {"ifOutErrors", c.out_errors},
                                     {"ifPromiscuousMode", c.promiscuous_mode}});
  if (c.has_ethernet)
    write_line("sflow_cnt_ethernet",
               {{"dot3StatsAlignmentErrors", c.alignment_errors},
                {"dot3StatsFCSErrors", c.fcs_errors},
                {"dot3StatsSingleCollisionFrames", c.single_collision_frames},
                {"dot3StatsMultipleCollisionFrames", c.multiple_collision_frames},
                {"dot3StatsSQETestErrors", c.sqe_test_errors},
                {"dot3StatsDeferredTransmissions", c.deferred_transmissions},
                {"dot3StatsLateCollisions", c.late_collisions},
                {"dot3StatsExcessiveCollisions", c.excessive_collisions},
                {"dot3StatsInternalMacTransmitErrors", c.internal_mac_transmit_errors},
                {"dot3StatsCarrierSenseErrors", c.carrier_sense_errors},
                {"dot3StatsFrameTooLongs", c.frame_too_longs},
                {"dot3StatsInternalMacReceiveErrors", c.internal_mac_receive_errors},
                {"dot3StatsSymbolErrors", c.symbol_errors}});
}

void json_encoder::encode(const flow_record& r, const label_table& labels, std::string& out) const {
  if (selected_)
    encode_fields<true>(r, labels, out);
  else
    encode_fields<false>(r, labels, out);
}

template <bool selected>
void json_encoder::encode_fields(const flow_record& r, const label_table& labels,
                                 std::string& out) const {
  using namespace detail;
  using f = json_field;
  // Every field has a fixed upper size (addresses 45, numbers 20, dates 26),
  // so the whole line is built on the stack and appended in one go. Each key
  // is written with the ", " before it; the first one's comma becomes the
  // opening brace at the end.
  char line[max_line_size];
  char* p = line;
  const bool has_addresses = r.ip_version != 0;
  // The helpers below are inlined: as calls, p would live in memory. Local
  // copies: writes through p could alias the members, so a test of a member
  // would be a load after every store.
  const json_field_set fields = fields_;
  const bool bgp_fields = fields_[size_t(f::comms)];
  const bool unscaled_counters = fields_[size_t(f::packets_sampled)];
  // Without a selection the field is a constant after inlining, so every
  // test folds away but the two groups' (the default line costs no branch
  // per key).
  auto wanted = [&](json_field field) TIDEWATCH_INLINE {
    if constexpr (selected)
      return fields[size_t(field)];
    else if (is_bgp_field(field))
      return bgp_fields;
    else if (field == f::packets_sampled || field == f::bytes_sampled)
      return unscaled_counters;
    else
      return true;
  };
  auto number = [&](json_field field, uint64_t value) TIDEWATCH_INLINE {
    if (wanted(field))
      p = put_uint(put_key(p, field), value);
  };
  auto text = [&](json_field field, auto&& write) TIDEWATCH_INLINE {
    if (wanted(field)) {
      p = write(put_key(p, field));
      *p++ = '"';
    }
  };
  auto literal = [&](json_field field, std::string_view value) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE { return put(q, value); });
  };
  auto bgp_text = [&](json_field field, uint32_t label) TIDEWATCH_INLINE {
    text(field, [&](char* q)
                    TIDEWATCH_INLINE { return put_label(q, labels[label], max_bgp_text_output); });
  };
  auto label = [&](json_field field, uint32_t label) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE { return put_label(q, labels[label]); });
  };
  auto address = [&](json_field field, const ip_address& a) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE { return has_addresses ? put_address(q, a) : q; });
  };
  auto network = [&](json_field field, const ip_address& a, uint8_t bits) TIDEWATCH_INLINE {
    text(field,
         [&](char* q) TIDEWATCH_INLINE { return has_addresses ? put_network(q, a, bits) : q; });
  };
  auto optional_address = [&](json_field field, const ip_address& a) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE { return put_optional_address(q, a); });
  };
  auto timestamp = [&](json_field field, int64_t us) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE { return put_timestamp(q, us); });
  };
  auto arrival_second = [&](json_field field) TIDEWATCH_INLINE {
    text(field, [&](char* q) TIDEWATCH_INLINE {
      return r.received_us == 0 ? put(q, "0000-00-00 00:00:00")
                                : put_date(q, split_us(r.received_us).first);
    });
  };

  literal(f::event_type, "purge");
  text(f::mac_src, [&](char* q) TIDEWATCH_INLINE { return put_mac(q, r.src_mac); });
  text(f::mac_dst, [&](char* q) TIDEWATCH_INLINE { return put_mac(q, r.dst_mac); });
  // nfacctd reports the post-VLAN (IE 59) for egress flows, the VLAN (IE 58) otherwise.
  number(f::vlan, r.direction == flow_direction::egress ? r.dst_vlan : r.src_vlan);
  number(f::as_src, r.src_as);
  number(f::as_dst, r.dst_as);
  bgp_text(f::comms, r.communities);
  bgp_text(f::ecomms, r.extended_communities);
  bgp_text(f::lcomms, r.large_communities);
  bgp_text(f::as_path, r.as_path);
  number(f::local_pref, r.local_pref);
  number(f::med, r.med);
  number(f::peer_as_src, r.src_peer_as);
  number(f::peer_as_dst, r.dst_peer_as);
  optional_address(f::peer_ip_src, r.exporter);
  optional_address(f::peer_ip_dst, r.bgp_next_hop);
  bgp_text(f::comms_src, r.src_communities);
  bgp_text(f::ecomms_src, r.src_extended_communities);
  bgp_text(f::lcomms_src, r.src_large_communities);
  bgp_text(f::as_path_src, r.src_as_path);
  number(f::local_pref_src, r.src_local_pref);
  number(f::med_src, r.src_med);
  number(f::iface_in, r.input_interface);
  number(f::iface_out, r.output_interface);
  address(f::ip_src, r.src_addr);
  network(f::net_src, r.src_addr, r.src_mask);
  address(f::ip_dst, r.dst_addr);
  network(f::net_dst, r.dst_addr, r.dst_mask);
  number(f::mask_src, r.src_mask);
  number(f::mask_dst, r.dst_mask);
  number(f::port_src, r.src_port);
  number(f::port_dst, r.dst_port);
  text(f::tcp_flags, [&](char* q) TIDEWATCH_INLINE { return put_uint(q, r.tcp_flags); });
  text(f::ip_proto, [&](char* q) TIDEWATCH_INLINE {
    auto name = ip_proto_names[r.ip_protocol];
    return name.empty() ? put_uint(q, r.ip_protocol) : put(q, name);
  });
  number(f::tos, r.tos);
  number(f::sampling_rate, r.sampling_rate);
  timestamp(f::timestamp_start, r.flow_start_us);
  timestamp(f::timestamp_end, r.flow_end_us);
  timestamp(f::timestamp_arrival, r.received_us);
  number(f::export_proto_version, proto_version_number(r.protocol_version));
  arrival_second(f::stamp_inserted);
  arrival_second(f::stamp_updated);
  number(f::flows, r.flows);
  number(f::packets, r.packets);
  number(f::bytes, r.bytes);

  // -- tidewatch's own fields --
  literal(f::export_protocol, protocol_name(r.protocol_version));
  number(f::observation_domain, r.observation_domain);
  number(f::ip_version, r.ip_version);
  literal(f::flow_direction, direction_name(r.direction));
  number(f::forwarding_status, r.forwarding_status);
  optional_address(f::next_hop, r.next_hop);
  number(f::sampler_id, r.sampler_id);
  number(f::sample_pool, r.sample_pool);

  // -- enrichment --
  literal(f::sampling_source, to_string(r.rate_source));
  const uint64_t rate =
      r.rate_source == sampling_source::unknown || r.sampling_rate == 0 ? 1 : r.sampling_rate;
  number(f::packets_sampled, r.packets / rate);
  number(f::bytes_sampled, r.bytes / rate);
  number(f::tag2, uint8_t(r.scope));
  literal(f::traffic_scope, to_string(r.scope));
  text(f::net_cidr_src,
       [&](char* q) TIDEWATCH_INLINE { return put_cidr(q, r.src_addr, r.src_net_length); });
  text(f::net_cidr_dst,
       [&](char* q) TIDEWATCH_INLINE { return put_cidr(q, r.dst_addr, r.dst_net_length); });
  label(f::net_name_src, r.src_net_name);
  label(f::net_name_dst, r.dst_net_name);
  text(f::country_ip_src, [&](char* q) TIDEWATCH_INLINE { return put_country(q, r.src_country); });
  text(f::country_ip_dst, [&](char* q) TIDEWATCH_INLINE { return put_country(q, r.dst_country); });
  label(f::as_name_src, r.src_as_name);
  label(f::as_name_dst, r.dst_as_name);
  label(f::region, r.region);

  if (p == line) {
    out.append("{}\n");
    return;
  }
  p = put(p, "}\n");
  line[1] = '{'; // over the first key's ", "
  out.append(line + 1, size_t(p - line - 1));
}

void json_encoder::encode_aggregate(const flow_record& r, uint32_t primitives, int64_t updated_us,
                                    std::string& out) const {
  using namespace detail;
  using a = aggregate_primitive;
  char line[max_line_size];
  char* p = line;
  const bool has_addresses = r.ip_version != 0;
  p = put(p, "{\"event_type\": \"purge\"");
  for (unsigned i = 0; i < unsigned(a::count_); ++i) {
    if (!(primitives & bit(a(i))))
      continue;
    switch (a(i)) {
    case a::src_mac:
      p = put_mac(put(p, ", \"mac_src\": \""), r.src_mac);
      *p++ = '"';
      break;
    case a::dst_mac:
      p = put_mac(put(p, ", \"mac_dst\": \""), r.dst_mac);
      *p++ = '"';
      break;
    case a::vlan:
      p = put_uint(put(p, ", \"vlan\": "),
                   r.direction == flow_direction::egress ? r.dst_vlan : r.src_vlan);
      break;
    case a::src_as:
      p = put_uint(put(p, ", \"as_src\": "), r.src_as);
      break;
    case a::dst_as:
      p = put_uint(put(p, ", \"as_dst\": "), r.dst_as);
      break;
    case a::peer_src_ip:
      p = put_optional_address(put(p, ", \"peer_ip_src\": \""), r.exporter);
      *p++ = '"';
      break;
    case a::peer_dst_ip:
      p = put_optional_address(put(p, ", \"peer_ip_dst\": \""), r.bgp_next_hop);
      *p++ = '"';
      break;
    case a::in_iface:
      p = put_uint(put(p, ", \"iface_in\": "), r.input_interface);
      break;
    case a::out_iface:
      p = put_uint(put(p, ", \"iface_out\": "), r.output_interface);
      break;
    case a::src_host:
      p = put(p, ", \"ip_src\": \"");
      if (has_addresses)
        p = put_address(p, r.src_addr);
      *p++ = '"';
      break;
    case a::src_net:
      p = put(p, ", \"net_src\": \"");
      if (has_addresses)
        p = put_network(p, r.src_addr, r.src_mask);
      *p++ = '"';
      break;
    case a::dst_host:
      p = put(p, ", \"ip_dst\": \"");
      if (has_addresses)
        p = put_address(p, r.dst_addr);
      *p++ = '"';
      break;
    case a::dst_net:
      p = put(p, ", \"net_dst\": \"");
      if (has_addresses)
        p = put_network(p, r.dst_addr, r.dst_mask);
      *p++ = '"';
      break;
    case a::src_mask:
      p = put_uint(put(p, ", \"mask_src\": "), r.src_mask);
      break;
    case a::dst_mask:
      p = put_uint(put(p, ", \"mask_dst\": "), r.dst_mask);
      break;
    case a::src_port:
      p = put_uint(put(p, ", \"port_src\": "), r.src_port);
      break;
    case a::dst_port:
      p = put_uint(put(p, ", \"port_dst\": "), r.dst_port);
      break;
    case a::tcpflags:
      p = put_uint(put(p, ", \"tcp_flags\": \""), r.tcp_flags);
      *p++ = '"';
      break;
    case a::proto:
      p = put(p, ", \"ip_proto\": \"");
      if (auto name = ip_proto_names[r.ip_protocol]; !name.empty())
        p = put(p, name);
      else
        p = put_uint(p, r.ip_protocol);
      *p++ = '"';
      break;
    case a::tos:
      p = put_uint(put(p, ", \"tos\": "), r.tos);
      break;
    case a::sampling_rate:
      p = put_uint(put(p, ", \"sampling_rate\": "), r.sampling_rate);
      break;
    case a::timestamp_start:
      p = put_timestamp(put(p, ", \"timestamp_start\": \""), r.flow_start_us);
      *p++ = '"';
      break;
    case a::timestamp_end:
      p = put_timestamp(put(p, ", \"timestamp_end\": \""), r.flow_end_us);
      *p++ = '"';
      break;
    case a::export_proto_version:
      p = put_uint(put(p, ", \"export_proto_version\": "),
                   proto_version_number(r.protocol_version));
      break;
    case a::peer_src_as:
      p = put_uint(put(p, ", \"peer_as_src\": "), r.src_peer_as);
      break;
    case a::peer_dst_as:
      p = put_uint(put(p, ", \"peer_as_dst\": "), r.dst_peer_as);
      break;
    case a::src_host_country:
      p = put_country(put(p, ", \"country_ip_src\": \""), r.src_country);
      *p++ = '"';
      break;
    case a::dst_host_country:
      p = put_country(put(p, ", \"country_ip_dst\": \""), r.dst_country);
      *p++ = '"';
      break;
    case a::traffic_scope:
      p = put(put(p, ", \"traffic_scope\": \""), std::string_view(to_string(r.scope)));
      *p++ = '"';
      break;
    case a::count_:
      break;
    }
  }
  p = put_date(put(p, ", \"stamp_inserted\": \""), split_us(r.received_us).first);
  p = put_date(put(p, "\", \"stamp_updated\": \""), split_us(updated_us).first);
  p = put_uint(put(p, "\", \"flows\": "), r.flows);
  p = put_uint(put(p, ", \"packets\": "), r.packets);
  p = put_uint(put(p, ", \"bytes\": "), r.bytes);
  p = put(p, "}\n");
  out.append(line, size_t(p - line));
}

} // namespace tidewatch
