#include "runtime/decode_command.hpp"

#include <map>

#include "actors/decoder/netflow_decoder.hpp"
#include "actors/decoder/sflow_decoder.hpp"
#include "actors/listener/pcap_reader.hpp"
#include "actors/sink/json_encoder.hpp"

namespace tidewatch {

namespace {

/// Writes the non-zero counters `name{reason="..."}` as `{reason="..."} N`, or
/// "none", and ends the line.
void print_errors(std::ostream& summary, const std::vector<counter_value>& counters,
                  const std::string& name) {
  uint64_t errors = 0;
  for (auto& c : counters)
    if (c.name.starts_with(name + "{") && c.value > 0) {
      summary << c.name.substr(name.size()) << " " << c.value << "  ";
      errors += c.value;
    }
  summary << (errors == 0 ? "none" : "") << "\n";
}

} // namespace

int decode_capture(const std::string& path, uint16_t port, std::ostream& out,
                   std::ostream& summary) {
  pcap_reader reader;
  std::string error;
  if (!reader.open(path, &error)) {
    summary << "tidewatch decode: " << path << ": " << error << "\n";
    return 1;
  }
  if (port != 0)
    reader.set_destination_port(port);
  // Nothing expires while reading a file: a capture may span hours, and the
  // templates in it stay valid for the whole of it.
  netflow_decoder_options opts;
  opts.pending_max_age_us = INT64_MAX;
  netflow_decoder decoder{opts};
  sflow_decoder sflow;
  json_encoder encoder;
  const label_table no_labels; // decode shows records as exported, not enriched
  std::vector<flow_record> records;
  std::string text;
  const uint8_t* data = nullptr;
  size_t length = 0;
  datagram_info meta;
  while (reader.next(data, length, meta)) {
    records.clear();
    // sFlow starts with the 32-bit version 5; NetFlow/IPFIX with a 16-bit
    // version, so their first two bytes are never both zero.
    if (length >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 5)
      sflow.decode(data, length, meta, records);
    else
      decoder.decode(data, length, meta, records);
    text.clear();
    for (auto& r : records)
      encoder.encode(r, no_labels, text);
    out.write(text.data(), std::streamsize(text.size()));
  }
  out.flush();
  std::vector<counter_value> counters;
  decoder.collect(counters);
  auto value = [&](const std::string& name) -> uint64_t {
    for (auto& c : counters)
      if (c.name == name)
        return c.value;
    return 0;
  };
  summary << "capture:    " << path << ": " << reader.packets() << " packets, "
          << reader.datagrams() << " UDP datagrams";
  if (reader.skipped_non_udp() + reader.skipped_fragments() + reader.skipped_truncated() +
          reader.skipped_filtered() >
      0)
    summary << " (skipped: " << reader.skipped_non_udp() << " not UDP, "
            << reader.skipped_fragments() << " fragments, " << reader.skipped_truncated()
            << " truncated, " << reader.skipped_filtered() << " other ports)";
  summary << "\n";
  summary << "decoded:    " << value("netflow_datagrams_total") << " datagrams, "
          << value("netflow_records_total") << " records ("
          << value("netflow_options_records_total") << " options records)\n";
  summary << "templates:  " << value("netflow_templates_received_total") << " received, "
          << decoder.template_count() << " known at the end\n";
  summary << "held:       " << decoder.pending_count()
          << " datagrams still waiting for a template at the end\n";
  summary << "sequence:   ";
  bool any_loss = false;
  for (auto& c : counters)
    if (c.name.starts_with("netflow_sequence_lost_total{") && c.value > 0) {
      summary << c.name.substr(std::string("netflow_sequence_lost_total").size()) << " " << c.value
              << " lost  ";
      any_loss = true;
    }
  summary << (any_loss ? "" : "no gaps") << "\n";
  summary << "errors:     ";
  print_errors(summary, counters, "netflow_decode_errors_total");
  for (auto& e : decoder.exporters())
    summary << "exporter:   " << e.exporter.to_string() << " domain " << e.observation_domain
            << " v" << int(e.protocol) << ": " << e.datagrams << " datagrams, " << e.records
            << " records, " << e.templates << " templates, sequence lost " << e.sequence_lost
            << ", sampling rate " << e.last_sampling_rate << "\n";
  if (sflow.datagrams() > 0) {
    std::vector<counter_value> sflow_counters;
    sflow.collect(sflow_counters);
    summary << "sflow:      " << sflow.datagrams() << " datagrams, " << sflow.flow_samples()
            << " flow samples (records), " << sflow.counter_samples() << " counter samples; lost "
            << sflow.datagrams_lost() << " datagrams, " << sflow.samples_lost() << " samples\n";
    summary << "sflow errors: ";
    print_errors(summary, sflow_counters, "sflow_decode_errors_total");
    for (auto& a : sflow.agents())
      summary << "agent:      " << a.agent.to_string() << " sub-agent " << a.sub_agent << ": "
              << a.datagrams << " datagrams, " << a.flow_samples << " flow samples, "
              << a.counter_samples << " counter samples, sampling rate " << a.last_sampling_rate
              << "\n";
  }
  return 0;
}

} // namespace tidewatch
