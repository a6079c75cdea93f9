// Template cache persistence of netflow_decoder.
//
// Format, all integers big-endian:
//   "TWNFSTAT" u16 format_version(=1) u32 session_count
//   per session: 16 address bytes, u32 domain, u8 protocol version (9 or 10),
//     i64 system_init_ms (-1 = unknown), u16 template_count, u16 sampler_count,
//     per template: u16 id, u8 kind (0 data, 1 options), u16 scope_count,
//       u16 field_count, per field: u16 type, u16 length, u32 enterprise
//     per sampler: u32 id, u32 rate
//   u64 FNV-1a of every preceding byte.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

#include "actors/decoder/netflow_decoder.hpp"
#include "actors/decoder/netflow_session.hpp"

namespace tidewatch {

namespace {

constexpr char state_magic[8] = {'T', 'W', 'N', 'F', 'S', 'T', 'A', 'T'};
constexpr uint16_t state_format_version = 1;
constexpr size_t max_state_file_size = 256u << 20;

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

struct writer {
  std::vector<uint8_t> buf;
  void u8(uint8_t v) { buf.push_back(v); }
  void u16(uint16_t v) {
    u8(uint8_t(v >> 8));
    u8(uint8_t(v));
  }
  void u32(uint32_t v) {
    u16(uint16_t(v >> 16));
    u16(uint16_t(v));
  }
  void u64(uint64_t v) {
    u32(uint32_t(v >> 32));
    u32(uint32_t(v));
  }
  void raw(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    buf.insert(buf.end(), b, b + n);
  }
};

struct reader {
  const uint8_t* p;
  size_t n;
  size_t pos = 0;
  bool ok = true;

  bool need(size_t k) {
    if (!ok || n - pos < k)
      ok = false;
    return ok;
  }
  uint64_t get(size_t k) {
    if (!need(k))
      return 0;
    uint64_t v = detail::load_be(p + pos, k);
    pos += k;
    return v;
  }
  uint8_t u8() { return uint8_t(get(1)); }
  uint16_t u16() { return uint16_t(get(2)); }
  uint32_t u32() { return uint32_t(get(4)); }
  uint64_t u64() { return get(8); }
};

void set_error(std::string* error, const std::string& what) {
  if (error != nullptr)
    *error = what;
}

} // namespace

std::vector<uint8_t> netflow_decoder::save_state() const {
  writer w;
  w.raw(state_magic, sizeof(state_magic));
  w.u16(state_format_version);
  // Sorted, so that the same state always gives the same bytes.
  std::vector<const session*> saved;
  for (const auto& [key, s] : sessions_)
    if (!s->templates.empty() || !s->samplers.empty() || s->system_init_ms >= 0)
      saved.push_back(s.get());
  std::sort(saved.begin(), saved.end(), [](const session* a, const session* b) {
    return std::tie(a->key.exporter, a->key.domain, a->key.version) <
           std::tie(b->key.exporter, b->key.domain, b->key.version);
  });
  w.u32(uint32_t(saved.size()));
  for (const session* s : saved) {
    w.raw(s->key.exporter.bytes.data(), 16);
    w.u32(s->key.domain);
    w.u8(s->key.version);
    w.u64(uint64_t(s->system_init_ms));
    w.u16(uint16_t(s->templates.size()));
    w.u16(uint16_t(s->samplers.size()));
    std::vector<const detail::compiled_template*> templates;
    for (const auto& [id, t] : s->templates)
      templates.push_back(&t);
    std::sort(templates.begin(), templates.end(),
              [](const auto* a, const auto* b) { return a->def.id < b->def.id; });
    for (const auto* t : templates) {
      w.u16(t->def.id);
      w.u8(uint8_t(t->def.kind));
      w.u16(t->def.scope_count);
      w.u16(uint16_t(t->def.fields.size()));
      for (const auto& f : t->def.fields) {
        w.u16(f.type);
        w.u16(f.length);
        w.u32(f.enterprise);
      }
    }
    for (const auto& e : s->samplers) {
      w.u32(e.id);
      w.u32(e.rate);
    }
  }
  w.u64(fnv1a(w.buf.data(), w.buf.size()));
  saved_generation_ = state_generation_;
  return std::move(w.buf);
}

bool netflow_decoder::load_state(const uint8_t* data, size_t length) {
  struct loaded_session {
    session_key key;
    int64_t system_init_ms = -1;
    std::vector<detail::compiled_template> templates;
    std::vector<session::sampler> samplers;
  };
  std::vector<loaded_session> loaded;
  auto parse = [&]() -> bool {
    constexpr size_t fixed = sizeof(state_magic) + 2 + 4 + 8;
    if (data == nullptr || length < fixed)
      return false;
    if (std::memcmp(data, state_magic, sizeof(state_magic)) != 0)
      return false;
    if (fnv1a(data, length - 8) != detail::load_be64(data + length - 8))
      return false;
    reader r{data, length - 8};
    r.pos = sizeof(state_magic);
    if (r.u16() != state_format_version)
      return false;
    uint32_t count = r.u32();
    if (count > opts_.max_sessions)
      return false;
    for (uint32_t i = 0; i < count && r.ok; ++i) {
      loaded_session ls;
      if (!r.need(16))
        return false;
      ls.key.exporter = ip_address::from_v6_bytes(data + r.pos);
      r.pos += 16;
      ls.key.domain = r.u32();
      ls.key.version = r.u8();
      if (ls.key.version != 9 && ls.key.version != 10)
        return false;
      ls.system_init_ms = int64_t(r.u64());
      if (ls.system_init_ms < -1)
        return false;
      uint16_t templates = r.u16();
      uint16_t samplers = r.u16();
      if (samplers > detail::max_samplers)
        return false;
      for (uint16_t k = 0; k < templates && r.ok; ++k) {
        detail::template_definition def;
        def.id = r.u16();
        uint8_t kind = r.u8();
        def.scope_count = r.u16();
        uint16_t fields = r.u16();
        if (!r.ok || def.id < 256 || kind > 1 || !r.need(size_t(fields) * 8))
          return false;
        def.kind = static_cast<detail::template_kind>(kind);
        def.ipfix = ls.key.version == 10;
        def.fields.resize(fields);
        for (auto& f : def.fields) {
          f.type = r.u16();
          f.length = r.u16();
          f.enterprise = r.u32();
        }
        for (const auto& t : ls.templates)
          if (t.def.id == def.id)
            return false;
        detail::compiled_template t;
        if (detail::compile_template(std::move(def), t) != detail::compile_result::ok)
          return false;
        ls.templates.push_back(std::move(t));
      }
      for (uint16_t k = 0; k < samplers && r.ok; ++k) {
        session::sampler e;
        e.id = r.u32();
        e.rate = r.u32();
        ls.samplers.push_back(e);
      }
      for (const auto& other : loaded)
        if (other.key == ls.key)
          return false;
      loaded.push_back(std::move(ls));
    }
    return r.ok && r.pos == r.n;
  };
  bool ok = parse();
  bool changed = false;
  for (auto& [key, s] : sessions_) {
    changed |= !s->templates.empty() || !s->samplers.empty() || s->system_init_ms >= 0;
    s->templates.clear();
    s->samplers.clear();
    s->system_init_ms = -1;
    s->forget_cache();
  }
  if (!ok) {
    if (changed)
      mark_dirty();
    return false;
  }
  for (auto& ls : loaded) {
    session* s = find_session(ls.key, ls.key.exporter);
    if (s == nullptr)
      continue;
    for (auto& t : ls.templates) {
      uint16_t id = t.def.id;
      s->templates.emplace(id, std::move(t));
    }
    s->samplers = std::move(ls.samplers);
    s->system_init_ms = ls.system_init_ms;
  }
  saved_generation_ = state_generation_;
  return true;
}

bool netflow_decoder::save_state_file(const std::string& path, std::string* error) const {
  uint64_t previous = saved_generation_;
  auto bytes = save_state();
  auto fail = [&](const std::string& what, const std::string& tmp) {
    set_error(error, what + ": " + std::strerror(errno));
    if (!tmp.empty())
      ::unlink(tmp.c_str());
    saved_generation_ = previous;
    return false;
  };
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail("cannot create " + tmp, "");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      return fail("cannot write " + tmp, tmp);
    }
    done += size_t(k);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("cannot fsync " + tmp, tmp);
  }
  if (::close(fd) != 0)
    return fail("cannot close " + tmp, tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("cannot rename " + tmp + " to " + path, tmp);
  // Make the rename itself durable.
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool netflow_decoder::load_state_file(const std::string& path, std::string* error) {
  std::vector<uint8_t> bytes;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool read_ok = fd >= 0;
  if (!read_ok) {
    set_error(error, "cannot open " + path + ": " + std::strerror(errno));
  } else {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < 0 || size_t(st.st_size) > max_state_file_size) {
      set_error(error, path + ": not a readable state file");
      read_ok = false;
    } else {
      bytes.resize(size_t(st.st_size));
      size_t done = 0;
      while (done < bytes.size()) {
        ssize_t k = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (k < 0 && errno == EINTR)
          continue;
        if (k <= 0) {
          set_error(error, "cannot read " + path);
          read_ok = false;
          break;
        }
        done += size_t(k);
      }
    }
    ::close(fd);
  }
  if (!read_ok) {
    load_state(nullptr, 0);
    return false;
  }
  if (!load_state(bytes.data(), bytes.size())) {
    set_error(error, path + ": corrupt or foreign template state");
    return false;
  }
  return true;
}

} // namespace tidewatch
