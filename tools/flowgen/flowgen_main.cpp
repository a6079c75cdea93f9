// flowgen: sends synthetic NetFlow v5 / v9 / IPFIX / sFlow v5 export datagrams at a precise
// rate (or flat out) to a collector on loopback, and/or writes them to a pcap.
// See `flowgen --help`.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/flowgen/flow_encoder.hpp"
#include "tools/flowgen/flow_synthesizer.hpp"
#include "tools/flowgen/pcap_writer.hpp"

namespace tidewatch {
namespace {

constexpr const char* usage =
    R"(usage: flowgen --protocol v5|v9|ipfix|sflow (--target HOST:PORT | --write-pcap FILE) [options]

Sends synthetic flow export datagrams: templates first (v9/IPFIX), then data.
sFlow: one flow sample (raw Ethernet header) per record, and a counter sample
datagram at start and every template interval.
  --target HOST:PORT        collector address; loopback only (127.0.0.0/8, [::1])
  --allow-non-loopback      permit any target address
  --protocol v5|v9|ipfix|sflow  export protocol
  --rate N                  flow records per second; 0 = flat out (default 0)
  --duration SECONDS        stop after this long (default 10 unless --records)
  --records N               stop after N records (attack records included)
  --hosts N                 distinct source hosts (default 1000)
  --src-prefix P[,P...]     source prefixes, IPv4 and/or IPv6
                            (default 10.0.0.0/8,2001:db8:a::/48)
  --dst-prefix P[,P...]     destination prefixes
                            (default 198.51.100.0/24,2001:db8:b::/64)
  --ipv6-share F            share of IPv6 hosts and flows in [0, 1] (default 0)
  --template-interval S     resend templates every S seconds; 0 = only at start (default 10)
  --sampling-rate N         announce 1-in-N packet sampling (default: none; sFlow: 1)
  --source-id N             v9 source ID / IPFIX observation domain / sFlow sub-agent
                            (default 1)
  --exporters N             exporters, each its own socket bound to 127.0.0.X, X = 1..N
  --attack IP               mix in attack flows towards IP
  --attack-type T           syn|udp|icmp|frag|ntp-amp|dns-amp (default syn)
  --attack-rate N           attack records per second
  --seed N                  seed of the deterministic traffic (default 1)
  --max-datagram-size N     largest datagram payload in bytes (default 1400)
  --batch N                 datagrams per sendmmsg call (default 64)
  --write-pcap FILE         also write every datagram to a pcap; without --target only
                            the pcap is written, on a virtual clock (byte-reproducible)
  --start-time SECONDS      Unix time the virtual clock starts at (default 1700000000)
  --json                    print the summary as JSON
)";

/// Everything the command line sets.
struct options {
  std::optional<udp_endpoint> target;
  std::optional<export_protocol> protocol;
  double rate = 0;
  std::optional<double> duration;
  std::optional<uint64_t> records;
  traffic_profile profile;
  double template_interval = 10;
  uint32_t sampling_rate = 0;
  uint32_t source_id = 1;
  uint32_t exporters = 1;
  double attack_rate = 0;
  uint64_t seed = 1;
  bool allow_non_loopback = false;
  bool json = false;
  std::string pcap_path;
  size_t max_datagram_size = default_max_datagram_size;
  uint32_t batch = 64;
  int64_t start_time_us = int64_t{1'700'000'000} * 1'000'000;
};

/// What was sent, for the final summary.
struct totals {
  uint64_t datagrams = 0;
  uint64_t data_datagrams = 0;
  uint64_t template_datagrams = 0;
  uint64_t records = 0;
  uint64_t ipv4_records = 0;
  uint64_t ipv6_records = 0;
  uint64_t attack_records = 0;
  uint64_t tcp_records = 0;
  uint64_t udp_records = 0;
  uint64_t icmp_records = 0;
  uint64_t other_records = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t payload_bytes = 0;
  uint64_t send_errors = 0;
  int last_send_errno = 0;
  double elapsed_s = 0;
};

constexpr size_t max_sendmmsg = 1024; // the kernel's UIO_MAXIOV

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

// -- command line -----------------------------------------------------------------

template <class T> bool parse_integer(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

bool parse_real(std::string_view text, double& out) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && errno == 0 && out >= 0;
}

/// "A.B.C.D:PORT", "[V6]:PORT" or "localhost:PORT".
bool parse_endpoint(std::string_view text, udp_endpoint& out) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || !parse_integer(text.substr(colon + 1), out.port) ||
      out.port == 0)
    return false;
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost")
    host = "127.0.0.1";
  return ip_address::parse(host, out.address);
}

bool parse_prefixes(std::string_view text, std::vector<address_prefix>& out) {
  out.clear();
  while (!text.empty()) {
    auto comma = text.find(',');
    address_prefix p;
    if (!address_prefix::parse(text.substr(0, comma), p))
      return false;
    out.push_back(p);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return !out.empty();
}

bool is_loopback(const ip_address& a) {
  if (a.is_v4())
    return a.bytes[12] == 127;
  ip_address one;
  one.bytes[15] = 1;
  return a == one;
}

/// Parses and validates the command line; on error returns the message.
std::optional<std::string> parse_options(int argc, char** argv, options& o) {
  address_prefix p;
  address_prefix::parse("10.0.0.0/8", p);
  o.profile.src_prefixes.push_back(p);
  address_prefix::parse("2001:db8:a::/48", p);
  o.profile.src_prefixes.push_back(p);
  address_prefix::parse("198.51.100.0/24", p);
  o.profile.dst_prefixes.push_back(p);
  address_prefix::parse("2001:db8:b::/64", p);
  o.profile.dst_prefixes.push_back(p);
  bool attack_rate_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (flag == "--allow-non-loopback") {
      o.allow_non_loopback = true;
      continue;
    }
    if (flag == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc)
      return "missing value after " + std::string(flag);
    std::string_view v = argv[++i];
    bool ok = true;
    if (flag == "--target") {
      udp_endpoint e;
      ok = parse_endpoint(v, e);
      o.target = e;
    } else if (flag == "--protocol") {
      if (v == "v5")
        o.protocol = export_protocol::netflow_v5;
      else if (v == "v9")
        o.protocol = export_protocol::netflow_v9;
      else if (v == "ipfix")
        o.protocol = export_protocol::ipfix;
      else if (v == "sflow")
        o.protocol = export_protocol::sflow_v5;
      else
        ok = false;
    } else if (flag == "--rate") {
      ok = parse_real(v, o.rate);
    } else if (flag == "--duration") {
      double d = 0;
      ok = parse_real(v, d) && d > 0;
      o.duration = d;
    } else if (flag == "--records") {
      uint64_t n = 0;
      ok = parse_integer(v, n) && n > 0;
      o.records = n;
    } else if (flag == "--hosts") {
      ok = parse_integer(v, o.profile.hosts) && o.profile.hosts > 0;
    } else if (flag == "--src-prefix") {
      ok = parse_prefixes(v, o.profile.src_prefixes);
    } else if (flag == "--dst-prefix") {
      ok = parse_prefixes(v, o.profile.dst_prefixes);
    } else if (flag == "--ipv6-share") {
      ok = parse_real(v, o.profile.ipv6_share) && o.profile.ipv6_share <= 1;
    } else if (flag == "--template-interval") {
      ok = parse_real(v, o.template_interval);
    } else if (flag == "--sampling-rate") {
      ok = parse_integer(v, o.sampling_rate);
    } else if (flag == "--source-id") {
      ok = parse_integer(v, o.source_id);
    } else if (flag == "--exporters") {
      ok = parse_integer(v, o.exporters) && o.exporters >= 1 && o.exporters <= 254;
    } else if (flag == "--attack") {
      ip_address a;
      ok = ip_address::parse(v, a);
      o.profile.attack_target = a;
    } else if (flag == "--attack-type") {
      auto t = parse_attack_type(v);
      ok = t.has_value();
      if (ok)
        o.profile.attack = *t;
    } else if (flag == "--attack-rate") {
      ok = parse_real(v, o.attack_rate) && o.attack_rate > 0;
      attack_rate_set = true;
    } else if (flag == "--seed") {
      ok = parse_integer(v, o.seed);
    } else if (flag == "--max-datagram-size") {
      ok = parse_integer(v, o.max_datagram_size) && o.max_datagram_size >= 256 &&
           o.max_datagram_size <= 65507;
    } else if (flag == "--batch") {
      ok = parse_integer(v, o.batch) && o.batch >= 1 && o.batch <= 1024;
    } else if (flag == "--write-pcap") {
      o.pcap_path = v;
    } else if (flag == "--start-time") {
      int64_t s = 0;
      ok = parse_integer(v, s) && s > 0;
      o.start_time_us = s * 1'000'000;
    } else {
      return "unknown option " + std::string(flag);
    }
    if (!ok)
      return "invalid value for " + std::string(flag) + ": " + std::string(v);
  }
  if (!o.protocol)
    return "--protocol is required";
  if (!o.target && o.pcap_path.empty())
    return "--target or --write-pcap is required";
  if (o.target && !o.allow_non_loopback && !is_loopback(o.target->address))
    return "refusing to send to non-loopback address " + o.target->address.to_string() +
           " (only 127.0.0.0/8 and ::1); pass --allow-non-loopback to override";
  if (o.exporters > 1 && o.target && !(o.target->address.is_v4() && is_loopback(o.target->address)))
    return "--exporters above 1 needs an IPv4 loopback target (exporters bind 127.0.0.X)";
  if (*o.protocol == export_protocol::netflow_v5 &&
      (o.profile.ipv6_share > 0 || (o.profile.attack_target && !o.profile.attack_target->is_v4())))
    return "NetFlow v5 cannot carry IPv6 flows";
  if (o.profile.attack_target && !attack_rate_set)
    return "--attack needs --attack-rate";
  if (!o.profile.attack_target && attack_rate_set)
    return "--attack-rate needs --attack";
  if (!o.target && o.rate == 0 && !o.records)
    return "writing a pcap flat out on the virtual clock needs --records";
  if (!o.duration && !o.records)
    o.duration = 10;
  return std::nullopt;
}

// -- clock ------------------------------------------------------------------------

int64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

int64_t wall_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

/// Time since the run started, either real (monotonic, with precise sleeps) or
/// virtual (advanced by the run loop itself, for reproducible pcaps).
class run_clock {
public:
  run_clock(bool is_virtual, int64_t virtual_start_us)
      : virtual_(is_virtual), start_wall_us_(is_virtual ? virtual_start_us : wall_us()),
        start_mono_us_(monotonic_us()) {}

  int64_t elapsed_us() const {
    return virtual_ ? virtual_elapsed_us_ : monotonic_us() - start_mono_us_;
  }
  int64_t wall_at(int64_t elapsed) const { return start_wall_us_ + elapsed; }

  /// Sleeps (or jumps, when virtual) until `elapsed` µs after the start.
  void sleep_until(int64_t elapsed) {
    if (virtual_) {
      virtual_elapsed_us_ = std::max(virtual_elapsed_us_, elapsed);
      return;
    }
    int64_t at = start_mono_us_ + elapsed;
    timespec ts{time_t(at / 1'000'000), long(at % 1'000'000) * 1000};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
  }

  /// Moves a virtual clock forward; a real clock ignores it.
  void advance(int64_t us) {
    if (virtual_)
      virtual_elapsed_us_ += us;
  }

private:
  bool virtual_;
  int64_t start_wall_us_;
  int64_t start_mono_us_;
  int64_t virtual_elapsed_us_ = 0;
};

/// A token bucket refilled at `rate` per second from the start of the run, at most
/// `depth` tokens deep so that a stall is not followed by an unbounded burst.
class token_bucket {
public:
  token_bucket(double rate, double depth) : rate_(rate), depth_(depth) {}

  /// Tokens available at `elapsed_us`, given that `taken` were used so far.
  uint64_t available(int64_t elapsed_us, uint64_t taken) {
    double avail = rate_ * double(elapsed_us) / 1e6 - forfeited_ - double(taken);
    if (avail > depth_) {
      forfeited_ += avail - depth_;
      avail = depth_;
    }
    return avail > 0 ? uint64_t(avail) : 0;
  }

  /// When (µs since the start) the bucket holds `taken + n` tokens in total.
  int64_t time_of(uint64_t taken, uint64_t n) const {
    return int64_t((double(taken + n) + forfeited_) / rate_ * 1e6) + 1;
  }

private:
  double rate_;
  double depth_;
  double forfeited_ = 0;
};

// -- sending ------------------------------------------------------------------------

/// One simulated exporting device: its socket, address and protocol state.
struct exporter {
  flow_encoder encoder;
  int fd = -1;
  udp_endpoint local;
  int64_t next_template_us = 0; ///< elapsed time of the next template refresh

  exporter(export_protocol protocol, uint32_t domain, size_t max_size)
      : encoder(protocol, domain, max_size) {}
  exporter(exporter&& other) noexcept
      : encoder(other.encoder), fd(std::exchange(other.fd, -1)), local(other.local),
        next_template_us(other.next_template_us) {}
  ~exporter() {
    if (fd >= 0)
      ::close(fd);
  }
};

sockaddr_storage to_sockaddr(const udp_endpoint& e, socklen_t& len) {
  sockaddr_storage ss{};
  if (e.address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    std::memcpy(&sin->sin_addr, e.address.bytes.data() + 12, 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(e.port);
    std::memcpy(&sin6->sin6_addr, e.address.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  return ss;
}

udp_endpoint from_sockaddr(const sockaddr_storage& ss) {
  udp_endpoint e;
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    e.address = ip_address::from_v4_bytes(reinterpret_cast<const uint8_t*>(&sin->sin_addr));
    e.port = ntohs(sin->sin_port);
  } else {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.address = ip_address::from_v6_bytes(reinterpret_cast<const uint8_t*>(&sin6->sin6_addr));
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

/// Opens exporter `index`'s socket connected to `target`; IPv4 loopback
/// exporters bind 127.0.0.(index + 1). Throws std::runtime_error on failure.
void open_socket(exporter& ex, uint32_t index, const udp_endpoint& target) {
  bool v4 = target.address.is_v4();
  ex.fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ex.fd < 0)
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int sndbuf = 4 << 20;
  ::setsockopt(ex.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  socklen_t len = 0;
  if (v4 && is_loopback(target.address)) {
    udp_endpoint local{ip_address::from_v4(0x7f000001 + index), 0};
    auto ss = to_sockaddr(local, len);
    if (::bind(ex.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
      throw std::runtime_error("bind " + local.address.to_string() + ": " + std::strerror(errno));
  }
  auto ss = to_sockaddr(target, len);
  if (::connect(ex.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  sockaddr_storage local_ss{};
  socklen_t local_len = sizeof(local_ss);
  ::getsockname(ex.fd, reinterpret_cast<sockaddr*>(&local_ss), &local_len);
  ex.local = from_sockaddr(local_ss);
}

/// Runs the generator: owns the exporters, the synthesizer and the buffers.
class generator {
public:
  explicit generator(const options& o)
      : o_(o), synth_(o.profile, o.seed), clock_(!o.target, o.start_time_us) {
    // Pcap-only runs still need a destination to write into the capture.
    dst_ = o.target.value_or(
        udp_endpoint{ip_address::from_v4(0x7f000001),
                     uint16_t(*o.protocol == export_protocol::ipfix      ? 4739
                              : *o.protocol == export_protocol::sflow_v5 ? 6343
                                                                         : 2055)});
    for (uint32_t i = 0; i < o.exporters; ++i) {
      exporters_.emplace_back(*o.protocol, o.source_id, o.max_datagram_size);
      auto& ex = exporters_.back();
      ex.encoder.set_sampling_rate(o.sampling_rate);
      ex.encoder.set_engine(0, uint8_t(i));
      ex.encoder.set_boot_time(clock_.wall_at(0) - int64_t{3600} * 1'000'000);
      if (o.target)
        open_socket(ex, i, *o.target);
      else
        ex.local = {ip_address::from_v4(0x7f000001 + i), uint16_t(40000 + i)};
      if (ex.local.address.is_v4())
        ex.encoder.set_agent(ex.local.address);
    }
    if (!o.pcap_path.empty())
      pcap_ = std::make_unique<pcap_writer>(o.pcap_path);
    per_datagram_ = exporters_.front().encoder.max_records_per_datagram(false);
    batch_records_ = per_datagram_ * o.batch;
    records_.resize(batch_records_);
    payload_.reserve(o.batch * o.max_datagram_size);
    lengths_.reserve(o.batch);
    msgs_.resize(o.batch);
    iovs_.resize(o.batch);
  }

  totals run();

private:
  void send_templates(exporter& ex, int64_t elapsed);
  void fill(uint64_t normal, uint64_t attack, int64_t now_us);
  void emit(exporter& ex, size_t count, int64_t now_us);
  void transmit(exporter& ex, int64_t now_us, bool data);

  const options& o_;
  flow_synthesizer synth_;
  run_clock clock_;
  udp_endpoint dst_;
  std::vector<exporter> exporters_;
  std::unique_ptr<pcap_writer> pcap_;
  size_t per_datagram_ = 0;
  size_t batch_records_ = 0;
  std::vector<flow_record> records_;
  std::vector<uint8_t> payload_; ///< the datagrams of one batch, back to back
  std::vector<size_t> lengths_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  totals totals_;
};

void generator::send_templates(exporter& ex, int64_t elapsed) {
  if (*o_.protocol != export_protocol::netflow_v5) {
    int64_t now = clock_.wall_at(elapsed);
    auto datagram = ex.encoder.template_datagram(now);
    payload_.assign(datagram.begin(), datagram.end());
    lengths_.assign(1, payload_.size());
    transmit(ex, now, false);
  }
  ex.next_template_us =
      o_.template_interval > 0 ? elapsed + int64_t(o_.template_interval * 1e6) : INT64_MAX;
}

void generator::fill(uint64_t normal, uint64_t attack, int64_t now_us) {
  // Spread the attack records evenly among the normal ones.
  uint64_t total = normal + attack;
  uint64_t acc = 0;
  for (uint64_t i = 0; i < total; ++i) {
    auto& r = records_[i];
    acc += attack;
    if (acc >= total) {
      acc -= total;
      synth_.next_attack(r, now_us);
      ++totals_.attack_records;
    } else {
      synth_.next_flow(r, now_us);
    }
    ++(r.ip_version == 6 ? totals_.ipv6_records : totals_.ipv4_records);
    switch (r.ip_protocol) {
    case 6:
      ++totals_.tcp_records;
      break;
    case 17:
      ++totals_.udp_records;
      break;
    case 1:
    case 58:
      ++totals_.icmp_records;
      break;
    default:
      ++totals_.other_records;
    }
    totals_.packets += r.packets;
    totals_.bytes += r.bytes;
  }
  totals_.records += total;
}

void generator::emit(exporter& ex, size_t count, int64_t now_us) {
  payload_.clear();
  lengths_.clear();
  std::span<const flow_record> rest(records_.data(), count);
  while (!rest.empty()) {
    size_t before = payload_.size();
    size_t used = ex.encoder.data_datagram(rest, now_us, payload_);
    lengths_.push_back(payload_.size() - before);
    rest = rest.subspan(used);
  }
  transmit(ex, now_us, true);
}

void generator::transmit(exporter& ex, int64_t now_us, bool data) {
  size_t n = lengths_.size();
  if (n > msgs_.size()) { // IPv6 records fill datagrams sooner than the IPv4 sizing assumed
    msgs_.resize(n);
    iovs_.resize(n);
  }
  totals_.datagrams += n;
  (data ? totals_.data_datagrams : totals_.template_datagrams) += n;
  size_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    iovs_[i] = {payload_.data() + offset, lengths_[i]};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    if (pcap_)
      pcap_->write(ex.local, dst_, {payload_.data() + offset, lengths_[i]}, now_us);
    offset += lengths_[i];
    totals_.payload_bytes += lengths_[i];
  }
  if (ex.fd < 0)
    return;
  size_t done = 0;
  while (done < n) {
    auto chunk = unsigned(std::min<size_t>(n - done, max_sendmmsg));
    int sent = ::sendmmsg(ex.fd, msgs_.data() + done, chunk, 0);
    if (sent > 0) {
      done += size_t(sent);
    } else if (errno != EINTR) {
      // The datagram at `done` failed (e.g. ECONNREFUSED when nobody listens): skip it.
      ++totals_.send_errors;
      totals_.last_send_errno = errno;
      ++done;
    }
  }
}

totals generator::run() {
  constexpr int64_t flush_delay_us = 1000; // longest a due record waits for company
  const bool flat = o_.rate <= 0;
  const int64_t end_us = o_.duration ? int64_t(*o_.duration * 1e6) : INT64_MAX;
  token_bucket normal_bucket(o_.rate, std::max(double(batch_records_), o_.rate * 0.1));
  token_bucket attack_bucket(o_.attack_rate,
                             std::max(double(batch_records_), o_.attack_rate * 0.1));
  uint64_t normal_sent = 0;
  uint64_t attack_sent = 0;
  size_t next_exporter = 0;
  for (auto& ex : exporters_)
    send_templates(ex, 0);
  while (stop_requested == 0) {
    int64_t t = clock_.elapsed_us();
    if (t >= end_us)
      break;
    uint64_t remaining = o_.records ? *o_.records - (normal_sent + attack_sent) : UINT64_MAX;
    if (remaining == 0)
      break;
    int64_t next_template = INT64_MAX;
    for (auto& ex : exporters_) {
      if (t >= ex.next_template_us)
        send_templates(ex, t);
      next_template = std::min(next_template, ex.next_template_us);
    }
    uint64_t normal_due = flat ? batch_records_ : normal_bucket.available(t, normal_sent);
    uint64_t attack_due = o_.attack_rate > 0 ? attack_bucket.available(t, attack_sent) : 0;
    attack_due = std::min(attack_due, remaining);
    normal_due = std::min(normal_due, remaining - attack_due);
    uint64_t due = normal_due + attack_due;
    // Paced runs send full datagrams, or a partial one once its oldest record has
    // waited flush_delay_us; flat-out runs and the final records go at once.
    bool partial = !flat && due < per_datagram_ && due != remaining;
    int64_t first_due = INT64_MAX; // when the oldest unsent token appeared
    if (!flat)
      first_due = normal_bucket.time_of(normal_sent, 1);
    if (o_.attack_rate > 0)
      first_due = std::min(first_due, attack_bucket.time_of(attack_sent, 1));
    if (due == 0 || (partial && t < first_due + flush_delay_us)) {
      int64_t wake = std::min(end_us, next_template);
      if (first_due != INT64_MAX)
        wake = std::min(wake, first_due + (due == 0 ? 0 : flush_delay_us));
      if (!flat) // when the normal records alone would fill the datagram
        wake = std::min(wake, normal_bucket.time_of(normal_sent, per_datagram_ - attack_due));
      clock_.sleep_until(std::max(wake, t + 1));
      continue;
    }
    if (due > batch_records_) {
      attack_due = attack_due * batch_records_ / due;
      normal_due = batch_records_ - attack_due;
      due = batch_records_;
    }
    int64_t now = clock_.wall_at(t);
    fill(normal_due, attack_due, now);
    normal_sent += normal_due;
    attack_sent += attack_due;
    auto& ex = exporters_[next_exporter];
    next_exporter = (next_exporter + 1) % exporters_.size();
    emit(ex, size_t(due), now);
    if (flat)
      clock_.advance(int64_t(lengths_.size()));
  }
  totals_.elapsed_s = double(clock_.elapsed_us()) / 1e6;
  if (pcap_)
    pcap_->close();
  return totals_;
}

// -- summary ------------------------------------------------------------------------

const char* protocol_name(export_protocol p) {
  switch (p) {
  case export_protocol::netflow_v5:
    return "v5";
  case export_protocol::netflow_v9:
    return "v9";
  case export_protocol::sflow_v5:
    return "sflow";
  default:
    return "ipfix";
  }
}

std::string endpoint_text(const udp_endpoint& e) {
  auto a = e.address.to_string();
  return (e.address.is_v4() ? a : "[" + a + "]") + ":" + std::to_string(e.port);
}

void print_summary(const options& o, const totals& s) {
  double elapsed = s.elapsed_s > 0 ? s.elapsed_s : 1e-9;
  std::string target = o.target ? endpoint_text(*o.target) : "";
  if (o.json) {
    std::printf(
        "{\"protocol\":\"%s\",\"target\":\"%s\",\"pcap\":\"%s\",\"exporters\":%u,"
        "\"datagrams\":%lu,\"data_datagrams\":%lu,\"template_datagrams\":%lu,\"records\":%lu,"
        "\"ipv4_records\":%lu,\"ipv6_records\":%lu,\"attack_records\":%lu,\"tcp_records\":%lu,"
        "\"udp_records\":%lu,\"icmp_records\":%lu,\"other_records\":%lu,\"packets\":%lu,"
        "\"bytes\":%lu,\"payload_bytes\":%lu,\"send_errors\":%lu,\"last_send_error\":\"%s\","
        "\"elapsed_s\":%.6f,"
        "\"records_per_s\":%.1f,\"datagrams_per_s\":%.1f}\n",
        protocol_name(*o.protocol), target.c_str(), o.pcap_path.c_str(), o.exporters, s.datagrams,
        s.data_datagrams, s.template_datagrams, s.records, s.ipv4_records, s.ipv6_records,
        s.attack_records, s.tcp_records, s.udp_records, s.icmp_records, s.other_records, s.packets,
        s.bytes, s.payload_bytes, s.send_errors,
        s.send_errors ? std::strerror(s.last_send_errno) : "", s.elapsed_s,
        double(s.records) / elapsed, double(s.datagrams) / elapsed);
    return;
  }
  std::printf("flowgen: %s to %s from %u exporter(s)%s%s\n", protocol_name(*o.protocol),
              o.target ? target.c_str() : "(no target)", o.exporters,
              o.pcap_path.empty() ? "" : ", pcap ", o.pcap_path.c_str());
  std::printf("  datagrams       %lu (%lu data, %lu template)\n", s.datagrams, s.data_datagrams,
              s.template_datagrams);
  std::printf("  records         %lu (IPv4 %lu, IPv6 %lu; attack %lu)\n", s.records, s.ipv4_records,
              s.ipv6_records, s.attack_records);
  std::printf("  by protocol     tcp %lu, udp %lu, icmp %lu, other %lu\n", s.tcp_records,
              s.udp_records, s.icmp_records, s.other_records);
  std::printf("  flow packets    %lu\n  flow bytes      %lu\n", s.packets, s.bytes);
  std::printf("  payload bytes   %lu\n  send errors     %lu%s%s%s\n", s.payload_bytes,
              s.send_errors, s.send_errors ? " (last: " : "",
              s.send_errors ? std::strerror(s.last_send_errno) : "", s.send_errors ? ")" : "");
  std::printf("  elapsed         %.3f s\n", s.elapsed_s);
  std::printf("  achieved rate   %.0f records/s, %.0f datagrams/s\n", double(s.records) / elapsed,
              double(s.datagrams) / elapsed);
}

} // namespace
} // namespace tidewatch

int main(int argc, char** argv) {
  using namespace tidewatch;
  options o;
  if (auto error = parse_options(argc, argv, o)) {
    std::fprintf(stderr, "flowgen: %s (see flowgen --help)\n", error->c_str());
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Sub-millisecond pacing needs the kernel not to coalesce our wake-ups.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  try {
    generator g(o);
    print_summary(o, g.run());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowgen: %s\n", e.what());
    return 1;
  }
  return 0;
}
