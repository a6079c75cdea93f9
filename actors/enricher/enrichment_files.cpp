#include "actors/enricher/enrichment_files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tidewatch {

file_version file_version::of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return {};
  return {true, uint64_t(st.st_ino), uint64_t(st.st_size),
          int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::shared_ptr<geoip_database> open_database_copy(const std::string& path, std::string& error) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    error = std::strerror(errno);
    return nullptr;
  }
  int copy = ::memfd_create("tidewatch-mmdb", MFD_CLOEXEC);
  if (copy < 0) {
    error = std::string("memfd_create: ") + std::strerror(errno);
    ::close(in);
    return nullptr;
  }
  char buffer[1 << 16];
  for (;;) {
    auto n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::string("read: ") + std::strerror(errno);
      break;
    }
    if (n == 0)
      break;
    for (ssize_t done = 0; done < n;) {
      auto w = ::write(copy, buffer + done, size_t(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0) {
        error = std::string("copying to memory: ") + std::strerror(errno);
        break;
      }
      done += w;
    }
    if (!error.empty())
      break;
  }
  ::close(in);
  std::shared_ptr<geoip_database> db;
  if (error.empty()) {
    db = std::make_shared<geoip_database>();
    // libmaxminddb opens by path; the memfd's /proc path maps our copy.
    if (!db->open("/proc/self/fd/" + std::to_string(copy), error))
      db.reset();
  }
  ::close(copy);
  return db;
}

bool enrichment_files::due(const std::string& path, watched& w, bool force) {
  if (path.empty())
    return false;
  auto now = file_version::of(path);
  bool settled = now == w.seen;
  w.seen = now;
  if (force)
    return true;
  return w.ever_loaded ? (now != w.loaded && settled) : settled;
}

enrichment_files::outcome enrichment_files::refresh(flow_enricher& e, bool force) {
  outcome out;
  if (due(paths_.prefix_file, prefix_watch_, force)) {
    auto version = prefix_watch_.seen;
    auto list = std::make_shared<prefix_list>();
    if (prefix_list::load(paths_.prefix_file, *list, out.errors)) {
      prefixes_ = std::move(list);
      e.set_prefixes(prefixes_);
      out.loaded.push_back("prefix list " + paths_.prefix_file + ": " +
                           std::to_string(prefixes_->entries().size()) + " prefixes");
      ++reloads_;
    } else {
      out.prefixes_failed = true;
      ++reload_errors_;
    }
    prefix_watch_.loaded = version;
    prefix_watch_.ever_loaded = true;
  }
  bool databases_changed = false;
  auto load_database = [&](const std::string& path, watched& w, std::shared_ptr<geoip_database>& db,
                           const char* what) {
    if (!due(path, w, force))
      return;
    auto version = w.seen;
    std::string error;
    if (auto fresh = open_database_copy(path, error)) {
      db = std::move(fresh);
      databases_changed = true;
      out.loaded.push_back(std::string(what) + " database " + path + " (" + db->database_type() +
                           ")");
      ++reloads_;
    } else {
      out.errors.push_back(
          std::string(what) + " database " + path + ": " + error +
          (db ? "; keeping the previous version" : "; its fields stay empty until it can be read"));
      ++reload_errors_;
    }
    w.loaded = version;
    w.ever_loaded = true;
  };
  load_database(paths_.country_database, country_watch_, country_, "country");
  if (paths_.asn_database == paths_.country_database) {
    if (asn_ != country_) {
      asn_ = country_;
      databases_changed = true;
    }
  } else {
    load_database(paths_.asn_database, asn_watch_, asn_, "ASN");
  }
  if (databases_changed)
    e.set_databases(country_, asn_);
  return out;
}

} // namespace tidewatch
