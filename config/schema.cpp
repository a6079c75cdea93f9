// The YAML schema of a node's configuration. Each section is described once,
// in a `describe` function that both the reader (validation) and the writer
// (`config check` output) walk, so the accepted keys, the defaults and the
// printed effective config always agree.

#include <syslog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "actors/sink/flow_aggregator.hpp"
#include "actors/sink/json_encoder.hpp"
#include "actors/sink/kafka_producer.hpp"
#include "config/config.hpp"
#include "messages/address.hpp"

namespace tidewatch {

namespace {

// -- constraints on scalar values -----------------------------------------------

struct no_check {};
template <class T> struct in_range {
  T min;
  T max;
};
struct one_of {
  std::vector<std::string> choices;
};
/// An address or prefix such as 192.0.2.0/24 or 2001:db8::/32.
struct address_or_prefix {};
struct ip_literal {};
/// A standard BGP community such as 65535:666.
struct community {};

std::vector<std::string> json_field_choices() {
  std::vector<std::string> names;
  for (size_t i = 0; i < size_t(json_field::count_); ++i)
    names.emplace_back(json_field_name(json_field(i)));
  return names;
}

std::vector<std::string> aggregate_primitive_choices() {
  std::vector<std::string> names;
  for (auto name : aggregate_primitive_names())
    names.emplace_back(name);
  return names;
}
/// host:port, or empty.
struct host_port_or_empty {};

const std::map<std::string, int>& facilities() {
  static const std::map<std::string, int> names = {
      {"kern", LOG_KERN},     {"user", LOG_USER},     {"mail", LOG_MAIL},
      {"daemon", LOG_DAEMON}, {"auth", LOG_AUTH},     {"syslog", LOG_SYSLOG},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  return names;
}

std::vector<std::string> facility_names() {
  std::vector<std::string> xs;
  for (auto& [name, code] : facilities())
    xs.push_back(name);
  return xs;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

bool valid_address_or_prefix(const std::string& text) {
  auto slash = text.find('/');
  ip_address addr;
  if (!ip_address::parse(text.substr(0, slash), addr))
    return false;
  if (slash == std::string::npos)
    return true;
  auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc{} || ptr != len_text.data() + len_text.size() || len_text.empty())
    return false;
  return len <= (text.find(':') == std::string::npos ? 32u : 128u);
}

// -- duration and size text --------------------------------------------------------

bool parse_duration(const std::string& text, std::chrono::milliseconds& out) {
  static const std::pair<const char*, int64_t> units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  for (auto& [suffix, factor] : units) {
    auto n = std::strlen(suffix);
    if (text.size() <= n || text.compare(text.size() - n, n, suffix) != 0)
      continue;
    auto digits = text.substr(0, text.size() - n);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || value < 0)
      continue;
    if (value > std::numeric_limits<int64_t>::max() / factor)
      return false;
    out = std::chrono::milliseconds(value * factor);
    return true;
  }
  return false;
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms == 0)
    return "0s";
  if (ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool parse_size(const std::string& text, uint64_t& out) {
  static const std::pair<const char*, uint64_t> units[] = {{"KiB", 1ull << 10},
                                                           {"MiB", 1ull << 20},
                                                           {"GiB", 1ull << 30},
                                                           {"KB", 1000},
                                                           {"MB", 1000'000},
                                                           {"GB", 1000'000'000},
                                                           {"B", 1},
                                                           {"", 1}};
  for (auto& [suffix, factor] : units) {
    auto n = std::strlen(suffix);
    if (text.size() <= n || text.compare(text.size() - n, n, suffix) != 0)
      continue;
    auto digits = text.substr(0, text.size() - n);
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || ptr != digits.data() + digits.size())
      continue;
    if (value > std::numeric_limits<uint64_t>::max() / factor)
      return false;
    out = value * factor;
    return true;
  }
  return false;
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0)
    return std::to_string(bytes >> 30) + "GiB";
  if (bytes != 0 && bytes % (1ull << 20) == 0)
    return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % (1ull << 10) == 0)
    return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

/// A byte count: `uint64_t` fields described as sizes accept "32MiB".
struct size_value {
  uint64_t& ref;
};

// -- reader ----------------------------------------------------------------------------

class reader {
public:
  reader(std::string file, std::vector<config_error>& errors)
      : file_(std::move(file)), errors_(errors) {}

  /// Reads the mapping `node` (at `path`) into `value` via describe().
  template <class T> void read_section(const YAML::Node& node, const std::string& path, T& value) {
    if (!node || node.IsNull())
      return;
    if (!node.IsMap()) {
      error(node, path, "expected a mapping of keys");
      return;
    }
    std::set<std::string> known;
    frame f{node, path, &known};
    auto* saved = current_;
    current_ = &f;
    describe(*this, value);
    current_ = saved;
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto key = it->first.Scalar();
      if (!known.contains(key))
        error(it->first, join_path(path, key), "unknown key" + suggestion(key, known));
    }
  }

  template <class T> void section(const char* key, T& value) {
    auto child = lookup(key);
    read_section(child, join_path(current_->path, key), value);
  }

  template <class T> void list(const char* key, std::vector<T>& values) {
    auto child = lookup(key);
    if (!child || child.IsNull())
      return;
    auto path = join_path(current_->path, key);
    if (!child.IsSequence()) {
      error(child, path, "expected a list");
      return;
    }
    values.clear();
    for (size_t i = 0; i < child.size(); ++i) {
      auto item_path = path + "[" + std::to_string(i) + "]";
      lines_[item_path] = child[i].Mark().line + 1;
      if constexpr (std::is_same_v<T, std::string>) {
        auto item = child[i];
        if (!item.IsScalar())
          error(item, item_path, "expected a string");
        else
          values.push_back(item.Scalar());
      } else {
        T item{};
        if (!child[i].IsMap()) {
          error(child[i], item_path, "expected a mapping of keys");
          continue;
        }
        read_section(child[i], item_path, item);
        values.push_back(std::move(item));
      }
    }
  }

  /// A list of strings, each checked by `check`.
  template <class Check> void list(const char* key, std::vector<std::string>& values, Check check) {
    list(key, values);
    auto child = lookup(key);
    auto path = join_path(current_->path, key);
    for (size_t i = 0; i < values.size() && child && child.IsSequence(); ++i)
      validate(child[i], path + "[" + std::to_string(i) + "]", values[i], check);
  }

  /// A mapping of names to scalar values, e.g. librdkafka properties.
  void map(const char* key, std::map<std::string, std::string>& values) {
    auto child = lookup(key);
    if (!child || child.IsNull())
      return;
    auto path = join_path(current_->path, key);
    if (!child.IsMap()) {
      error(child, path, "expected a mapping of names to values");
      return;
    }
    values.clear();
    for (auto it = child.begin(); it != child.end(); ++it) {
      auto name = it->first.Scalar();
      lines_[path + "." + name] = it->first.Mark().line + 1;
      if (!it->second.IsScalar())
        error(it->second, path + "." + name, "expected a single value");
      else
        values[name] = it->second.Scalar();
    }
  }

  template <class T, class Check = no_check>
  void field(const char* key, T& value, Check check = {}) {
    auto node = lookup(key);
    if (!node)
      return;
    auto path = join_path(current_->path, key);
    if (!node.IsScalar()) {
      error(node, path, std::string("expected ") + type_name<T>());
      return;
    }
    if (!convert(node, path, value))
      return;
    validate(node, path, value, check);
  }

  void field(const char* key, size_value value) {
    auto node = lookup(key);
    if (!node)
      return;
    auto path = join_path(current_->path, key);
    if (!node.IsScalar() || !parse_size(node.Scalar(), value.ref))
      error(node, path, "expected a size such as 4096, 64KiB or 32MiB, got '" + scalar(node) + "'");
  }

  /// The line where `path` was written, or that of its nearest written parent.
  int line_of(std::string path) const {
    for (;;) {
      if (auto it = lines_.find(path); it != lines_.end())
        return it->second;
      auto cut = path.find_last_of(".[");
      if (cut == std::string::npos)
        return 0;
      path.resize(cut);
    }
  }

  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    auto mark = node.Mark();
    errors_.push_back({file_, mark.is_null() ? 0 : mark.line + 1, path, message});
  }

private:
  struct frame {
    YAML::Node node;
    std::string path;
    std::set<std::string>* known;
  };

  YAML::Node lookup(const char* key) {
    current_->known->insert(key);
    for (auto it = current_->node.begin(); it != current_->node.end(); ++it)
      if (it->first.Scalar() == key) {
        lines_[join_path(current_->path, key)] = it->first.Mark().line + 1;
        return it->second;
      }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  static std::string scalar(const YAML::Node& node) {
    return node.IsScalar() ? node.Scalar() : "?";
  }

  static std::string join_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

  /// Edits (insert, delete, substitute, swap neighbours) between two keys.
  static size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
      d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
      d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
      for (size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min(
            {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  }

  /// "did you mean" for a key close to a known one, else the known keys.
  static std::string suggestion(const std::string& key, const std::set<std::string>& known) {
    for (auto& k : known)
      if (edit_distance(key, k) <= 2)
        return " (did you mean '" + k + "'?)";
    return known.empty() ? "" : " (known keys: " + join({known.begin(), known.end()}) + ")";
  }

  template <class T> static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>)
      return "true or false";
    else if constexpr (std::is_integral_v<T>)
      return "a whole number";
    else if constexpr (std::is_same_v<T, std::chrono::milliseconds>)
      return "a duration such as 500ms, 5s, 2m";
    else
      return "a string";
  }

  bool convert(const YAML::Node& node, const std::string& path, bool& out) {
    auto& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on")
      out = true;
    else if (s == "false" || s == "no" || s == "off")
      out = false;
    else
      return error(node, path, "expected true or false, got '" + s + "'"), false;
    return true;
  }

  template <class T>
  requires std::is_integral_v<T>
  bool convert(const YAML::Node& node, const std::string& path, T& out) {
    auto& s = node.Scalar();
    T value{};
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    bool negative_unsigned = std::is_unsigned_v<T> && s.size() > 1 && s[0] == '-' &&
                             s.find_first_not_of("0123456789", 1) == std::string::npos;
    if (ec == std::errc::result_out_of_range || negative_unsigned) {
      error(node, path,
            "'" + s + "' is out of range (" + std::to_string(std::numeric_limits<T>::min()) +
                " to " + std::to_string(std::numeric_limits<T>::max()) + ")");
      return false;
    }
    if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty()) {
      error(node, path, "expected a whole number, got '" + s + "'");
      return false;
    }
    out = value;
    return true;
  }

  bool convert(const YAML::Node& node, const std::string& path, std::string& out) {
    out = node.Scalar();
    (void)path;
    return true;
  }

  bool convert(const YAML::Node& node, const std::string& path, std::chrono::milliseconds& out) {
    if (parse_duration(node.Scalar(), out))
      return true;
    error(node, path,
          "expected a duration with a unit (ms, s, m, h, d) such as 500ms or 5s, got '" +
              node.Scalar() + "'");
    return false;
  }

  template <class T> void validate(const YAML::Node&, const std::string&, const T&, no_check) {}

  template <class T, class U>
  void validate(const YAML::Node& node, const std::string& path, const T& value, in_range<U> r) {
    if (value < r.min || value > r.max)
      error(node, path,
            "'" + node.Scalar() + "' is out of range (" + render(r.min) + " to " + render(r.max) +
                ")");
  }

  void validate(const YAML::Node& node, const std::string& path, const std::string& value,
                const one_of& c) {
    for (auto& x : c.choices)
      if (x == value)
        return;
    error(node, path, "'" + value + "' is not one of: " + join(c.choices));
  }

  void validate(const YAML::Node& node, const std::string& path, const std::string& value,
                address_or_prefix) {
    if (!valid_address_or_prefix(value))
      error(node, path, "'" + value + "' is not an IP address or prefix");
  }

  void validate(const YAML::Node& node, const std::string& path, const std::string& value,
                ip_literal) {
    ip_address a;
    if (!ip_address::parse(value, a))
      error(node, path, "'" + value + "' is not an IP address");
  }

  void validate(const YAML::Node& node, const std::string& path, const std::string& value,
                community) {
    uint32_t parsed = 0;
    if (!parse_community(value, parsed))
      error(node, path, "'" + value + "' is not a BGP community such as 65535:666");
  }

  void validate(const YAML::Node& node, const std::string& path, const std::string& value,
                host_port_or_empty) {
    std::string host;
    uint16_t port = 0;
    if (!value.empty() && !parse_host_port(value, host, port))
      error(node, path, "'" + value + "' is not host:port (IPv6: [address]:port)");
  }

  template <class T> static std::string render(const T& x) {
    if constexpr (std::is_same_v<T, std::chrono::milliseconds>)
      return format_duration(x);
    else
      return std::to_string(x);
  }

  std::string file_;
  std::vector<config_error>& errors_;
  frame* current_ = nullptr;
  std::map<std::string, int> lines_;
};

// -- writer ------------------------------------------------------------------------

class writer {
public:
  explicit writer(YAML::Emitter& out) : out_(out) {}

  template <class T> void section(const char* key, T& value) {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    describe(*this, value);
    out_ << YAML::EndMap;
  }

  template <class T, class... Check> void list(const char* key, std::vector<T>& values, Check...) {
    out_ << YAML::Key << key << YAML::Value;
    if (values.empty()) {
      out_ << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out_ << YAML::BeginSeq;
    for (auto& v : values) {
      if constexpr (std::is_same_v<T, std::string>) {
        out_ << v;
      } else {
        out_ << YAML::BeginMap;
        describe(*this, v);
        out_ << YAML::EndMap;
      }
    }
    out_ << YAML::EndSeq;
  }

  void map(const char* key, std::map<std::string, std::string>& values) {
    out_ << YAML::Key << key << YAML::Value;
    if (values.empty()) {
      out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out_ << YAML::BeginMap;
    for (auto& [name, value] : values)
      out_ << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << value;
    out_ << YAML::EndMap;
  }

  template <class T, class Check = no_check> void field(const char* key, T& value, Check = {}) {
    out_ << YAML::Key << key << YAML::Value;
    if constexpr (std::is_same_v<T, bool>)
      out_ << (value ? "true" : "false");
    else if constexpr (std::is_same_v<T, std::chrono::milliseconds>)
      out_ << format_duration(value);
    else if constexpr (std::is_same_v<T, uint8_t>)
      out_ << unsigned(value);
    else if constexpr (std::is_same_v<T, std::string>)
      out_ << YAML::DoubleQuoted << value;
    else
      out_ << value;
  }

  void field(const char* key, size_value value) {
    out_ << YAML::Key << key << YAML::Value << format_size(value.ref);
  }

private:
  YAML::Emitter& out_;
};

} // namespace

// -- the schema ----------------------------------------------------------------------

template <class V> void describe(V& v, inspector_config& x) {
  v.field("listen", x.listen, host_port_or_empty{});
  v.field("certificate", x.certificate);
  v.field("key", x.key);
  v.field("ca_file", x.ca_file);
}

template <class V> void describe(V& v, metrics_config& x) {
  v.field("listen", x.listen, host_port_or_empty{});
}

template <class V> void describe(V& v, node_section& x) {
  v.field("name", x.name);
  v.field("state_dir", x.state_dir);
  v.field("scheduler_threads", x.scheduler_threads, in_range<uint32_t>{0, 256});
  v.field("shutdown_timeout", x.shutdown_timeout,
          in_range<std::chrono::milliseconds>{std::chrono::milliseconds(100),
                                              std::chrono::milliseconds(600'000)});
  v.section("inspector", x.inspector);
  v.section("metrics", x.metrics);
}

template <class V> void describe(V& v, logging_config& x) {
  v.field("level", x.level, one_of{{"trace", "debug", "info", "warn", "error", "critical", "off"}});
  v.field("syslog", x.syslog);
  v.field("syslog_ident", x.syslog_ident);
  v.field("syslog_facility", x.syslog_facility, one_of{facility_names()});
}

template <class V> void describe(V& v, supervision_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("max_restarts", x.max_restarts, in_range<uint32_t>{0, 1000});
  v.field("window", x.window, in_range<ms>{ms(1000), ms(86'400'000)});
  v.field("backoff_initial", x.backoff_initial, in_range<ms>{ms(1), ms(600'000)});
  v.field("backoff_max", x.backoff_max, in_range<ms>{ms(1), ms(3'600'000)});
}

template <class V> void describe(V& v, listener_config& x) {
  v.field("address", x.address, ip_literal{});
  v.field("port", x.port, in_range<uint16_t>{1, 65535});
}

template <class V> void describe(V& v, decoder_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("pending_max_datagrams", x.pending_max_datagrams, in_range<uint32_t>{0, 1'000'000});
  v.field("pending_max_age", x.pending_max_age, in_range<ms>{ms(0), ms(600'000)});
  v.field("template_file", x.template_file);
  v.field("template_save_interval", x.template_save_interval, in_range<ms>{ms(100), ms(3'600'000)});
}

template <class V> void describe(V& v, sink_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("type", x.type, one_of{{"file", "stdout", "kafka"}});
  v.field("records", x.records, one_of{{"flows", "counters"}});
  v.field("unscaled_counters", x.unscaled_counters);
  v.list("fields", x.fields, one_of{json_field_choices()});
  v.list("scopes", x.scopes, one_of{{"inbound", "outbound", "internal", "external", "unknown"}});
  v.list("aggregate", x.aggregate, one_of{aggregate_primitive_choices()});
  v.field("aggregate_interval", x.aggregate_interval, in_range<ms>{ms(1000), ms(86'400'000)});
  // A sink takes (and prints) only its type's keys; `type` is read first.
  if (x.type != "kafka") {
    v.field("path", x.path);
    v.field("rotate_bytes", size_value{x.rotate_bytes});
    v.field("rotate_interval", x.rotate_interval);
    return;
  }
  v.field("topic", x.topic);
  v.field("brokers", x.brokers);
  v.field("key", x.key, one_of{{"none", "exporter", "src", "dst"}});
  v.map("properties", x.properties);
  v.field("queue_max_messages", x.queue_max_messages, in_range<uint64_t>{1, 10'000'000});
  v.field("queue_max_bytes", size_value{x.queue_max_bytes});
  v.field("spool_dir", x.spool_dir);
  v.field("spool_max_bytes", size_value{x.spool_max_bytes});
  v.field("flush_timeout", x.flush_timeout, in_range<ms>{ms(0), ms(600'000)});
  v.field("records_per_message", x.records_per_message, in_range<uint32_t>{1, 100'000});
}

template <class V> void describe(V& v, sampling_rule_config& x) {
  v.field("exporter", x.exporter, address_or_prefix{});
  v.field("rate", x.rate, in_range<uint32_t>{1, 1'000'000'000});
}

template <class V> void describe(V& v, sampling_config& x) {
  v.list("precedence", x.precedence, one_of{{"override", "export", "default"}});
  v.list("overrides", x.overrides);
  v.list("defaults", x.defaults);
  v.field("default_rate", x.default_rate, in_range<uint32_t>{0, 1'000'000'000});
}

template <class V> void describe(V& v, enrichment_config& x) {
  v.field("prefix_file", x.prefix_file);
  v.field("country_database", x.country_database);
  v.field("asn_database", x.asn_database);
  v.field("asn_fill", x.asn_fill, one_of{{"never", "missing", "always"}});
  v.field("bgp_as", x.bgp_as, one_of{{"prefer_bgp", "prefer_export"}});
  v.field("region", x.region);
  v.field("address_cache", x.address_cache, in_range<uint64_t>{0, uint64_t(1) << 26});
  v.section("sampling", x.sampling);
}

template <class V> void describe(V& v, replicator_config& x) {
  v.field("address", x.address, ip_literal{});
  v.field("port", x.port, in_range<uint16_t>{1, 65535});
  v.field("sample_one_in", x.sample_one_in, in_range<uint32_t>{1, 1'000'000'000});
  v.list("from_exporters", x.from_exporters, address_or_prefix{});
  v.field("keep_source", x.keep_source);
}

template <class V> void describe(V& v, threshold_config& x) {
  v.field("pps", x.pps);
  v.field("mbps", x.mbps);
  v.field("flows", x.flows);
  v.field("tcp_pps", x.tcp_pps);
  v.field("tcp_mbps", x.tcp_mbps);
  v.field("tcp_flows", x.tcp_flows);
  v.field("syn_pps", x.syn_pps);
  v.field("syn_mbps", x.syn_mbps);
  v.field("syn_flows", x.syn_flows);
  v.field("udp_pps", x.udp_pps);
  v.field("udp_mbps", x.udp_mbps);
  v.field("udp_flows", x.udp_flows);
  v.field("icmp_pps", x.icmp_pps);
  v.field("icmp_mbps", x.icmp_mbps);
  v.field("icmp_flows", x.icmp_flows);
  v.field("fragment_pps", x.fragment_pps);
  v.field("fragment_mbps", x.fragment_mbps);
  v.field("fragment_flows", x.fragment_flows);
}

template <class V> void describe(V& v, hostgroup_config& x) {
  v.field("name", x.name);
  v.list("prefixes", x.prefixes, address_or_prefix{});
  v.section("thresholds", x.thresholds);
  v.section("group_thresholds", x.group_thresholds);
}

template <class V> void describe(V& v, attack_details_config& x) {
  v.field("enabled", x.enabled);
  v.field("directory", x.directory);
}

template <class V> void describe(V& v, notify_script_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("path", x.path);
  v.field("timeout", x.timeout, in_range<ms>{ms(100), ms(3'600'000)});
  v.field("details_delay", x.details_delay, in_range<ms>{ms(0), ms(3'600'000)});
}

template <class V> void describe(V& v, email_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("enabled", x.enabled);
  v.field("command", x.command);
  v.field("from", x.from);
  v.list("to", x.to);
  v.field("timeout", x.timeout, in_range<ms>{ms(100), ms(3'600'000)});
}

template <class V> void describe(V& v, blackhole_config& x) {
  v.field("enabled", x.enabled);
  v.list("communities", x.communities, community{});
}

template <class V> void describe(V& v, detector_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("enabled", x.enabled);
  v.field("bucket", x.bucket, in_range<ms>{ms(100), ms(60'000)});
  v.field("min_windows", x.min_windows, in_range<uint32_t>{1, 255});
  v.field("end_after", x.end_after, in_range<ms>{ms(0), ms(86'400'000)});
  v.field("ban_time", x.ban_time, in_range<ms>{ms(0), ms(604'800'000)});
  v.field("host_idle_timeout", x.host_idle_timeout, in_range<ms>{ms(1'000), ms(86'400'000)});
  v.field("max_hosts", x.max_hosts, in_range<uint64_t>{1, 100'000'000});
  v.field("outgoing", x.outgoing);
  v.field("bandwidth_min_flows", x.bandwidth_min_flows, in_range<uint64_t>{0, 1'000'000'000});
  v.section("thresholds", x.thresholds);
  v.list("hostgroups", x.hostgroups);
  v.list("whitelist", x.whitelist, address_or_prefix{});
  v.field("recent_attacks", x.recent_attacks, in_range<uint32_t>{0, 100'000});
  v.section("details", x.details);
  v.section("notify", x.notify);
  v.section("email", x.email);
  v.field("syslog", x.syslog);
  v.section("blackhole", x.blackhole);
}

template <class V> void describe(V& v, pipeline_config& x) {
  v.field("enabled", x.enabled);
  v.list("listeners", x.listeners);
  v.field("receive_threads", x.receive_threads, in_range<uint32_t>{1, 64});
  v.field("receive_buffer_bytes", size_value{x.receive_buffer_bytes});
  v.field("receive_batch", x.receive_batch, in_range<uint32_t>{1, 1024});
  v.field("receive_linger", x.receive_linger,
          in_range<std::chrono::milliseconds>{std::chrono::milliseconds(0),
                                              std::chrono::milliseconds(100)});
  v.list("allowed_exporters", x.allowed_exporters, address_or_prefix{});
  v.section("decoder", x.decoder);
  v.section("enrichment", x.enrichment);
  v.list("sinks", x.sinks);
  v.list("replicators", x.replicators);
  v.section("detector", x.detector);
}

template <class V> void describe(V& v, pipelines_config& x) {
  v.section("netflow", x.netflow);
  v.section("sflow", x.sflow);
}

template <class V> void describe(V& v, bgp_neighbor_config& x) {
  v.field("address", x.address, ip_literal{});
  v.field("remote_as", x.remote_as, in_range<uint32_t>{1, 4'294'967'295u});
  v.list("exporters", x.exporters, ip_literal{});
  v.field("announce_blackhole", x.announce_blackhole);
}

template <class V> void describe(V& v, bgp_config& x) {
  using ms = std::chrono::milliseconds;
  v.field("enabled", x.enabled);
  v.field("address", x.address, ip_literal{});
  v.field("port", x.port, in_range<uint16_t>{1, 65535});
  v.field("local_as", x.local_as, in_range<uint32_t>{0, 4'294'967'295u});
  v.field("router_id", x.router_id);
  v.field("hold_time", x.hold_time, in_range<ms>{ms(3'000), ms(65'535'000)});
  v.field("restart_time", x.restart_time, in_range<ms>{ms(1'000), ms(4'095'000)});
  v.field("blackhole_next_hop", x.blackhole_next_hop, ip_literal{});
  v.field("blackhole_next_hop_v6", x.blackhole_next_hop_v6, ip_literal{});
  v.list("neighbors", x.neighbors);
}

template <class V> void describe(V& v, cluster_node_config& x) {
  v.field("name", x.name);
  v.field("inspector", x.inspector, host_port_or_empty{});
  v.field("metrics", x.metrics, host_port_or_empty{});
  v.list("roles", x.roles, one_of{{"netflow", "sflow", "bgp"}});
}

template <class V> void describe(V& v, cluster_config& x) {
  using ms = std::chrono::milliseconds;
  v.list("nodes", x.nodes);
  v.field("retry_initial", x.retry_initial, in_range<ms>{ms(10), ms(3'600'000)});
  v.field("retry_max", x.retry_max, in_range<ms>{ms(10), ms(3'600'000)});
  v.field("bgp_stale_time", x.bgp_stale_time, in_range<ms>{ms(0), ms(86'400'000)});
}

template <class V> void describe(V& v, tidewatch_config& x) {
  v.section("node", x.node);
  v.section("logging", x.logging);
  v.section("supervision", x.supervision);
  v.section("pipelines", x.pipelines);
  v.section("bgp", x.bgp);
  v.section("cluster", x.cluster);
}

// -- checks that span fields -----------------------------------------------------------

namespace {

void check_pipeline(const reader& r, const std::string& file, const std::string& path,
                    const pipeline_config& p, std::vector<config_error>& errors) {
  if (!p.enabled)
    return;
  if (p.listeners.empty())
    errors.push_back({file, r.line_of(path + ".listeners"), path + ".listeners",
                      "an enabled pipeline needs a listener"});
  auto& sampling = p.enrichment.sampling;
  for (auto [key, rules] :
       {std::pair{"overrides", &sampling.overrides}, std::pair{"defaults", &sampling.defaults}})
    for (size_t i = 0; i < rules->size(); ++i)
      if ((*rules)[i].exporter.empty()) {
        auto rpath = path + ".enrichment.sampling." + key + "[" + std::to_string(i) + "]";
        errors.push_back({file, r.line_of(rpath), rpath + ".exporter", "a rule needs an exporter"});
      }
  for (size_t i = 0; i < p.replicators.size(); ++i) {
    auto rpath = path + ".replicators[" + std::to_string(i) + "]";
    if (p.replicators[i].address.empty())
      errors.push_back(
          {file, r.line_of(rpath), rpath + ".address", "a replicator needs an address"});
    if (p.replicators[i].port == 0)
      errors.push_back({file, r.line_of(rpath), rpath + ".port", "a replicator needs a port"});
  }
  auto& d = p.detector;
  auto dpath = path + ".detector";
  if (d.enabled && p.enrichment.prefix_file.empty())
    errors.push_back({file, r.line_of(dpath + ".enabled"), dpath + ".enabled",
                      "the detector watches our hosts: set " + path +
                          ".enrichment.prefix_file (without it no host is ours)"});
  for (size_t i = 0; i < d.hostgroups.size(); ++i) {
    auto gpath = dpath + ".hostgroups[" + std::to_string(i) + "]";
    if (d.hostgroups[i].name.empty())
      errors.push_back({file, r.line_of(gpath), gpath + ".name", "a hostgroup needs a name"});
    if (d.hostgroups[i].prefixes.empty())
      errors.push_back({file, r.line_of(gpath), gpath + ".prefixes", "a hostgroup needs prefixes"});
  }
  if (d.hostgroups.size() > 65535)
    errors.push_back({file, r.line_of(dpath + ".hostgroups"), dpath + ".hostgroups",
                      "at most 65535 hostgroups"});
  if (d.email.enabled && d.email.to.empty())
    errors.push_back({file, r.line_of(dpath + ".email"), dpath + ".email.to",
                      "email needs at least one recipient"});
  for (size_t i = 0; i < p.sinks.size(); ++i) {
    auto& s = p.sinks[i];
    auto spath = path + ".sinks[" + std::to_string(i) + "]";
    bool needs_prefixes = false;
    for (auto& scope : s.scopes)
      needs_prefixes |= scope == "inbound" || scope == "outbound" || scope == "internal";
    if (needs_prefixes && s.scopes.size() < 5 && p.enrichment.prefix_file.empty())
      errors.push_back({file, r.line_of(spath + ".scopes"), spath + ".scopes",
                        "selecting traffic by scope needs our prefixes: set " + path +
                            ".enrichment.prefix_file (without it every record is external)"});
    if (s.records == "counters") {
      auto at = r.line_of(spath + ".records");
      if (path != "pipelines.sflow")
        errors.push_back({file, at, spath + ".records",
                          "counter records come from sFlow counter samples: only the sflow "
                          "pipeline has them"});
      if (!s.aggregate.empty() || !s.scopes.empty() || !s.fields.empty())
        errors.push_back({file, at, spath + ".records",
                          "a counter sink takes every counter record and prints sfacctd's keys: "
                          "no aggregate, scopes or fields"});
    }
    if (!s.fields.empty() && !s.aggregate.empty())
      errors.push_back({file, r.line_of(spath + ".fields"), spath + ".fields",
                        "an aggregating sink prints the keys of its aggregate primitives: "
                        "choose them there, not in fields"});
    if (s.type == "file" && s.path.empty())
      errors.push_back(
          {file, r.line_of(spath + ".path"), spath + ".path", "a file sink needs a path"});
    if (s.type == "file" && s.rotate_bytes < 4096)
      errors.push_back({file, r.line_of(spath + ".rotate_bytes"), spath + ".rotate_bytes",
                        "must be at least 4KiB"});
    if (s.type != "kafka")
      continue;
    if (s.brokers.empty())
      errors.push_back({file, r.line_of(spath + ".brokers"), spath + ".brokers",
                        "a kafka sink needs brokers (host:port, ...)"});
    if (s.records_per_message > 1 && (s.key == "src" || s.key == "dst"))
      errors.push_back({file, r.line_of(spath + ".records_per_message"),
                        spath + ".records_per_message",
                        "a message holds records of one key: keyed by address, nearly every "
                        "message would hold one record; use key none or exporter"});
    if (s.records_per_message > 1 && s.records == "counters")
      errors.push_back({file, r.line_of(spath + ".records_per_message"),
                        spath + ".records_per_message",
                        "counter records go one per message, as sfacctd sends them"});
    if (s.queue_max_bytes < 1024)
      errors.push_back({file, r.line_of(spath + ".queue_max_bytes"), spath + ".queue_max_bytes",
                        "must be at least 1KiB"});
    for (auto& [name, value] : s.properties) {
      std::string why;
      if (!check_kafka_property(name, value, &why))
        errors.push_back(
            {file, r.line_of(spath + ".properties." + name), spath + ".properties." + name, why});
    }
  }
}

void check_bgp(const reader& r, const std::string& file, const bgp_config& b,
               std::vector<config_error>& errors) {
  if (!b.enabled)
    return;
  ip_address id;
  if (b.local_as == 0)
    errors.push_back({file, r.line_of("bgp.local_as"), "bgp.local_as",
                      "an enabled BGP speaker needs its AS number"});
  if (!ip_address::parse(b.router_id, id) || !id.is_v4() || id.is_unspecified())
    errors.push_back({file, r.line_of("bgp.router_id"), "bgp.router_id",
                      "an enabled BGP speaker needs a router id (a non-zero IPv4 address)"});
  for (size_t i = 0; i < b.neighbors.size(); ++i) {
    auto path = "bgp.neighbors[" + std::to_string(i) + "]";
    if (b.neighbors[i].address.empty())
      errors.push_back({file, r.line_of(path), path + ".address", "a neighbor needs an address"});
    if (b.neighbors[i].remote_as == 0)
      errors.push_back({file, r.line_of(path), path + ".remote_as", "a neighbor needs its AS"});
  }
}

/// The inspector listens beyond loopback only with TLS, and TLS needs all
/// three files.
void check_inspector(const reader& r, const std::string& file, const inspector_config& c,
                     std::vector<config_error>& errors) {
  const std::string path = "node.inspector";
  std::string host;
  uint16_t port = 0;
  bool tls = !c.certificate.empty() || !c.key.empty() || !c.ca_file.empty();
  if (tls && (c.certificate.empty() || c.key.empty() || c.ca_file.empty()))
    errors.push_back(
        {file, r.line_of(path), path, "TLS needs certificate, key and ca_file together"});
  else if (!tls && parse_host_port(c.listen, host, port) && !is_loopback_host(host))
    errors.push_back(
        {file, r.line_of(path + ".listen"), path + ".listen",
         "listening on '" + host + "' (not loopback) needs TLS: set certificate, key and ca_file"});
}

/// Cluster placement: unique node names with an inspector each (TLS beyond
/// loopback), every enabled role on exactly one node, no role that is not
/// enabled, and this process's name among the nodes when it is given (a
/// file without node.name serves every node through `tidewatchd --node`, and
/// the CLI).
void check_cluster(const reader& r, const std::string& file, const tidewatch_config& cfg,
                   bool name_given, std::vector<config_error>& errors) {
  auto& c = cfg.cluster;
  if (c.retry_initial > c.retry_max)
    errors.push_back({file, r.line_of("cluster.retry_initial"), "cluster.retry_initial",
                      "must not exceed retry_max (" + format_duration(c.retry_max) + ")"});
  if (c.nodes.empty())
    return;
  auto& insp = cfg.node.inspector;
  const bool tls = !insp.certificate.empty();
  const std::map<std::string, bool> enabled = {{"netflow", cfg.pipelines.netflow.enabled},
                                               {"sflow", cfg.pipelines.sflow.enabled},
                                               {"bgp", cfg.bgp.enabled}};
  std::map<std::string, std::string> placed; // role -> node
  std::set<std::string> names;
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    auto& n = c.nodes[i];
    auto path = "cluster.nodes[" + std::to_string(i) + "]";
    auto fail = [&](const std::string& key, const std::string& message) {
      errors.push_back({file, r.line_of(path + key), path + key, message});
    };
    if (n.name.empty())
      fail(".name", "a node needs a name");
    else if (!names.insert(n.name).second)
      fail(".name", "node name '" + n.name + "' is used twice");
    std::string host;
    uint16_t port = 0;
    if (n.inspector.empty() || (parse_host_port(n.inspector, host, port) && port == 0))
      fail(".inspector",
           "a node needs its inspector's host:port (a fixed port: the other nodes connect to it)");
    else if (!host.empty() && !tls && !is_loopback_host(host))
      fail(".inspector", "'" + host +
                             "' is not loopback: nodes talk over TLS there; set "
                             "node.inspector.certificate, key and ca_file");
    if (n.roles.empty())
      fail(".roles", "a node needs at least one role (netflow, sflow, bgp)");
    for (size_t j = 0; j < n.roles.size(); ++j) {
      auto& role = n.roles[j];
      auto rpath = ".roles[" + std::to_string(j) + "]";
      auto on = enabled.find(role);
      if (on == enabled.end())
        continue; // reported as not one of the choices
      if (auto [it, fresh] = placed.emplace(role, n.name); !fresh)
        fail(rpath, "role '" + role + "' is already placed on node '" + it->second + "'");
      else if (!on->second)
        fail(rpath, role == "bgp"
                        ? "role 'bgp' needs bgp.enabled: true"
                        : "role '" + role + "' needs pipelines." + role + ".enabled: true");
    }
  }
  for (auto& [role, on] : enabled)
    if (on && !placed.contains(role))
      errors.push_back({file, r.line_of("cluster.nodes"), "cluster.nodes",
                        (role == "bgp" ? std::string("bgp") : "pipelines." + role) +
                            " is enabled but no node runs role '" + role + "'"});
  if (name_given && !names.contains(cfg.node.name))
    errors.push_back({file, r.line_of("node.name"), "node.name",
                      "'" + cfg.node.name + "' is not in cluster.nodes (" +
                          join({names.begin(), names.end()}) +
                          "): set node.name or start tidewatchd with --node NAME"});
}

/// Fills what depends on other fields (default sinks and listeners) when the
/// file left them out.
void complete(tidewatch_config& cfg) {
  auto& nf = cfg.pipelines.netflow;
  if (nf.decoder.template_file.empty())
    nf.decoder.template_file = cfg.node.state_dir + "/netflow-templates.bin";
  // Per sink: stdout has no path; a Kafka sink defaults its topic and spool
  // directory by pipeline.
  for (auto [name, topic, p] :
       {std::tuple{"netflow", "netflow", &nf},
        std::tuple{"sflow", "network_flows_internal", &cfg.pipelines.sflow}})
    for (size_t i = 0; i < p->sinks.size(); ++i) {
      auto& s = p->sinks[i];
      if (s.type == "stdout")
        s.path.clear();
      // The deployment this replaces keeps only internal sFlow traffic.
      if (p == &cfg.pipelines.sflow && s.scopes.empty() && s.records == "flows")
        s.scopes = {"internal"};
      if (s.type == "kafka" && s.topic.empty())
        s.topic = topic;
      if (s.type == "kafka" && s.spool_dir.empty())
        s.spool_dir = cfg.node.state_dir + "/" + name + "-kafka-spool" +
                      (i == 0 ? std::string() : "-" + std::to_string(i));
    }
}

/// Whether the file sets pipelines.<name>.<key>.
bool pipeline_key_given(const YAML::Node& root, const char* name, const char* key) {
  return root && root.IsMap() && root["pipelines"] && root["pipelines"].IsMap() &&
         root["pipelines"][name] && root["pipelines"][name].IsMap() && root["pipelines"][name][key];
}

} // namespace

tidewatch_config default_config() {
  tidewatch_config cfg;
  auto& nf = cfg.pipelines.netflow;
  nf.listeners = {{"::", 2055}, {"::", 4739}};
  nf.sinks = {{"file", cfg.node.state_dir + "/flows/netflow.json"}};
  auto& sf = cfg.pipelines.sflow;
  sf.listeners = {{"::", 6343}};
  sf.sinks = {{"file", cfg.node.state_dir + "/flows/sflow.json"}};
  complete(cfg);
  return cfg;
}

std::string config_error::to_string() const {
  return file + ":" + std::to_string(line) + ": " + key_path + ": " + message;
}

std::vector<config_error> parse_config(const std::string& yaml_text, const std::string& file,
                                       tidewatch_config& out, const std::string& node_name) {
  std::vector<config_error> errors;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    errors.push_back({file, e.mark.is_null() ? 0 : e.mark.line + 1, "(document)",
                      "YAML syntax error: " + e.msg});
    return errors;
  }
  tidewatch_config cfg;
  // Defaults that depend on state_dir are filled after reading, so that a
  // changed state_dir moves them too; lists left out keep their defaults.
  auto defaults = default_config();
  cfg.pipelines.netflow.listeners = defaults.pipelines.netflow.listeners;
  cfg.pipelines.netflow.sinks.clear();
  cfg.pipelines.sflow.listeners = defaults.pipelines.sflow.listeners;
  cfg.pipelines.sflow.sinks.clear();
  reader r{file, errors};
  if (root && !root.IsNull() && !root.IsMap())
    r.error(root, "(document)", "expected a mapping of sections at the top level");
  else
    r.read_section(root, "", cfg);
  // A pipeline with replicators and no sinks only replicates (standalone
  // samplicator replacement); without either it writes the default file.
  if (!pipeline_key_given(root, "netflow", "sinks") &&
      !pipeline_key_given(root, "netflow", "replicators"))
    cfg.pipelines.netflow.sinks = {{"file", cfg.node.state_dir + "/flows/netflow.json"}};
  if (!pipeline_key_given(root, "sflow", "sinks") &&
      !pipeline_key_given(root, "sflow", "replicators"))
    cfg.pipelines.sflow.sinks = {{"file", cfg.node.state_dir + "/flows/sflow.json"}};
  complete(cfg);
  check_pipeline(r, file, "pipelines.netflow", cfg.pipelines.netflow, errors);
  check_pipeline(r, file, "pipelines.sflow", cfg.pipelines.sflow, errors);
  check_bgp(r, file, cfg.bgp, errors);
  check_inspector(r, file, cfg.node.inspector, errors);
  if (!node_name.empty())
    cfg.node.name = node_name;
  bool name_given = !node_name.empty() || (root && root.IsMap() && root["node"] &&
                                           root["node"].IsMap() && root["node"]["name"]);
  check_cluster(r, file, cfg, name_given, errors);
  if (cfg.supervision.backoff_initial > cfg.supervision.backoff_max)
    errors.push_back(
        {file, r.line_of("supervision.backoff_initial"), "supervision.backoff_initial",
         "must not exceed backoff_max (" + format_duration(cfg.supervision.backoff_max) + ")"});
  if (errors.empty())
    out = std::move(cfg);
  return errors;
}

std::vector<config_error> load_config_file(const std::string& path, tidewatch_config& out,
                                           const std::string& node_name) {
  std::ifstream in(path);
  if (!in)
    return {{path, 0, "(file)", std::string("cannot read: ") + std::strerror(errno)}};
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, out, node_name);
}

const cluster_node_config* this_cluster_node(const tidewatch_config& cfg) {
  for (auto& n : cfg.cluster.nodes)
    if (n.name == cfg.node.name)
      return &n;
  return nullptr;
}

const cluster_node_config* cluster_node_running(const tidewatch_config& cfg,
                                                const std::string& role) {
  for (auto& n : cfg.cluster.nodes)
    if (std::find(n.roles.begin(), n.roles.end(), role) != n.roles.end())
      return &n;
  return nullptr;
}

bool runs_role(const tidewatch_config& cfg, const std::string& role) {
  if (!cfg.cluster.nodes.empty()) {
    auto* n = cluster_node_running(cfg, role);
    return n != nullptr && n->name == cfg.node.name;
  }
  if (role == "netflow")
    return cfg.pipelines.netflow.enabled;
  if (role == "sflow")
    return cfg.pipelines.sflow.enabled;
  return role == "bgp" && cfg.bgp.enabled;
}

std::string render_config(const tidewatch_config& cfg) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  writer w{out};
  describe(w, const_cast<tidewatch_config&>(cfg));
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool parse_community(const std::string& text, uint32_t& out) {
  auto colon = text.find(':');
  if (colon == std::string::npos)
    return false;
  uint16_t high = 0;
  uint16_t low = 0;
  auto end = text.data() + text.size();
  auto [p1, e1] = std::from_chars(text.data(), text.data() + colon, high);
  auto [p2, e2] = std::from_chars(text.data() + colon + 1, end, low);
  if (e1 != std::errc{} || e2 != std::errc{} || p1 != text.data() + colon || p2 != end ||
      colon == 0 || colon + 1 == text.size())
    return false;
  out = uint32_t(high) << 16 | low;
  return true;
}

bool parse_host_port(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return false;
    host = host.substr(1, host.size() - 2);
    ip_address a;
    if (!ip_address::parse(host, a) || host.find(':') == std::string::npos)
      return false;
  } else if (host.find(':') != std::string::npos) {
    return false; // an IPv6 address needs brackets
  }
  auto digits = text.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc{} && ptr == digits.data() + digits.size() && !digits.empty();
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost")
    return true;
  ip_address a;
  if (!ip_address::parse(host, a))
    return false;
  ip_address v6_loopback;
  ip_address::parse("::1", v6_loopback);
  return a == v6_loopback || (a.is_v4() && a.v4_host_order() >> 24 == 127);
}

int syslog_facility_code(const std::string& name) {
  auto& names = facilities();
  auto it = names.find(name);
  return it == names.end() ? LOG_DAEMON : it->second;
}

} // namespace tidewatch
