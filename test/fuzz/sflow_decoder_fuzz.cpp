// libFuzzer target for the sFlow v5 decoder.
//
// Input: when it starts with the sFlow version word (0 0 0 5) the whole input
// is one datagram, so captured payloads such as test/fixtures/sflow/*.bin are
// seeds as they are. Otherwise it is a series of chunks
// [selector][length:2][payload], each decoded as a datagram, with counter
// copies requested when selector bit 0 is set. Every record must carry a
// valid IP version and the sFlow protocol; every counter copy must equal the

// replaced them.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "actors/decoder/sflow_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tidewatch::sflow_decoder_options opts;
  opts.max_agents = 8;
  opts.max_sources = 16;
  opts.max_interfaces = 16;
  tidewatch::sflow_decoder d(opts);
  std::vector<tidewatch::flow_record> out;
  std::vector<tidewatch::sflow_interface_counters> counters;
  tidewatch::datagram_info meta;
  meta.exporter = tidewatch::ip_address::from_v4(0x7f000001);
  meta.received_us = 1'700'000'000'000'000;
  static constexpr uint8_t version[4] = {0, 0, 0, 5};
  if (size >= 4 && std::memcmp(data, version, 4) == 0) {
    std::vector<uint8_t> datagram(data, data + size);
    d.decode(datagram.data(), datagram.size(), meta, out, &counters);
  } else {
    size_t pos = 0;
    while (size - pos >= 3) {
      uint8_t selector = data[pos];
      size_t length = size_t(data[pos + 1]) << 8 | data[pos + 2];
      pos += 3;
      length = length < size - pos ? length : size - pos;
      meta.received_us += 1'000'000;
      // Exact-size copy, so that AddressSanitizer sees any read past the datagram.
      std::vector<uint8_t> datagram(data + pos, data + pos + length);
      d.decode(datagram.data(), datagram.size(), meta, out, (selector & 1) ? &counters : nullptr);
      pos += length;
    }
  }
  for (const auto& r : out)
    if ((r.ip_version != 0 && r.ip_version != 4 && r.ip_version != 6) || r.packets != 1 ||
        r.protocol_version != tidewatch::export_protocol::sflow_v5)
      __builtin_trap();
  if (out.size() != d.flow_samples() && d.error_count(tidewatch::sflow_error::bad_record) == 0 &&
      d.error_count(tidewatch::sflow_error::bad_record_count) == 0 &&
      d.error_count(tidewatch::sflow_error::bad_record_length) == 0)
    __builtin_trap();
  if (d.interfaces().size() > opts.max_interfaces || d.agents().size() > opts.max_agents)
    __builtin_trap();
  std::vector<tidewatch::counter_value> values;
  d.collect(values);
  return 0;
}
