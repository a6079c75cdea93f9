#include "actors/inspector/inspect_views.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace tidewatch {

namespace {

// -- families that make up the `stats` columns -------------------------------------

constexpr std::string_view datagram_families[] = {
    "listener_datagrams_total", "netflow_datagrams_total", "sflow_datagrams_total"};
constexpr std::string_view record_families[] = {"netflow_records_total", "sflow_flow_samples_total",
                                                "enricher_records_total", "sink_records_total"};
constexpr std::string_view queue_families[] = {"listener_in_flight_batches", "decoder_held_acks",
                                               "enricher_batches_in_flight",
                                               "kafka_queue_messages"};
/// Dropped input or output that does not end in `_errors_total`.
constexpr std::string_view drop_families[] = {"listener_denied_datagrams_total",
                                              "listener_truncated_datagrams_total",
                                              "netflow_pending_expired_total",
                                              "netflow_pending_overflow_total",
                                              "kafka_dropped_total",
                                              "kafka_delivery_failed_total"};

template <size_t N> bool one_of(std::string_view family, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), family) != std::end(names);
}

bool is_error_family(std::string_view family) {
  // Per-exporter copies of the decoder's errors would count them twice.
  if (family.starts_with("netflow_exporter_") || family.starts_with("sflow_agent_"))
    return false;
  return family.ends_with("_errors_total") || one_of(family, drop_families);
}

/// Sum of the counters (any labels) whose family is one of `names`.
template <size_t N>
uint64_t sum_families(const stats_snapshot& s, const std::string_view (&names)[N]) {
  uint64_t sum = 0;
  for (auto& c : s.counters)
    if (one_of(split_counter_name(c.name).family, names))
      sum += c.value;
  return sum;
}

/// Snapshots with unique (pipeline, stage): the second and later stage of
/// the same name (e.g. two file sinks, two receive threads on one port) get
/// `#2`, `#3`, ... in the order the node reported them.
std::vector<stats_snapshot> unique_stages(std::vector<stats_snapshot> xs) {
  std::map<std::pair<std::string, std::string>, size_t> seen;
  for (auto& x : xs) {
    auto n = ++seen[{x.pipeline, x.stage}];
    if (n > 1)
      x.stage += "#" + std::to_string(n);
  }
  return xs;
}

const stats_snapshot* find_stage(const std::vector<stats_snapshot>& xs, const stats_snapshot& y) {
  for (auto& x : xs)
    if (x.pipeline == y.pipeline && x.stage == y.stage)
      return &x;
  return nullptr;
}

double rate(uint64_t before, uint64_t after, double seconds) {
  return seconds > 0 && after >= before ? double(after - before) / seconds : 0.0;
}

// -- text output ------------------------------------------------------------------------

} // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

namespace {

/// The JSON texts `to_json(x)` of every x, comma-separated.
template <class T, class F> std::string join_json(const std::vector<T>& xs, F to_json) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i)
    out += (i == 0 ? "" : ",") + to_json(xs[i]);
  return out;
}

std::string fixed1(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", x);
  return buf;
}

/// A table with a header line; columns in `numeric` are right-aligned.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::set<size_t>& numeric) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i)
    width[i] = header[i].size();
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) {
      auto pad = std::string(width[i] - cells[i].size(), ' ');
      text += numeric.contains(i) ? pad + cells[i] : cells[i] + pad;
      if (i + 1 < cells.size())
        text += "  ";
    }
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    out += text + "\n";
  };
  line(header);
  for (auto& row : rows)
    line(row);
  return out;
}

std::string format_uptime(int64_t seconds) {
  seconds = std::max<int64_t>(0, seconds);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%lldd %02lld:%02lld:%02lld", (long long)(seconds / 86400),
                (long long)(seconds / 3600 % 24), (long long)(seconds / 60 % 60),
                (long long)(seconds % 60));
  return buf;
}

std::string protocol_of_version(std::string_view version) {
  if (version == "5")
    return "netflow_v5";
  if (version == "9")
    return "netflow_v9";
  if (version == "10")
    return "ipfix";
  return "unknown";
}

std::string field_text(uint64_t spec) {
  auto enterprise = uint32_t(spec >> 32);
  auto text = std::to_string(uint16_t(spec >> 16)) + ":" + std::to_string(uint16_t(spec));
  return enterprise == 0 ? text : std::to_string(enterprise) + "/" + text;
}

/// Prometheus label values escape backslash, double quote and newline.
std::string prometheus_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

} // namespace

counter_name split_counter_name(std::string_view name) {
  auto brace = name.find('{');
  if (brace == std::string_view::npos || name.back() != '}')
    return {name, {}};
  return {name.substr(0, brace), name.substr(brace + 1, name.size() - brace - 2)};
}

std::string label_value(std::string_view labels, std::string_view key) {
  size_t at = 0;
  while (at < labels.size()) {
    auto eq = labels.find("=\"", at);
    if (eq == std::string_view::npos)
      return {};
    auto name = labels.substr(at, eq - at);
    std::string value;
    size_t i = eq + 2;
    for (; i < labels.size() && labels[i] != '"'; ++i) {
      if (labels[i] == '\\' && i + 1 < labels.size())
        ++i;
      value += labels[i];
    }
    if (name == key)
      return value;
    at = i + 2; // past the closing quote and the comma
  }
  return {};
}

std::vector<stage_row> stage_rows(const std::vector<stats_snapshot>& before_in,
                                  const std::vector<stats_snapshot>& after_in, double seconds) {
  auto before = unique_stages(before_in);
  auto after = unique_stages(after_in);
  std::vector<stage_row> rows;
  for (auto& s : after) {
    auto& row = rows.emplace_back();
    row.pipeline = s.pipeline;
    row.stage = s.stage;
    row.datagrams = sum_families(s, datagram_families);
    row.records = sum_families(s, record_families);
    row.kernel_drops = s.get("listener_kernel_drops_total");
    row.queue = sum_families(s, queue_families);
    for (auto& c : s.counters)
      if (is_error_family(split_counter_name(c.name).family))
        row.errors.push_back(c);
    if (auto* b = find_stage(before, s)) {
      row.datagrams_per_s = rate(sum_families(*b, datagram_families), row.datagrams, seconds);
      row.records_per_s = rate(sum_families(*b, record_families), row.records, seconds);
    }
  }
  return rows;
}

std::vector<exporter_row> exporter_rows(const std::vector<stats_snapshot>& before,
                                        const std::vector<stats_snapshot>& after, double seconds) {
  // (pipeline, labels) -> row; the labels name the exporter.
  using key = std::pair<std::string, std::string>;
  auto collect = [](const std::vector<stats_snapshot>& xs) {
    std::map<key, exporter_row> rows;
    for (auto& s : xs)
      for (auto& c : s.counters) {
        auto [family, labels] = split_counter_name(c.name);
        bool netflow = family.starts_with("netflow_exporter_");
        bool sflow = family.starts_with("sflow_agent_");
        if ((!netflow && !sflow) || family.ends_with("_decode_errors_total"))
          continue;
        auto& row = rows[{s.pipeline, std::string(labels)}];
        if (row.exporter.empty()) {
          row.pipeline = s.pipeline;
          row.exporter = label_value(labels, netflow ? "exporter" : "agent");
          auto domain = label_value(labels, netflow ? "domain" : "sub_agent");
          row.domain = uint32_t(std::strtoul(domain.c_str(), nullptr, 10));
          row.protocol = netflow ? protocol_of_version(label_value(labels, "version")) : "sflow_v5";
        }
        auto suffix = family.substr(netflow ? 17 : 12);
        if (suffix == "datagrams_total")
          row.datagrams = c.value;
        else if (suffix == "records_total" || suffix == "flow_samples_total")
          row.records = c.value;
        else if (suffix == "sequence_lost_total" || suffix == "samples_lost_total")
          row.sequence_lost = c.value;
        else if (suffix == "templates_active")
          row.templates = c.value;
        else if (suffix == "sampling_rate")
          row.sampling_rate = c.value;
      }
    return rows;
  };
  auto old_rows = collect(before);
  std::vector<exporter_row> rows;
  for (auto& [k, row] : collect(after)) {
    if (auto it = old_rows.find(k); it != old_rows.end()) {
      row.datagrams_per_s = rate(it->second.datagrams, row.datagrams, seconds);
      row.records_per_s = rate(it->second.records, row.records, seconds);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string render_status(const node_status& status, bool json) {
  auto uptime_s = (status.now_us - status.started_us) / 1'000'000;
  if (json) {
    auto child = [](const child_status& c) {
      return "{\"name\":" + json_string(c.name) + ",\"actor_id\":" + std::to_string(c.actor_id) +
             ",\"running\":" + (c.actor_id != 0 ? "true" : "false") +
             ",\"restarts\":" + std::to_string(c.restarts) + "}";
    };
    auto role = [&](const role_status& r) {
      return "{\"role\":" + json_string(r.role) + ",\"actor_id\":" + std::to_string(r.actor_id) +
             ",\"children\":[" + join_json(r.children, child) + "]}";
    };
    return "{\"node\":" + json_string(status.node) + ",\"version\":" + json_string(status.version) +
           ",\"uptime_seconds\":" + std::to_string(uptime_s) + ",\"roles\":[" +
           join_json(status.roles, role) + "]}\n";
  }
  std::string out = "node " + status.node + ", tidewatch " + status.version + ", up " +
                    format_uptime(uptime_s) + "\n";
  std::vector<std::vector<std::string>> rows;
  for (auto& r : status.roles) {
    rows.push_back({r.role, "#" + std::to_string(r.actor_id), "", "", ""});
    for (auto& c : r.children)
      rows.push_back({"", "", c.name, c.actor_id != 0 ? "#" + std::to_string(c.actor_id) : "-",
                      std::to_string(c.restarts)});
  }
  return out + table({"role", "actor", "child", "child actor", "restarts"}, rows, {4});
}

std::string render_stats(const std::vector<stage_row>& rows, bool json) {
  if (json) {
    auto error = [](const counter_value& e) {
      return json_string(e.name) + ":" + std::to_string(e.value);
    };
    auto row = [&](const stage_row& r) {
      return "{\"pipeline\":" + json_string(r.pipeline) + ",\"stage\":" + json_string(r.stage) +
             ",\"datagrams\":" + std::to_string(r.datagrams) +
             ",\"records\":" + std::to_string(r.records) +
             ",\"kernel_drops\":" + std::to_string(r.kernel_drops) +
             ",\"queue\":" + std::to_string(r.queue) +
             ",\"datagrams_per_second\":" + fixed1(r.datagrams_per_s) +
             ",\"records_per_second\":" + fixed1(r.records_per_s) + ",\"errors\":{" +
             join_json(r.errors, error) + "}}";
    };
    return "[" + join_json(rows, row) + "]\n";
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<std::vector<std::string>> error_cells;
  for (auto& r : rows) {
    uint64_t errors = 0;
    for (auto& e : r.errors) {
      errors += e.value;
      if (e.value != 0)
        error_cells.push_back({r.pipeline, r.stage, e.name, std::to_string(e.value)});
    }
    cells.push_back({r.pipeline, r.stage, std::to_string(r.datagrams), std::to_string(r.records),
                     std::to_string(errors), std::to_string(r.kernel_drops),
                     std::to_string(r.queue), fixed1(r.records_per_s)});
  }
  auto out = table(
      {"pipeline", "stage", "datagrams", "records", "errors", "kernel drops", "queue", "records/s"},
      cells, {2, 3, 4, 5, 6, 7});
  if (!error_cells.empty())
    out += "\n" + table({"pipeline", "stage", "error", "count"}, error_cells, {3});
  return out;
}

std::string render_exporters(const std::vector<exporter_row>& rows, bool json) {
  if (json) {
    auto row = [](const exporter_row& r) {
      return "{\"pipeline\":" + json_string(r.pipeline) +
             ",\"exporter\":" + json_string(r.exporter) +
             ",\"domain\":" + std::to_string(r.domain) +
             ",\"protocol\":" + json_string(r.protocol) +
             ",\"datagrams\":" + std::to_string(r.datagrams) +
             ",\"records\":" + std::to_string(r.records) +
             ",\"sequence_lost\":" + std::to_string(r.sequence_lost) +
             ",\"templates\":" + std::to_string(r.templates) +
             ",\"sampling_rate\":" + std::to_string(r.sampling_rate) +
             ",\"datagrams_per_second\":" + fixed1(r.datagrams_per_s) +
             ",\"records_per_second\":" + fixed1(r.records_per_s) + "}";
    };
    return "[" + join_json(rows, row) + "]\n";
  }
  std::vector<std::vector<std::string>> cells;
  for (auto& r : rows)
    cells.push_back({r.pipeline, r.exporter, std::to_string(r.domain), r.protocol,
                     std::to_string(r.datagrams), std::to_string(r.records),
                     fixed1(r.records_per_s), std::to_string(r.sequence_lost),
                     std::to_string(r.templates),
                     r.sampling_rate == 0 ? "-" : "1:" + std::to_string(r.sampling_rate)});
  return table({"pipeline", "exporter", "domain", "protocol", "datagrams", "records", "records/s",
                "seq lost", "templates", "sampling"},
               cells, {2, 4, 5, 6, 7, 8, 9});
}

std::string render_templates(const std::vector<pipeline_templates>& pipelines, bool json) {
  if (json) {
    std::vector<std::string> objects;
    for (auto& p : pipelines)
      for (auto& t : p.templates)
        objects.push_back(
            "{\"pipeline\":" + json_string(p.pipeline) + ",\"exporter\":" +
            json_string(t.exporter) + ",\"domain\":" + std::to_string(t.observation_domain) +
            ",\"version\":" + std::to_string(t.version) + ",\"id\":" + std::to_string(t.id) +
            ",\"kind\":" + (t.options ? "\"options\"" : "\"data\"") +
            ",\"scope_fields\":" + std::to_string(t.scope_count) +
            ",\"record_length\":" + std::to_string(t.record_length) +
            ",\"variable_length\":" + (t.variable ? "true" : "false") + ",\"fields\":[" +
            join_json(t.fields, [](uint64_t f) { return json_string(field_text(f)); }) + "]}");
    return "[" + join_json(objects, [](const std::string& x) { return x; }) + "]\n";
  }
  std::vector<std::vector<std::string>> cells;
  for (auto& p : pipelines)
    for (auto& t : p.templates) {
      std::string fields;
      for (auto f : t.fields)
        fields += (fields.empty() ? "" : " ") + field_text(f);
      cells.push_back({p.pipeline, t.exporter, std::to_string(t.observation_domain),
                       std::to_string(t.version), std::to_string(t.id),
                       t.options ? "options" : "data",
                       std::to_string(t.record_length) + (t.variable ? "+" : ""), fields});
    }
  return table({"pipeline", "exporter", "domain", "version", "id", "kind", "bytes", "fields"},
               cells, {2, 3, 4, 6});
}

std::string render_prometheus(const std::vector<stats_snapshot>& snapshots) {
  // family -> its sample lines, so that each family is one block.
  std::map<std::string, std::string, std::less<>> families;
  for (auto& s : unique_stages(snapshots)) {
    auto base = "pipeline=\"" + prometheus_escape(s.pipeline) + "\",stage=\"" +
                prometheus_escape(s.stage) + "\"";
    for (auto& c : s.counters) {
      auto [family, labels] = split_counter_name(c.name);
      auto& lines = families[std::string(family)];
      lines += "tidewatch_" + std::string(family) + "{" + base;
      if (!labels.empty())
        lines += "," + std::string(labels);
      lines += "} " + std::to_string(c.value) + "\n";
    }
  }
  std::string out;
  for (auto& [family, lines] : families) {
    bool counter = std::string_view(family).ends_with("_total");
    out += "# HELP tidewatch_" + family + " tidewatch " + (counter ? "counter " : "gauge ") +
           family + ", per pipeline stage\n";
    out += "# TYPE tidewatch_" + family + (counter ? " counter\n" : " gauge\n");
    out += lines;
  }
  return out;
}

} // namespace tidewatch
