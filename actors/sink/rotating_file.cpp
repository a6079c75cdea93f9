#include "actors/sink/rotating_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tidewatch {

namespace detail {
namespace {

std::string errno_text(int code) {
  return std::strerror(code);
}

/// Renames from to to unless to exists (then false with errno EEXIST), in one
/// step: renameat2(RENAME_NOREPLACE), or link+unlink where the file system
/// lacks it.
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return true;
  if (errno != EINVAL && errno != ENOSYS)
    return false;
  if (::link(from.c_str(), to.c_str()) != 0)
    return false;
  return ::unlink(from.c_str()) == 0;
}

/// <stem>-YYYYmmdd-HHMMSS[-N]<ext> next to path, for the UTC time us.
std::string rotated_name(const std::string& path, int64_t us, unsigned n) {
  std::filesystem::path p(path);
  std::time_t seconds = std::time_t(us >= 0 ? us / 1'000'000 : (us + 1) / 1'000'000 - 1);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), "-%Y%m%d-%H%M%S", &tm);
  std::string name = p.stem().string() + stamp;
  if (n > 0)
    name += "-" + std::to_string(n);
  name += p.extension().string();
  return (p.parent_path() / name).string();
}

} // namespace
} // namespace detail

rotating_file::~rotating_file() {
  close();
}

bool rotating_file::open(const options& o, std::string* error) {
  close();
  opts_ = o;
  buffer_.reserve(buffer_capacity);
  if (opts_.path.empty()) {
    fail("no output file path given");
  } else if (open_current()) {
    return true;
  }
  if (error)
    *error = last_error_;
  return false;
}

bool rotating_file::open_current() {
  std::filesystem::path p(opts_.path);
  if (p.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      fail("cannot create directory " + p.parent_path().string() + ": " + ec.message());
      return false;
    }
  }
  fd_ = ::open(opts_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    fail("cannot open " + opts_.path + " for writing: " + detail::errno_text(errno));
    return false;
  }
  struct stat st {};
  file_size_ = ::fstat(fd_, &st) == 0 ? uint64_t(st.st_size) : 0;
  file_started_us_ = INT64_MIN;
  return true;
}

void rotating_file::fail(std::string text) {
  ++write_errors_;
  last_error_ = std::move(text);
}

bool rotating_file::write_out(const char* data, size_t length) {
  while (length > 0) {
    ssize_t n = ::write(fd_, data, length);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("cannot write " + opts_.path + ": " + detail::errno_text(errno));
      return false;
    }
    data += n;
    length -= size_t(n);
    bytes_written_ += uint64_t(n);
  }
  return true;
}

bool rotating_file::flush(bool sync) {
  if (fd_ < 0)
    return buffer_.empty();
  bool ok = write_out(buffer_.data(), buffer_.size());
  buffer_.clear();
  if (ok && sync && ::fsync(fd_) != 0) {
    fail("cannot sync " + opts_.path + ": " + detail::errno_text(errno));
    ok = false;
  }
  return ok;
}

void rotating_file::close() {
  if (fd_ < 0)
    return;
  flush();
  ::close(fd_);
  fd_ = -1;
}

bool rotating_file::rotate(int64_t now_us) {
  int64_t started = file_started_us_ == INT64_MIN ? now_us : file_started_us_;
  close();
  bool renamed = false;
  int code = 0;
  for (unsigned n = 0; n < 10000 && !renamed; ++n) {
    renamed = detail::rename_no_replace(opts_.path, detail::rotated_name(opts_.path, started, n));
    code = renamed ? 0 : errno;
    if (code != EEXIST)
      break;
  }
  if (renamed)
    ++rotations_;
  else
    fail("cannot rename " + opts_.path + ": " + detail::errno_text(code));
  // Without a rename the old file is reopened and keeps growing: better than
  // losing data.
  return open_current() && renamed;
}

bool rotating_file::write(std::string_view data, int64_t now_us) {
  if (fd_ < 0 && !open_current())
    return false;
  bool too_old = opts_.rotate_interval_us > 0 && file_started_us_ != INT64_MIN &&
                 now_us - file_started_us_ >= opts_.rotate_interval_us;
  bool too_big = opts_.rotate_bytes > 0 && file_size_ + data.size() > opts_.rotate_bytes;
  if (file_size_ > 0 && (too_old || too_big)) {
    rotate(now_us);
    if (fd_ < 0)
      return false;
  }
  if (file_started_us_ == INT64_MIN)
    file_started_us_ = now_us;
  file_size_ += data.size();
  if (buffer_.size() + data.size() > buffer_capacity) {
    bool ok = flush();
    if (data.size() >= buffer_capacity)
      return write_out(data.data(), data.size()) && ok;
    buffer_.append(data);
    return ok;
  }
  buffer_.append(data);
  return true;
}

} // namespace tidewatch
