// libFuzzer target for the BGP message parser and session state machine.
//
// Input: the first byte selects options (bit 0: 4-octet AS, bit 1: ADD-PATH
// for IPv4, bit 2: ADD-PATH for IPv6); the rest is read three ways: as an
// UPDATE body, as an OPEN body, and as the byte stream an established session
// receives. Seeds (test/fixtures/bgp/) are whole BGP messages after the
// option byte. Every route must have a valid length for its family, a
// treat-as-withdraw UPDATE must announce nothing, and the session's route
// batches must refer to attribute sets they hold.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "actors/bgp/bgp_rib.hpp"
#include "actors/bgp/bgp_session.hpp"

namespace {

void check_routes(const std::vector<tidewatch::bgp_route>& routes) {
  for (const auto& r : routes)
    if (r.length > (r.network.is_v4() ? 32 : 128))
      __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tidewatch;
  if (size < 1)
    return 0;
  uint8_t selector = data[0];
  std::vector<uint8_t> body(data + 1, data + size); // exact size for AddressSanitizer
  bgp_update_options options;
  options.four_octet_as = selector & 1;
  options.add_path = {(selector & 2) != 0, (selector & 4) != 0};
  // A whole UPDATE message (as the seeds are) is read from its body.
  const uint8_t* update_body = body.data();
  size_t update_size = body.size();
  bgp_header header;
  if (size - 1 >= bgp_header_size && !parse_header(body.data(), header) &&
      header.type == bgp_message_type::update && header.length <= update_size) {
    update_body += bgp_header_size;
    update_size = header.length - bgp_header_size;
  }
  bgp_update update;
  parse_update(update_body, update_size, options, update);
  check_routes(update.announced);
  check_routes(update.withdrawn);
  if (update.outcome == bgp_update_outcome::treat_as_withdraw && !update.announced.empty())
    __builtin_trap();
  bgp_open open;
  parse_open(body.data(), body.size(), open);

  bgp_session_settings settings;
  settings.local_as = 65000;
  settings.router_id = 1;
  settings.remote_as = 65001;
  bgp_session session(settings, ip_address::from_v4(0x7f000002));
  std::vector<uint8_t> out;
  std::vector<bgp_route_batch> changes;
  session.connected(0, out);
  bgp_open peer;
  peer.as = 65001;
  peer.hold_time = 90;
  peer.router_id = 2;
  peer.four_octet_as = options.four_octet_as;
  peer.families = {true, true};
  peer.any_family_capability = true;
  peer.add_path = {uint8_t(options.add_path[0] ? 2 : 0), uint8_t(options.add_path[1] ? 2 : 0)};
  std::vector<uint8_t> handshake;
  encode_open(peer, handshake);
  encode_keepalive(handshake);
  if (!session.receive(handshake.data(), handshake.size(), 1, out, changes) ||
      session.state() != bgp_state::established)
    __builtin_trap();
  session.receive(body.data(), body.size(), 2, out, changes);
  bgp_rib rib;
  for (const auto& batch : changes) {
    check_routes(batch.announced);
    check_routes(batch.withdrawn);
    for (const auto& r : batch.announced)
      if (r.attributes >= batch.attributes.size())
        __builtin_trap();
    rib.apply(batch);
  }
  return 0;
}
