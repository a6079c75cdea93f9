#include "actors/bgp/bgp_message.hpp"

#include <algorithm>
#include <bitset>
#include <cstring>

#include "actors/common/byte_order.hpp"

namespace tidewatch {

namespace {

using detail::load_be16;
using detail::load_be32;
using detail::load_be64;

constexpr uint8_t flag_optional = 0x80;
constexpr uint8_t flag_transitive = 0x40;
constexpr uint8_t flag_extended = 0x10;

// Path attribute type codes.
constexpr uint8_t attr_origin = 1;
constexpr uint8_t attr_as_path = 2;
constexpr uint8_t attr_next_hop = 3;
constexpr uint8_t attr_med = 4;
constexpr uint8_t attr_local_pref = 5;
constexpr uint8_t attr_atomic_aggregate = 6;
constexpr uint8_t attr_aggregator = 7;
constexpr uint8_t attr_communities = 8;
constexpr uint8_t attr_mp_reach = 14;
constexpr uint8_t attr_mp_unreach = 15;
constexpr uint8_t attr_extended_communities = 16;
constexpr uint8_t attr_as4_path = 17;
constexpr uint8_t attr_as4_aggregator = 18;
constexpr uint8_t attr_large_communities = 32;

// UPDATE message error subcodes (RFC 4271 §6.3).
constexpr uint8_t malformed_attribute_list = 1;
constexpr uint8_t unrecognized_well_known = 2;
constexpr uint8_t optional_attribute_error = 9;
constexpr uint8_t invalid_network_field = 10;

bgp_error make_error(uint8_t code, uint8_t subcode, std::vector<uint8_t> data = {}) {
  return bgp_error{code, subcode, std::move(data)};
}

/// The family of an (AFI, SAFI) pair; false for any but IPv4/IPv6 unicast.
bool family_of(uint16_t afi, uint8_t safi, bgp_family& out) {
  if (safi != 1 || (afi != 1 && afi != 2))
    return false;
  out = afi == 1 ? bgp_family::ipv4 : bgp_family::ipv6;
  return true;
}

/// Reads a run of NLRI ([path id] length prefix-bytes) of one family.
bool parse_prefixes(const uint8_t* p, size_t size, bgp_family family, bool add_path,
                    std::vector<bgp_route>& out) {
  const unsigned max_length = family == bgp_family::ipv4 ? 32 : 128;
  size_t pos = 0;
  while (pos < size) {
    bgp_route r;
    if (add_path) {
      if (size - pos < 5)
        return false;
      r.path_id = load_be32(p + pos);
      pos += 4;
    }
    unsigned length = p[pos++];
    size_t bytes = (length + 7) / 8;
    if (length > max_length || size - pos < bytes)
      return false;
    uint8_t network[16] = {};
    std::memcpy(network, p + pos, bytes);
    if (length % 8)
      network[bytes - 1] &= uint8_t(0xff << (8 - length % 8));
    r.network = family == bgp_family::ipv4 ? ip_address::from_v4_bytes(network)
                                           : ip_address::from_v6_bytes(network);
    r.length = uint8_t(length);
    out.push_back(r);
    pos += bytes;
  }
  return true;
}

/// Reads AS_PATH or AS4_PATH segments with AS numbers of `as_size` bytes.
bool parse_as_path(const uint8_t* p, size_t size, size_t as_size, std::vector<uint16_t>& segments,
                   std::vector<uint32_t>& path) {
  segments.clear();
  path.clear();
  size_t pos = 0;
  while (pos < size) {
    if (size - pos < 2)
      return false;
    uint8_t type = p[pos];
    uint8_t count = p[pos + 1];
    pos += 2;
    if (type < 1 || type > 4 || count == 0 || size - pos < count * as_size)
      return false;
    segments.push_back(uint16_t(type << 8 | count));
    for (unsigned i = 0; i < count; ++i, pos += as_size)
      path.push_back(as_size == 4 ? load_be32(p + pos) : load_be16(p + pos));
  }
  return true;
}

/// Path length as RFC 4271 §9.1.2.2 counts it: a set counts one, confederation segments none.
size_t path_count(const std::vector<uint16_t>& segments) {
  size_t n = 0;
  for (auto s : segments) {
    auto type = as_segment_type(s >> 8);
    if (type == as_segment_type::sequence)
      n += s & 0xff;
    else if (type == as_segment_type::set)
      n += 1;
  }
  return n;
}

/// RFC 6793 §4.2.3: the leading AS_PATH numbers AS4_PATH does not cover, then AS4_PATH.
void merge_as4_path(bgp_path_attributes& a, const std::vector<uint16_t>& as4_segments,
                    const std::vector<uint32_t>& as4_path) {
  size_t have = path_count(a.segments);
  size_t have4 = path_count(as4_segments);
  if (have < have4)
    return;
  size_t keep = have - have4;
  std::vector<uint16_t> segments;
  std::vector<uint32_t> path;
  size_t at = 0;
  for (auto s : a.segments) {
    auto type = as_segment_type(s >> 8);
    size_t count = s & 0xff;
    size_t take = count;
    if (type == as_segment_type::sequence)
      take = std::min(count, keep);
    else if (type == as_segment_type::set && keep == 0)
      take = 0;
    if (take > 0) {
      segments.push_back(uint16_t((s & 0xff00) | take));
      path.insert(path.end(), a.as_path.begin() + at, a.as_path.begin() + at + take);
    }
    if (type == as_segment_type::sequence)
      keep -= take;
    else if (type == as_segment_type::set && take > 0)
      keep -= 1;
    at += count;
  }
  at = 0;
  for (auto s : as4_segments) {
    auto type = as_segment_type(s >> 8);
    size_t count = s & 0xff;
    if (type == as_segment_type::sequence || type == as_segment_type::set) {
      // Two sequences meeting at the seam are one segment if it fits.
      if (type == as_segment_type::sequence && !segments.empty() &&
          as_segment_type(segments.back() >> 8) == as_segment_type::sequence &&
          (segments.back() & 0xff) + count <= 255)
        segments.back() = uint16_t(segments.back() + count);
      else
        segments.push_back(s);
      path.insert(path.end(), as4_path.begin() + at, as4_path.begin() + at + count);
    }
    at += count;
  }
  a.segments = std::move(segments);
  a.as_path = std::move(path);
}

/// The flag bits (optional, transitive) an attribute must carry; -1 for
/// types whose flags are not checked.
int expected_flags(uint8_t type) {
  switch (type) {
  case attr_origin:
  case attr_as_path:
  case attr_next_hop:
  case attr_local_pref:
  case attr_atomic_aggregate:
    return flag_transitive;
  case attr_med:
  case attr_mp_reach:
  case attr_mp_unreach:
    return flag_optional;
  case attr_aggregator:
  case attr_communities:
  case attr_extended_communities:
  case attr_as4_path:
  case attr_as4_aggregator:
  case attr_large_communities:
    return flag_optional | flag_transitive;
  default:
    return -1;
  }
}

} // namespace

void bgp_update::clear() {
  outcome = bgp_update_outcome::apply;
  error = {};
  discarded = 0;
  has_attributes = false;
  end_of_rib = false;
  withdrawn.clear();
  announced.clear();
  auto& a = attributes;
  a.origin = 2;
  a.flags = 0;
  a.segments.clear();
  a.as_path.clear();
  a.next_hop = {};
  a.med = 0;
  a.local_pref = 0;
  a.communities.clear();
  a.extended_communities.clear();
  a.large_communities.clear();
}

bgp_error parse_header(const uint8_t* p, bgp_header& out) {
  for (size_t i = 0; i < 16; ++i)
    if (p[i] != 0xff)
      return make_error(bgp_error_code::header, 1);
  uint16_t length = load_be16(p + 16);
  uint8_t type = p[18];
  size_t min = 0;
  size_t max = bgp_max_message_size;
  switch (bgp_message_type(type)) {
  case bgp_message_type::open:
    min = 29;
    break;
  case bgp_message_type::update:
    min = 23;
    break;
  case bgp_message_type::notification:
    min = 21;
    break;
  case bgp_message_type::keepalive:
    min = max = 19;
    break;
  case bgp_message_type::route_refresh:
    min = max = 23;
    break;
  default:
    return make_error(bgp_error_code::header, 3, {type});
  }
  if (length < min || length > max)
    return make_error(bgp_error_code::header, 2, {p[16], p[17]});
  out.type = bgp_message_type(type);
  out.length = length;
  return {};
}

bgp_error parse_open(const uint8_t* p, size_t size, bgp_open& out) {
  out = {};
  if (size < 10)
    return make_error(bgp_error_code::header, 2);
  out.version = p[0];
  if (out.version != 4)
    return make_error(bgp_error_code::open, 1, {0, 4});
  out.as = load_be16(p + 1);
  out.hold_time = load_be16(p + 3);
  out.router_id = load_be32(p + 5);
  size_t params = p[9];
  if (params != size - 10)
    return make_error(bgp_error_code::open, 0);
  if (out.hold_time == 1 || out.hold_time == 2)
    return make_error(bgp_error_code::open, 6);
  if (out.router_id == 0)
    return make_error(bgp_error_code::open, 3);
  size_t pos = 10;
  while (pos < size) {
    if (size - pos < 2 || size - pos - 2 < p[pos + 1])
      return make_error(bgp_error_code::open, 0);
    uint8_t param = p[pos];
    size_t end = pos + 2 + p[pos + 1];
    pos += 2;
    if (param != 2) { // only capabilities (RFC 5492) are defined
      pos = end;
      continue;
    }
    while (pos < end) {
      if (end - pos < 2 || end - pos - 2 < p[pos + 1])
        return make_error(bgp_error_code::open, 0);
      uint8_t code = p[pos];
      size_t len = p[pos + 1];
      const uint8_t* v = p + pos + 2;
      pos += 2 + len;
      bgp_family family;
      switch (code) {
      case 1: // multiprotocol
        out.any_family_capability = true;
        if (len == 4 && family_of(load_be16(v), v[3], family))
          out.families[size_t(family)] = true;
        break;
      case 2: // route refresh
        out.route_refresh = true;
        break;
      case 64: // graceful restart
        if (len < 2)
          break;
        out.graceful_restart = true;
        out.restarting = v[0] & 0x80;
        out.restart_time = load_be16(v) & 0x0fff;
        for (size_t i = 2; i + 4 <= len; i += 4)
          if (family_of(load_be16(v + i), v[i + 2], family))
            out.restart_families[size_t(family)] = true;
        break;
      case 65: // 4-octet AS
        if (len == 4) {
          out.four_octet_as = true;
          out.as = load_be32(v);
        }
        break;
      case 69: // ADD-PATH
        for (size_t i = 0; i + 4 <= len; i += 4)
          if (family_of(load_be16(v + i), v[i + 2], family))
            out.add_path[size_t(family)] = v[i + 3] & 3;
        break;
      default:
        break;
      }
    }
  }
  if (!out.any_family_capability)
    out.families[size_t(bgp_family::ipv4)] = true;
  return {};
}

void parse_update(const uint8_t* p, size_t size, const bgp_update_options& options,
                  bgp_update& out) {
  out.clear();
  auto reset = [&out](uint8_t subcode) {
    out.outcome = bgp_update_outcome::session_reset;
    out.error = make_error(bgp_error_code::update, subcode);
  };
  auto withdraw = [&out] {
    if (out.outcome == bgp_update_outcome::apply)
      out.outcome = bgp_update_outcome::treat_as_withdraw;
  };
  if (size < 4)
    return reset(malformed_attribute_list);
  size_t withdrawn_length = load_be16(p);
  if (size - 2 < withdrawn_length + 2)
    return reset(malformed_attribute_list);
  const bool v4_add_path = options.add_path[size_t(bgp_family::ipv4)];
  if (!parse_prefixes(p + 2, withdrawn_length, bgp_family::ipv4, v4_add_path, out.withdrawn))
    return reset(invalid_network_field);
  size_t attributes_begin = 2 + withdrawn_length + 2;
  size_t attributes_length = load_be16(p + attributes_begin - 2);
  if (size - attributes_begin < attributes_length)
    return reset(malformed_attribute_list);
  size_t attributes_end = attributes_begin + attributes_length;
  out.has_attributes = attributes_length > 0;

  auto& a = out.attributes;
  std::bitset<256> seen;
  bool has_nlri_attributes = false; // MP_REACH with prefixes
  bool as4_valid = false;
  thread_local std::vector<uint16_t> as4_segments;
  thread_local std::vector<uint32_t> as4_path;
  size_t pos = attributes_begin;
  while (pos < attributes_end) {
    size_t left = attributes_end - pos;
    if (left < 3) {
      withdraw();
      break;
    }
    uint8_t flags = p[pos];
    uint8_t type = p[pos + 1];
    size_t header = flags & flag_extended ? 4 : 3;
    if (left < header) {
      withdraw();
      break;
    }
    size_t len = header == 4 ? load_be16(p + pos + 2) : p[pos + 2];
    if (left - header < len) {
      withdraw();
      break;
    }
    const uint8_t* v = p + pos + header;
    pos += header + len;
    if (seen[type]) {
      if (type == attr_mp_reach || type == attr_mp_unreach)
        return reset(malformed_attribute_list);
      ++out.discarded;
      continue;
    }
    seen[type] = true;
    int expected = expected_flags(type);
    bool flags_ok = expected < 0 || (flags & (flag_optional | flag_transitive)) == expected;
    switch (type) {
    case attr_origin:
      if (!flags_ok || len != 1 || v[0] > 2)
        withdraw();
      else
        a.origin = v[0];
      break;
    case attr_as_path:
      if (!flags_ok || !parse_as_path(v, len, options.four_octet_as ? 4 : 2, a.segments, a.as_path))
        withdraw();
      break;
    case attr_next_hop:
      if (!flags_ok || len != 4)
        withdraw();
      else
        a.next_hop = ip_address::from_v4_bytes(v);
      break;
    case attr_med:
    case attr_local_pref:
      if (!flags_ok || len != 4) {
        withdraw();
      } else if (type == attr_med) {
        a.med = load_be32(v);
        a.flags |= bgp_path_attributes::has_med;
      } else {
        a.local_pref = load_be32(v);
        a.flags |= bgp_path_attributes::has_local_pref;
      }
      break;
    case attr_atomic_aggregate:
      if (!flags_ok || len != 0)
        ++out.discarded;
      else
        a.flags |= bgp_path_attributes::has_atomic_aggregate;
      break;
    case attr_aggregator:
    case attr_as4_aggregator:
      // Not kept; RFC 7606 §7.7: a malformed one is discarded.
      if (!flags_ok || len != (type == attr_as4_aggregator || options.four_octet_as ? 8u : 6u))
        ++out.discarded;
      break;
    case attr_communities:
    case attr_extended_communities:
    case attr_large_communities: {
      size_t unit = type == attr_communities ? 4 : type == attr_extended_communities ? 8 : 12;
      if (!flags_ok || len == 0 || len % unit) {
        withdraw();
        break;
      }
      for (size_t i = 0; i < len; i += unit)
        if (type == attr_communities)
          a.communities.push_back(load_be32(v + i));
        else if (type == attr_extended_communities)
          a.extended_communities.push_back(load_be64(v + i));
        else
          a.large_communities.push_back(
              {load_be32(v + i), load_be32(v + i + 4), load_be32(v + i + 8)});
      break;
    }
    case attr_as4_path:
      // A 4-octet speaker's AS4_PATH is ignored; a malformed one is discarded.
      if (options.four_octet_as)
        break;
      as4_valid = flags_ok && parse_as_path(v, len, 4, as4_segments, as4_path);
      if (!as4_valid)
        ++out.discarded;
      break;
    case attr_mp_reach: {
      if (!flags_ok || len < 5)
        return reset(optional_attribute_error);
      bgp_family family;
      if (!family_of(load_be16(v), v[2], family))
        break; // a family we did not negotiate: ignored
      size_t nh_length = v[3];
      bool nh_ok =
          family == bgp_family::ipv4 ? nh_length == 4 : (nh_length == 16 || nh_length == 32);
      if (!nh_ok || len < 5 + nh_length)
        return reset(optional_attribute_error);
      a.next_hop = family == bgp_family::ipv4 ? ip_address::from_v4_bytes(v + 4)
                                              : ip_address::from_v6_bytes(v + 4);
      size_t nlri = 4 + nh_length + 1;
      if (!parse_prefixes(v + nlri, len - nlri, family, options.add_path[size_t(family)],
                          out.announced))
        return reset(optional_attribute_error);
      has_nlri_attributes = true;
      break;
    }
    case attr_mp_unreach: {
      if (!flags_ok || len < 3)
        return reset(optional_attribute_error);
      bgp_family family;
      if (!family_of(load_be16(v), v[2], family))
        break;
      if (len == 3 && attributes_length == header + len && withdrawn_length == 0 &&
          attributes_end == size) {
        out.end_of_rib = true;
        out.end_of_rib_family = family;
      }
      if (!parse_prefixes(v + 3, len - 3, family, options.add_path[size_t(family)], out.withdrawn))
        return reset(optional_attribute_error);
      break;
    }
    default:
      if (!(flags & flag_optional))
        return reset(unrecognized_well_known);
      break; // unknown optional attributes are not kept
    }
  }
  if (as4_valid && seen[attr_as_path])
    merge_as4_path(a, as4_segments, as4_path);
  size_t v4_begin = out.announced.size();
  if (!parse_prefixes(p + attributes_end, size - attributes_end, bgp_family::ipv4, v4_add_path,
                      out.announced))
    return reset(invalid_network_field);
  bool has_v4_nlri = out.announced.size() > v4_begin;
  if (has_v4_nlri || has_nlri_attributes) {
    // RFC 7606 §3 d: a missing well-known mandatory attribute means withdraw.
    if (!seen[attr_origin] || !seen[attr_as_path] || (has_v4_nlri && !seen[attr_next_hop]))
      withdraw();
  }
  if (size == 4) {
    out.end_of_rib = true;
    out.end_of_rib_family = bgp_family::ipv4;
  }
  if (out.outcome == bgp_update_outcome::treat_as_withdraw) {
    out.withdrawn.insert(out.withdrawn.end(), out.announced.begin(), out.announced.end());
    out.announced.clear();
  }
}

bgp_error parse_notification(const uint8_t* p, size_t size) {
  if (size < 2)
    return make_error(bgp_error_code::header, 2);
  return make_error(p[0], p[1], std::vector<uint8_t>(p + 2, p + size));
}

bool parse_route_refresh(const uint8_t* p, size_t size, bgp_family& out) {
  // AFI, then the reserved byte (RFC 7313's subtype: 0 is a request), then SAFI.
  return size == 4 && p[2] == 0 && family_of(load_be16(p), p[3], out);
}

// -- encoders --

namespace {

/// Appends a header with a placeholder length; returns where the message starts.
size_t begin_message(bgp_message_type type, std::vector<uint8_t>& out) {
  size_t start = out.size();
  out.insert(out.end(), 16, 0xff);
  out.push_back(0);
  out.push_back(0);
  out.push_back(uint8_t(type));
  return start;
}

void end_message(size_t start, std::vector<uint8_t>& out) {
  detail::store_be16(out.data() + start + 16, uint16_t(out.size() - start));
}

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}

void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, uint16_t(v >> 16));
  put16(out, uint16_t(v));
}

void put_prefix(std::vector<uint8_t>& out, const bgp_route& r, bool add_path) {
  if (add_path)
    put32(out, r.path_id);
  out.push_back(r.length);
  const uint8_t* bytes = r.network.bytes.data() + (r.network.is_v4() ? 12 : 0);
  out.insert(out.end(), bytes, bytes + (r.length + 7) / 8);
}

/// Starts an attribute with an extended (2-byte) length; returns the length's offset.
size_t begin_attribute(std::vector<uint8_t>& out, uint8_t flags, uint8_t type) {
  out.push_back(uint8_t(flags | flag_extended));
  out.push_back(type);
  put16(out, 0);
  return out.size() - 2;
}

void end_attribute(std::vector<uint8_t>& out, size_t at) {
  detail::store_be16(out.data() + at, uint16_t(out.size() - at - 2));
}

} // namespace

void encode_open(const bgp_open& open, std::vector<uint8_t>& out) {
  size_t start = begin_message(bgp_message_type::open, out);
  out.push_back(open.version);
  put16(out, open.as > 0xffff ? as_trans : uint16_t(open.as));
  put16(out, open.hold_time);
  put32(out, open.router_id);
  size_t params_at = out.size();
  out.push_back(0);
  out.push_back(2); // capabilities
  size_t caps_at = out.size();
  out.push_back(0);
  auto cap = [&out](uint8_t code, std::initializer_list<uint8_t> value) {
    out.push_back(code);
    out.push_back(uint8_t(value.size()));
    out.insert(out.end(), value);
  };
  for (size_t f = 0; f < bgp_family_count; ++f)
    if (open.families[f])
      cap(1, {0, uint8_t(f + 1), 0, 1});
  if (open.route_refresh)
    cap(2, {});
  if (open.four_octet_as)
    cap(65,
        {uint8_t(open.as >> 24), uint8_t(open.as >> 16), uint8_t(open.as >> 8), uint8_t(open.as)});
  if (open.graceful_restart) {
    out.push_back(64);
    size_t len_at = out.size();
    out.push_back(0);
    put16(out, uint16_t((open.restarting ? 0x8000 : 0) | (open.restart_time & 0x0fff)));
    for (size_t f = 0; f < bgp_family_count; ++f)
      if (open.restart_families[f])
        out.insert(out.end(), {0, uint8_t(f + 1), 1, 0});
    out[len_at] = uint8_t(out.size() - len_at - 1);
  }
  bool any_add_path = false;
  for (auto mode : open.add_path)
    any_add_path |= mode != 0;
  if (any_add_path) {
    out.push_back(69);
    size_t len_at = out.size();
    out.push_back(0);
    for (size_t f = 0; f < bgp_family_count; ++f)
      if (open.add_path[f])
        out.insert(out.end(), {0, uint8_t(f + 1), 1, open.add_path[f]});
    out[len_at] = uint8_t(out.size() - len_at - 1);
  }
  out[caps_at] = uint8_t(out.size() - caps_at - 1);
  out[params_at] = uint8_t(out.size() - params_at - 1);
  end_message(start, out);
}

void encode_keepalive(std::vector<uint8_t>& out) {
  end_message(begin_message(bgp_message_type::keepalive, out), out);
}

void encode_notification(const bgp_error& error, std::vector<uint8_t>& out) {
  size_t start = begin_message(bgp_message_type::notification, out);
  out.push_back(error.code);
  out.push_back(error.subcode);
  out.insert(out.end(), error.data.begin(), error.data.end());
  end_message(start, out);
}

void encode_update(const std::vector<bgp_route>& routes, const bgp_path_attributes* attributes,
                   bool add_path, std::vector<uint8_t>& out) {
  size_t start = begin_message(bgp_message_type::update, out);
  bool v4 = routes.empty() || routes.front().network.is_v4();
  size_t withdrawn_at = out.size();
  put16(out, 0);
  if (v4 && !attributes)
    for (auto& r : routes)
      put_prefix(out, r, add_path);
  detail::store_be16(out.data() + withdrawn_at, uint16_t(out.size() - withdrawn_at - 2));
  size_t attributes_at = out.size();
  put16(out, 0);
  if (!v4 && !attributes) {
    size_t at = begin_attribute(out, flag_optional, attr_mp_unreach);
    out.insert(out.end(), {0, 2, 1});
    for (auto& r : routes)
      put_prefix(out, r, add_path);
    end_attribute(out, at);
  }
  if (attributes) {
    const auto& a = *attributes;
    size_t at = begin_attribute(out, flag_transitive, attr_origin);
    out.push_back(a.origin);
    end_attribute(out, at);
    at = begin_attribute(out, flag_transitive, attr_as_path);
    size_t as = 0;
    for (auto s : a.segments) {
      out.push_back(uint8_t(s >> 8));
      out.push_back(uint8_t(s));
      for (size_t i = 0; i < (s & 0xffu); ++i)
        put32(out, a.as_path[as++]);
    }
    end_attribute(out, at);
    if (v4) {
      at = begin_attribute(out, flag_transitive, attr_next_hop);
      out.insert(out.end(), a.next_hop.bytes.begin() + 12, a.next_hop.bytes.end());
      end_attribute(out, at);
    }
    if (a.flags & bgp_path_attributes::has_med) {
      at = begin_attribute(out, flag_optional, attr_med);
      put32(out, a.med);
      end_attribute(out, at);
    }
    if (a.flags & bgp_path_attributes::has_local_pref) {
      at = begin_attribute(out, flag_transitive, attr_local_pref);
      put32(out, a.local_pref);
      end_attribute(out, at);
    }
    if (!a.communities.empty()) {
      at = begin_attribute(out, flag_optional | flag_transitive, attr_communities);
      for (auto c : a.communities)
        put32(out, c);
      end_attribute(out, at);
    }
    if (!a.large_communities.empty()) {
      at = begin_attribute(out, flag_optional | flag_transitive, attr_large_communities);
      for (auto& c : a.large_communities) {
        put32(out, c.global);
        put32(out, c.local1);
        put32(out, c.local2);
      }
      end_attribute(out, at);
    }
    if (!v4) {
      at = begin_attribute(out, flag_optional, attr_mp_reach);
      out.insert(out.end(), {0, 2, 1, 16});
      out.insert(out.end(), a.next_hop.bytes.begin(), a.next_hop.bytes.end());
      out.push_back(0);
      for (auto& r : routes)
        put_prefix(out, r, add_path);
      end_attribute(out, at);
    }
  }
  detail::store_be16(out.data() + attributes_at, uint16_t(out.size() - attributes_at - 2));
  if (v4 && attributes)
    for (auto& r : routes)
      put_prefix(out, r, add_path);
  end_message(start, out);
}

void encode_end_of_rib(bgp_family family, std::vector<uint8_t>& out) {
  if (family == bgp_family::ipv4)
    return encode_update({}, nullptr, false, out);
  size_t start = begin_message(bgp_message_type::update, out);
  put16(out, 0);
  put16(out, 6);
  out.insert(out.end(), {flag_optional, attr_mp_unreach, 3, 0, 2, 1});
  end_message(start, out);
}

} // namespace tidewatch
