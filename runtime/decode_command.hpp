#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace tidewatch {

/// `tidewatch decode`: runs the netflow decoder (or, for datagrams that start
/// with the 32-bit version 5, the sFlow decoder) over the UDP payloads of a
/// capture, in capture order (so templates carry through), writes the records
/// as the JSON lines the daemon writes to `out`, and a summary to `summary`.
/// `port` (0: every UDP datagram) restricts it to one destination port.
/// Returns the process exit code: 0, or 1 when the capture cannot be read.
int decode_capture(const std::string& path, uint16_t port, std::ostream& out,
                   std::ostream& summary);

} // namespace tidewatch
