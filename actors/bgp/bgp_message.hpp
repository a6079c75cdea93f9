#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "messages/bgp.hpp"

namespace tidewatch {

// BGP-4 wire format (RFC 4271) with the extensions tidewatch speaks:
// 4-octet AS (RFC 6793), multiprotocol IPv4/IPv6 unicast (RFC 4760), route
// refresh (RFC 2918), ADD-PATH (RFC 7911), graceful restart (RFC 4724), large
// communities (RFC 8092), and RFC 7606 error handling for UPDATEs.

enum class bgp_message_type : uint8_t {
  open = 1,
  update = 2,
  notification = 3,
  keepalive = 4,
  route_refresh = 5,
};

inline constexpr size_t bgp_header_size = 19;
inline constexpr size_t bgp_max_message_size = 4096;
/// The 2-octet AS that stands for a 4-octet one (RFC 6793).
inline constexpr uint16_t as_trans = 23456;

/// The address families tidewatch accepts: IPv4 and IPv6 unicast.
enum class bgp_family : uint8_t { ipv4 = 0, ipv6 = 1 };
inline constexpr size_t bgp_family_count = 2;

/// NOTIFICATION error codes (RFC 4271 §4.5, RFC 4486 for cease subcodes).
namespace bgp_error_code {
inline constexpr uint8_t header = 1;
inline constexpr uint8_t open = 2;
inline constexpr uint8_t update = 3;
inline constexpr uint8_t hold_timer_expired = 4;
inline constexpr uint8_t fsm = 5;
inline constexpr uint8_t cease = 6;
} // namespace bgp_error_code

/// A NOTIFICATION's content; code 0 means no error.
struct bgp_error {
  uint8_t code = 0;
  uint8_t subcode = 0;
  std::vector<uint8_t> data;

  explicit operator bool() const { return code != 0; }
};

/// A decoded message header.
struct bgp_header {
  bgp_message_type type{};
  uint16_t length = 0; ///< the whole message, header included
};

/// Checks a header (marker, length bounds for the type); on error returns the
/// NOTIFICATION to send. `p` must hold bgp_header_size bytes.
bgp_error parse_header(const uint8_t* p, bgp_header& out);

/// An OPEN and the capabilities tidewatch understands (others are ignored).
struct bgp_open {
  uint8_t version = 4;
  uint32_t as = 0; ///< the 4-octet capability's AS when present, else My AS
  uint16_t hold_time = 0;
  uint32_t router_id = 0;
  bool four_octet_as = false;
  bool route_refresh = false;
  /// Multiprotocol capabilities per family; none announced means IPv4 only.
  std::array<bool, bgp_family_count> families{};
  bool any_family_capability = false;
  /// ADD-PATH send/receive per family: bit 0 receive, bit 1 send (RFC 7911 values).
  std::array<uint8_t, bgp_family_count> add_path{};
  bool graceful_restart = false;
  bool restarting = false; ///< graceful restart R bit
  uint16_t restart_time = 0;
  std::array<bool, bgp_family_count> restart_families{};
};

/// Decodes an OPEN body (after the header); returns the NOTIFICATION to send
/// when it is malformed.
bgp_error parse_open(const uint8_t* p, size_t size, bgp_open& out);

/// How an UPDATE is applied under RFC 7606.
enum class bgp_update_outcome : uint8_t {
  apply,             ///< as received (possibly with attributes discarded)
  treat_as_withdraw, ///< every announced prefix is withdrawn instead
  session_reset,     ///< send `error` and close the session
};

/// What the session negotiated that changes how UPDATEs are read.
struct bgp_update_options {
  bool four_octet_as = false;
  std::array<bool, bgp_family_count> add_path{}; ///< we receive path identifiers
};

/// A decoded UPDATE. Held by the session and reused, so that decoding keeps
/// its buffers instead of allocating per message.
struct bgp_update {
  bgp_update_outcome outcome = bgp_update_outcome::apply;
  bgp_error error;                ///< for session_reset
  uint32_t discarded = 0;         ///< attributes dropped by "attribute discard"
  bool has_attributes = false;    ///< the UPDATE carried path attributes
  bool end_of_rib = false;        ///< an End-of-RIB marker (RFC 4724)
  bgp_family end_of_rib_family{}; ///< its family
  std::vector<bgp_route> withdrawn;
  std::vector<bgp_route> announced; ///< `attributes` field unused (always 0)
  bgp_path_attributes attributes;

  void clear();
};

/// Decodes an UPDATE body (after the header), applying RFC 7606: a bad
/// attribute that cannot change routing is discarded, a bad route-affecting
/// attribute turns the announcements into withdrawals, and an UPDATE whose
/// prefixes cannot be located asks for a session reset. Never throws.
void parse_update(const uint8_t* p, size_t size, const bgp_update_options& options,
                  bgp_update& out);

/// Decodes a NOTIFICATION body.
bgp_error parse_notification(const uint8_t* p, size_t size);

/// Decodes a ROUTE-REFRESH body (RFC 2918; 4 bytes, as parse_header checks)
/// into the family it asks to be re-sent. False when it is not a plain
/// request (an RFC 7313 subtype) or names a family tidewatch does not speak:
/// such a message is ignored.
bool parse_route_refresh(const uint8_t* p, size_t size, bgp_family& out);

// -- encoders: each appends one whole message to `out` --

void encode_open(const bgp_open& open, std::vector<uint8_t>& out);
void encode_keepalive(std::vector<uint8_t>& out);
void encode_notification(const bgp_error& error, std::vector<uint8_t>& out);
/// An UPDATE announcing (attributes non-null) or withdrawing `routes`, all of
/// one family: IPv4 in the classic fields, IPv6 in MP_REACH/MP_UNREACH.
/// 4-octet AS numbers; path identifiers when `add_path`.
void encode_update(const std::vector<bgp_route>& routes, const bgp_path_attributes* attributes,
                   bool add_path, std::vector<uint8_t>& out);
/// An End-of-RIB marker for a family.
void encode_end_of_rib(bgp_family family, std::vector<uint8_t>& out);

} // namespace tidewatch
