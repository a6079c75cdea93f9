#pragma once

#include <string>

namespace tidewatch {

/// Loads a certificate (chain), its private key and CA certificates the way
/// CAF's openssl module will on the first connection, so that unusable files
/// are reported at start (CAF would throw from its network thread and end
/// the process on the first connection). False, with the reason in `error`,
/// when one does not load or the key does not match the certificate.
bool check_tls_files(const std::string& certificate, const std::string& key,
                     const std::string& ca_file, std::string& error);

} // namespace tidewatch
