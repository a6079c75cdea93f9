#pragma once

// What the `tidewatch` inspection subcommands print: rows computed from the
// snapshots a node returns, rendered as a human table or as JSON. Pure
// functions, so tests reach them without a node.

#include <string>
#include <string_view>
#include <vector>

#include "messages/inspector.hpp"
#include "messages/stats.hpp"

namespace tidewatch {

/// A counter name such as `decoder_errors_total{reason="x"}` split into its
/// family (`decoder_errors_total`) and label text (`reason="x"`, no braces).
struct counter_name {
  std::string_view family;
  std::string_view labels;
};

/// Splits a counter name; names without labels have empty `labels`.
counter_name split_counter_name(std::string_view name);

/// The value of label `key` in label text (`a="x",b="y"`); empty when absent.
std::string label_value(std::string_view labels, std::string_view key);

/// One pipeline stage in `tidewatch stats`.
struct stage_row {
  std::string pipeline;
  std::string stage;
  uint64_t datagrams = 0; ///< received (listener) or decoded (decoder)
  uint64_t records = 0;   ///< decoded, enriched or written
  uint64_t kernel_drops = 0;
  uint64_t queue = 0; ///< batches waiting: in flight, held or queued
  double datagrams_per_s = 0;
  double records_per_s = 0;
  /// Dropped input and failures by reason (`family` or `family{reason}`),
  /// every one the stage counts, zeros included.
  std::vector<counter_value> errors;
};

/// The stage rows of `after`, with rates against `before` (taken `seconds`
/// earlier; stages missing from `before` get rates of 0).
std::vector<stage_row> stage_rows(const std::vector<stats_snapshot>& before,
                                  const std::vector<stats_snapshot>& after, double seconds);

/// One exporter (NetFlow/IPFIX: address + observation domain + version;
/// sFlow: agent + sub-agent) in `tidewatch exporters`.
struct exporter_row {
  std::string pipeline;
  std::string exporter;
  uint32_t domain = 0;  ///< observation domain / source ID / sFlow sub-agent
  std::string protocol; ///< netflow_v5, netflow_v9, ipfix, sflow_v5
  uint64_t datagrams = 0;
  uint64_t records = 0; ///< flow records (sFlow: flow samples)
  uint64_t sequence_lost = 0;
  uint64_t templates = 0;
  uint64_t sampling_rate = 0; ///< the latest announced, 0 when none
  double datagrams_per_s = 0;
  double records_per_s = 0;
};

/// The exporter rows of `after`'s decoders, with rates against `before`.
std::vector<exporter_row> exporter_rows(const std::vector<stats_snapshot>& before,
                                        const std::vector<stats_snapshot>& after, double seconds);

/// The templates of one pipeline's decoder.
struct pipeline_templates {
  std::string pipeline;
  std::vector<template_info> templates;
};

/// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view text);

/// `tidewatch status`: node, version, uptime, roles and their children.
std::string render_status(const node_status& status, bool json);

/// `tidewatch stats`: one line per stage, then the non-zero errors by reason.
std::string render_stats(const std::vector<stage_row>& rows, bool json);

/// `tidewatch exporters`: one line per exporter.
std::string render_exporters(const std::vector<exporter_row>& rows, bool json);

/// `tidewatch templates`: one line per template, fields as `type:length`
/// (`enterprise/type:length` for enterprise elements).
std::string render_templates(const std::vector<pipeline_templates>& pipelines, bool json);

/// The Prometheus text exposition (version 0.0.4) of every snapshot: metric
/// `tidewatch_<family>` with labels pipeline, stage and the counter's own;
/// families ending in `_total` are counters, the others gauges; one HELP and
/// TYPE line per family, families sorted by name.
std::string render_prometheus(const std::vector<stats_snapshot>& snapshots);

} // namespace tidewatch
