#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/enricher/flow_enricher.hpp"

namespace tidewatch {

/// Identity of a file's content as the file system reports it.
struct file_version {
  bool exists = false;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;

  static file_version of(const std::string& path);
  friend bool operator==(const file_version&, const file_version&) = default;
};

/// Opens a MaxMind DB from a private in-memory copy of path, so that a file
/// rewritten in place later can never pull the mapping from under a lookup
/// (libmaxminddb maps the file; a truncated mapping would fault).
std::shared_ptr<geoip_database> open_database_copy(const std::string& path, std::string& error);

/// The files an enricher reads (prefix list, country and ASN databases),
/// loaded into a flow_enricher and watched for changes.
///
/// A changed file is loaded once it has stayed the same for one check (so a
/// file being written is not read half-way), or at once when forced (start,
/// SIGHUP). A file that fails to load leaves the previous version in place.
class enrichment_files {
public:
  struct paths {
    std::string prefix_file;
    std::string country_database;
    std::string asn_database;
  };

  struct outcome {
    std::vector<std::string> loaded; ///< one line per file loaded
    std::vector<std::string> errors; ///< one line per problem
    bool prefixes_failed = false;    ///< the prefix list was given and could not be loaded
  };

  explicit enrichment_files(paths p) : paths_(std::move(p)) {}

  /// Loads what changed into e (everything when force).
  outcome refresh(flow_enricher& e, bool force);

  uint64_t reloads() const { return reloads_; }
  uint64_t reload_errors() const { return reload_errors_; }
  size_t prefix_count() const { return prefixes_ ? prefixes_->entries().size() : 0; }

private:
  struct watched {
    file_version loaded; ///< what is in use
    file_version seen;   ///< what the last check saw
    bool ever_loaded = false;
  };
  /// Whether the file at path should be (re)loaded now.
  static bool due(const std::string& path, watched& w, bool force);

  paths paths_;
  watched prefix_watch_;
  watched country_watch_;
  watched asn_watch_;
  std::shared_ptr<const prefix_list> prefixes_;
  std::shared_ptr<geoip_database> country_;
  std::shared_ptr<geoip_database> asn_;
  uint64_t reloads_ = 0;
  uint64_t reload_errors_ = 0;
};

} // namespace tidewatch
