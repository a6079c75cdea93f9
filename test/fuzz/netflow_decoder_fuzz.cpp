// libFuzzer target for the NetFlow v5/v9/IPFIX decoder and its template state.
//
// Input: when the first byte is 0 (every NetFlow/IPFIX version field starts
// with it) the whole input is one datagram, so raw captured payloads such as
// test/fixtures/netflow/*.bin are seeds as they are. Otherwise it is a series
// of chunks [selector][length:2][payload], each payload decoded as a datagram
// from exporter 127.0.0.<1 + selector % 4>; selector bit 2 runs expire() first.
// After decoding, the template state must survive save/load unchanged, and the
// raw input is also offered to load_state as a (corrupt) state buffer.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "actors/decoder/netflow_decoder.hpp"

namespace {

void check_state_round_trip(const tidewatch::netflow_decoder& d) {
  auto saved = d.save_state();
  tidewatch::netflow_decoder other;
  if (!other.load_state(saved.data(), saved.size()))
    __builtin_trap();
  if (other.save_state() != saved)
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tidewatch::netflow_decoder_options opts;
  opts.pending_max_datagrams = 4;
  opts.max_sessions = 64;
  tidewatch::netflow_decoder d(opts);
  std::vector<tidewatch::flow_record> out;
  tidewatch::datagram_info meta;
  meta.exporter = tidewatch::ip_address::from_v4(0x7f000001);
  meta.received_us = 1'700'000'000'000'000;
  if (size > 0 && data[0] == 0) {
    d.decode(data, size, meta, out);
    d.decode(data, size, meta, out); // again, now with its templates known
  } else {
    size_t pos = 0;
    while (size - pos >= 3) {
      uint8_t selector = data[pos];
      size_t length = size_t(data[pos + 1]) << 8 | data[pos + 2];
      pos += 3;
      length = length < size - pos ? length : size - pos;
      meta.exporter = tidewatch::ip_address::from_v4(0x7f000001 + (selector & 3));
      meta.received_us += 1'000'000;
      if (selector & 4)
        d.expire(meta.received_us);
      // Exact-size copy, so that AddressSanitizer sees any read past the datagram.
      std::vector<uint8_t> datagram(data + pos, data + pos + length);
      d.decode(datagram.data(), datagram.size(), meta, out);
      pos += length;
    }
  }
  for (const auto& r : out)
    if (r.ip_version != 0 && r.ip_version != 4 && r.ip_version != 6)
      __builtin_trap();
  std::vector<tidewatch::counter_value> counters;
  d.collect(counters);
  d.exporters();
  check_state_round_trip(d);
  tidewatch::netflow_decoder loader;
  loader.load_state(data, size);
  return 0;
}
