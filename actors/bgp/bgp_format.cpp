#include "actors/bgp/bgp_format.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <tuple>

namespace tidewatch {

namespace {

/// Appends the decimal text of v (no allocation beyond the string's growth).
void append(std::string& out, uint64_t v) {
  char buf[20];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

/// Appends "a:b", "a:b:c", ... from decimal numbers.
void append_joined(std::string& out, std::initializer_list<uint64_t> parts) {
  bool first = true;
  for (auto v : parts) {
    if (!first)
      out += ':';
    first = false;
    append(out, v);
  }
}

} // namespace

std::string format_as_path(const bgp_path_attributes& a) {
  std::string out;
  size_t at = 0;
  for (auto s : a.segments) {
    auto type = as_segment_type(s >> 8);
    size_t count = s & 0xff;
    const char* open = "";
    const char* close = "";
    char separator = '_';
    switch (type) {
    case as_segment_type::set:
      open = "{", close = "}", separator = ',';
      break;
    case as_segment_type::confed_sequence:
      open = "(", close = ")";
      break;
    case as_segment_type::confed_set:
      open = "[", close = "]", separator = ',';
      break;
    case as_segment_type::sequence:
      break;
    }
    if (!out.empty())
      out += '_';
    out += open;
    for (size_t i = 0; i < count && at < a.as_path.size(); ++i, ++at) {
      if (i > 0)
        out += separator;
      append(out, a.as_path[at]);
    }
    out += close;
  }
  return out;
}

std::string format_communities(const bgp_path_attributes& a) {
  std::string out;
  auto sorted = a.communities;
  std::sort(sorted.begin(), sorted.end());
  for (auto c : sorted) {
    if (!out.empty())
      out += '_';
    switch (c) {
    case 0xFFFFFF01:
      out += "no-export";
      break;
    case 0xFFFFFF02:
      out += "no-advertise";
      break;
    case 0xFFFFFF03:
      out += "local-AS";
      break;
    default:
      append_joined(out, {c >> 16, c & 0xffff});
    }
  }
  return out;
}

std::string format_extended_communities(const bgp_path_attributes& a) {
  std::string out;
  for (auto c : a.extended_communities) {
    if (!out.empty())
      out += '_';
    uint8_t type = uint8_t(c >> 56);
    uint8_t subtype = uint8_t(c >> 48);
    const char* name = subtype == 2 ? "RT" : subtype == 3 ? "SoO" : nullptr;
    if (name && (type == 0x00 || type == 0x40)) {
      out.append(name).append(":");
      append_joined(out, {(c >> 32) & 0xffff, c & 0xffffffff});
    } else if (name && (type == 0x01 || type == 0x41)) {
      out.append(name).append(":");
      for (int shift = 40; shift >= 16; shift -= 8) {
        append(out, (c >> shift) & 0xff);
        out += shift > 16 ? '.' : ':';
      }
      append(out, c & 0xffff);
    } else if (name && (type == 0x02 || type == 0x42)) {
      out.append(name).append(":");
      append_joined(out, {(c >> 16) & 0xffffffff, c & 0xffff});
    } else {
      char hex[19];
      std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(c));
      out.append(hex);
    }
  }
  return out;
}

std::string format_large_communities(const bgp_path_attributes& a) {
  std::string out;
  auto sorted = a.large_communities;
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
    return std::tie(x.global, x.local1, x.local2) < std::tie(y.global, y.local1, y.local2);
  });
  for (auto& c : sorted) {
    if (!out.empty())
      out += '_';
    append_joined(out, {c.global, c.local1, c.local2});
  }
  return out;
}

uint32_t origin_as(const bgp_path_attributes& a) {
  size_t end = a.as_path.size();
  for (size_t i = a.segments.size(); i-- > 0;) {
    auto type = as_segment_type(a.segments[i] >> 8);
    size_t count = a.segments[i] & 0xff;
    if (count > end)
      return 0;
    if (type == as_segment_type::sequence)
      return a.as_path[end - 1];
    if (type == as_segment_type::set)
      return a.as_path[end - count];
    end -= count;
  }
  return 0;
}

uint32_t peer_as(const bgp_path_attributes& a) {
  size_t at = 0;
  for (auto s : a.segments) {
    auto type = as_segment_type(s >> 8);
    size_t count = s & 0xff;
    if ((type == as_segment_type::sequence || type == as_segment_type::set) &&
        at < a.as_path.size())
      return a.as_path[at];
    at += count;
  }
  return 0;
}

const char* origin_name(uint8_t origin) {
  switch (origin) {
  case 0:
    return "igp";
  case 1:
    return "egp";
  default:
    return "incomplete";
  }
}

} // namespace tidewatch
