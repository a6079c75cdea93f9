#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/flow.hpp"

struct MMDB_s;

namespace tidewatch {

/// What one MaxMind-format database says about an address; empty fields are
/// what the database does not have.
struct geo_info {
  uint16_t country = 0;                 ///< ISO 3166 alpha-2, first char in the high byte
  uint32_t asn = 0;                     ///< autonomous system number
  const std::string* as_name = nullptr; ///< AS organisation; owned by the database

  friend bool operator==(const geo_info&, const geo_info&) = default;
};

/// A MaxMind DB file (libmaxminddb, memory-mapped) read for countries, AS
/// numbers and AS organisations. Both layouts are understood: MaxMind's
/// (`country.iso_code`, `autonomous_system_number`,
/// `autonomous_system_organization`) and the flat `country_code` of free
/// databases, so one class serves Country, City, ASN and combined files.
///
/// Records are decoded once per database record (many addresses share one)
/// and remembered, so a lookup is a tree walk plus a hash probe. Not
/// thread-safe: one instance per enricher.
class geoip_database {
public:
  geoip_database();
  ~geoip_database();
  geoip_database(const geoip_database&) = delete;
  geoip_database& operator=(const geoip_database&) = delete;

  /// Opens path; on failure says why (missing file, not a MaxMind DB, ...).
  bool open(const std::string& path, std::string& error);

  /// What the database says about a; all fields empty when it has nothing
  /// or the lookup failed (counted in lookup_errors()).
  geo_info lookup(const ip_address& a);

  const std::string& path() const { return path_; }
  /// The database's own type name, e.g. "GeoLite2-Country".
  std::string database_type() const;
  uint64_t lookup_errors() const { return lookup_errors_; }

private:
  geo_info decode_record(uint32_t offset, void* entry);

  std::unique_ptr<MMDB_s> db_;
  bool open_ = false;
  std::string path_;
  std::unordered_map<uint32_t, geo_info> records_; ///< by data-section offset
  std::deque<std::string> names_;                  ///< stable storage for as_name
  std::unordered_map<std::string, const std::string*> name_index_;
  uint64_t lookup_errors_ = 0;
};

} // namespace tidewatch
