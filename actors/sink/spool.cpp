#include "actors/sink/spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tidewatch {

namespace {

constexpr std::string_view magic = "TWSPOOL1";
constexpr size_t flush_threshold = 1 << 20;

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
uint32_t crc32(const char* data, size_t length) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < length; ++i)
    c = table[(c ^ uint8_t(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put_u32(std::string& out, uint32_t x) {
  char b[4] = {char(x), char(x >> 8), char(x >> 16), char(x >> 24)};
  out.append(b, 4);
}

uint32_t get_u32(const char* p) {
  return uint32_t(uint8_t(p[0])) | uint32_t(uint8_t(p[1])) << 8 | uint32_t(uint8_t(p[2])) << 16 |
         uint32_t(uint8_t(p[3])) << 24;
}

bool write_all(int fd, const char* data, size_t length) {
  while (length > 0) {
    auto n = ::write(fd, data, length);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    length -= size_t(n);
  }
  return true;
}

} // namespace

spool::~spool() {
  close_writer();
}

std::string spool::path_of(uint64_t id) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.spool", static_cast<unsigned long long>(id));
  return opts_.directory + "/" + name;
}

bool spool::open(const options& o, std::string* error) {
  namespace fs = std::filesystem;
  opts_ = o;
  std::error_code ec;
  fs::create_directories(opts_.directory, ec);
  if (ec) {
    if (error)
      *error = "cannot create " + opts_.directory + ": " + ec.message();
    return false;
  }
  segments_.clear();
  bytes_ = 0;
  for (auto it = fs::directory_iterator(opts_.directory, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    auto name = it->path().filename().string();
    uint64_t id = 0;
    auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (parse_error != std::errc{} || name.size() != 26 || std::string_view(end) != ".spool")
      continue;
    auto size = it->file_size(ec);
    if (ec)
      break;
    segments_.push_back({id, size, false});
    bytes_ += size;
  }
  if (ec) {
    if (error)
      *error = "cannot read " + opts_.directory + ": " + ec.message();
    return false;
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const segment_file& a, const segment_file& b) { return a.id < b.id; });
  next_id_ = segments_.empty() ? 1 : segments_.back().id + 1;
  return true;
}

bool spool::start_segment() {
  auto id = next_id_++;
  fd_ = ::open(path_of(id).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    ++write_errors_;
    return false;
  }
  buffer_.append(magic);
  segments_.push_back({id, magic.size(), false});
  bytes_ += magic.size();
  return true;
}

bool spool::append(std::string_view key, std::string_view value) {
  key = key.substr(0, 0xFFFF);
  auto size = record_size(key.size(), value.size());
  auto needed = size + (fd_ < 0 ? magic.size() : 0);
  if (bytes_ + needed > opts_.max_bytes || (fd_ < 0 && !start_segment())) {
    ++rejected_;
    return false;
  }
  auto payload_start = buffer_.size() + 8;
  put_u32(buffer_, uint32_t(size - 8));
  put_u32(buffer_, 0);
  buffer_.push_back(char(key.size()));
  buffer_.push_back(char(key.size() >> 8));
  buffer_.append(key);
  buffer_.append(value);
  auto crc = crc32(buffer_.data() + payload_start, size - 8);
  for (int i = 0; i < 4; ++i)
    buffer_[payload_start - 4 + i] = char(crc >> (8 * i));
  segments_.back().bytes += size;
  bytes_ += size;
  ++appended_;
  if (segments_.back().bytes >= opts_.segment_bytes)
    close_writer();
  else if (buffer_.size() >= flush_threshold)
    flush();
  return true;
}

bool spool::flush(bool sync) {
  if (fd_ < 0)
    return true;
  bool ok = write_all(fd_, buffer_.data(), buffer_.size());
  buffer_.clear();
  if (ok && sync)
    ok = ::fdatasync(fd_) == 0;
  if (!ok)
    ++write_errors_;
  return ok;
}

void spool::close_writer() {
  if (fd_ < 0)
    return;
  flush(true);
  ::close(fd_);
  fd_ = -1;
}

bool spool::load_oldest(segment& out) {
  for (;;) {
    auto it = std::find_if(segments_.begin(), segments_.end(),
                           [](const segment_file& s) { return !s.loaded; });
    if (it == segments_.end())
      return false;
    if (fd_ >= 0 && std::next(it) == segments_.end())
      close_writer();
    out.id = it->id;
    out.messages.clear();
    std::ifstream in(path_of(it->id), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out.data = std::move(text).str();
    it->loaded = true;
    if (!in) {
      // Gone or unreadable: nothing of it can be sent.
      ++corrupt_segments_;
      corrupt_bytes_ += it->bytes;
      release(out.id);
      continue;
    }
    parse(out);
    return true;
  }
}

bool spool::parse(segment& out) {
  const char* p = out.data.data();
  const char* end = p + out.data.size();
  if (out.data.size() < magic.size() || std::string_view(p, magic.size()) != magic) {
    ++corrupt_segments_;
    corrupt_bytes_ += out.data.size();
    return false;
  }
  p += magic.size();
  while (p < end) {
    if (end - p < 10)
      break;
    uint32_t length = get_u32(p);
    uint32_t crc = get_u32(p + 4);
    if (length < 2 || uint64_t(end - p - 8) < length || crc32(p + 8, length) != crc)
      break;
    size_t key_length = uint8_t(p[8]) | size_t(uint8_t(p[9])) << 8;
    if (key_length > length - 2)
      break;
    out.messages.push_back({std::string_view(p + 10, key_length),
                            std::string_view(p + 10 + key_length, length - 2 - key_length)});
    p += 8 + length;
  }
  if (p == end)
    return true;
  ++corrupt_segments_;
  corrupt_bytes_ += uint64_t(end - p);
  return false;
}

void spool::release(uint64_t id) {
  auto it = std::find_if(segments_.begin(), segments_.end(),
                         [id](const segment_file& s) { return s.id == id; });
  if (it == segments_.end())
    return;
  ::unlink(path_of(id).c_str());
  bytes_ -= it->bytes;
  segments_.erase(it);
}

} // namespace tidewatch
