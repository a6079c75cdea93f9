#include "actors/enricher/geoip_database.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <maxminddb.h>

namespace tidewatch {

geoip_database::geoip_database() : db_(std::make_unique<MMDB_s>()) {}

geoip_database::~geoip_database() {
  if (open_)
    MMDB_close(db_.get());
}

bool geoip_database::open(const std::string& path, std::string& error) {
  if (open_) {
    MMDB_close(db_.get());
    open_ = false;
  }
  records_.clear();
  path_ = path;
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db_.get());
  if (status != MMDB_SUCCESS) {
    error = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR)
      error += std::string(": ") + std::strerror(errno);
    return false;
  }
  open_ = true;
  return true;
}

std::string geoip_database::database_type() const {
  return open_ && db_->metadata.database_type ? db_->metadata.database_type : "";
}

namespace {

/// A UTF-8 string at path below entry, or empty.
std::string_view string_at(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return {data.utf8_string, data.data_size};
}

/// An unsigned number at path below entry, or 0.
uint32_t number_at(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data)
    return 0;
  switch (data.type) {
  case MMDB_DATA_TYPE_UINT16:
    return data.uint16;
  case MMDB_DATA_TYPE_UINT32:
    return data.uint32;
  case MMDB_DATA_TYPE_INT32:
    return data.int32 < 0 ? 0 : uint32_t(data.int32);
  case MMDB_DATA_TYPE_UINT64:
    return uint32_t(data.uint64);
  default:
    return 0;
  }
}

} // namespace

geo_info geoip_database::decode_record(uint32_t offset, void* entry_ptr) {
  if (auto it = records_.find(offset); it != records_.end())
    return it->second;
  auto* entry = static_cast<MMDB_entry_s*>(entry_ptr);
  static const char* const iso_code[] = {"country", "iso_code", nullptr};
  static const char* const flat_country[] = {"country_code", nullptr};
  static const char* const asn_path[] = {"autonomous_system_number", nullptr};
  static const char* const org_path[] = {"autonomous_system_organization", nullptr};
  geo_info info;
  auto iso = string_at(entry, iso_code);
  if (iso.empty())
    iso = string_at(entry, flat_country);
  if (iso.size() == 2)
    info.country = country_code(iso[0], iso[1]);
  info.asn = number_at(entry, asn_path);
  if (auto org = string_at(entry, org_path); !org.empty()) {
    auto [it, added] = name_index_.try_emplace(std::string(org), nullptr);
    if (added)
      it->second = &names_.emplace_back(org);
    info.as_name = it->second;
  }
  records_.emplace(offset, info);
  return info;
}

geo_info geoip_database::lookup(const ip_address& a) {
  if (!open_)
    return {};
  sockaddr_storage storage{};
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a.bytes.data() + 12, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  }
  int mmdb_error = MMDB_SUCCESS;
  auto result =
      MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) {
    // An IPv6 address in an IPv4-only database is not an error of the data.
    if (mmdb_error != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
      ++lookup_errors_;
    return {};
  }
  if (!result.found_entry)
    return {};
  return decode_record(result.entry.offset, &result.entry);
}

} // namespace tidewatch
