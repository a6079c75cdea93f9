// replicator_bench: how many datagrams per second tidewatchd replicates
// without loss, on loopback, to 1, 2 and 4 receivers, with and without
// keeping the exporter's source address (raw sockets, needs root). For each
// setup and each tidewatchd binary given (e.g. the one before a change and
// the one after, side by side in one run) it raises the offered rate step by
// step until a receiver misses a datagram, and prints the highest loss-free
// rate, tidewatchd's CPU time per million datagrams in at that rate, and the
// loss at the first rate that lost datagrams. Rates are those achieved: the
// datagrams a step sent over the time it took to send them (the generator
// shares the machine with tidewatchd and may fall behind the rate it aims
// at; a step that fell more than 10 % behind ends the search, as the
// generator's limit, not tidewatchd's).
//
// The generator and the receivers run in this process and are made cheap so
// that they are not what is measured: the generator sends with UDP GSO (one
// sendmsg per 32 datagrams, which the kernel splits into datagrams for
// tidewatchd's socket), the receivers read with recvmmsg and, unless
// --plain-receivers, UDP_GRO (copies tidewatchd sent as one GSO send arrive
// as one buffer; the segment size says how many datagrams it holds).
//
// Usage: replicator_bench [--tidewatchd PATH]... [--size BYTES] [--seconds S]
//                         [--receivers 1,2,4] [--rates 100000,...] [--plain-receivers]

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace {

using clock_type = std::chrono::steady_clock;

int udp_socket_on(uint32_t host_order_address, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  // tidewatchd binds a socket of its own to the generator's address and port
  // to send copies that keep the source; both need SO_REUSEADDR for that.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int buf = 64 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(host_order_address);
  sa.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

/// A receiver: a socket and a thread counting the datagrams that arrive.
struct receiver {
  static constexpr size_t batch = 64;
  int fd;
  uint16_t port;
  bool gro;
  std::atomic<uint64_t> count{0};
  std::atomic<bool> stop{false};
  std::thread thread;

  explicit receiver(bool use_gro)
      : fd(udp_socket_on(0x7f000001, 0)), port(port_of(fd)), gro(use_gro) {
    int one = 1;
    if (gro && ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) != 0)
      gro = false;
    thread = std::thread([this] { run(); });
  }
  ~receiver() {
    stop = true;
    thread.join();
    ::close(fd);
  }

  void run() {
    std::vector<char> buffers(batch * 65536);
    std::vector<iovec> iovs(batch);
    std::vector<mmsghdr> msgs(batch);
    struct control_buffer {
      alignas(cmsghdr) char data[64];
    };
    std::vector<control_buffer> controls(batch);
    pollfd pfd{fd, POLLIN, 0};
    while (!stop.load()) {
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      for (size_t i = 0; i < batch; ++i) {
        iovs[i] = {buffers.data() + i * 65536, 65536};
        msgs[i].msg_hdr = {};
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = controls[i].data;
        msgs[i].msg_hdr.msg_controllen = sizeof(controls[i].data);
      }
      int n = ::recvmmsg(fd, msgs.data(), batch, MSG_DONTWAIT, nullptr);
      uint64_t datagrams = 0;
      for (int i = 0; i < n; ++i)
        datagrams += datagrams_in(msgs[i]);
      count.fetch_add(datagrams);
    }
  }

  /// 1, or with UDP_GRO the number of segments of a coalesced buffer.
  static uint64_t datagrams_in(mmsghdr& m) {
    for (auto* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr; c = CMSG_NXTHDR(&m.msg_hdr, c))
      if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
        int segment = 0;
        std::memcpy(&segment, CMSG_DATA(c), sizeof(segment));
        if (segment > 0)
          return (m.msg_len + unsigned(segment) - 1) / unsigned(segment);
      }
    return 1;
  }
};

/// utime + stime of a process in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string x;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    fields >> x;
    if (i == 14)
      utime = std::stoull(x);
    if (i == 15)
      stime = std::stoull(x);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

/// Sends `total` datagrams of `size` bytes at `rate` per second from the
/// socket `fd` (on 127.0.0.2) to 127.0.0.1:port, 32 datagrams per UDP GSO
/// send; the kernel delivers them to tidewatchd's socket as 32 datagrams.
/// With `--plain-sender` the 32 datagrams leave as 32 messages of one
/// sendmmsg instead, as routers send them: nothing arrives coalesced.
bool plain_sender = false;

/// Returns the seconds the sending took.
double send_at(int fd, uint16_t port, uint64_t total, uint64_t rate, size_t size) {
  constexpr uint64_t batch = 32;
  std::vector<char> payload(size * batch, 'x');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(0x7f000001);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  auto start = clock_type::now();
  for (uint64_t sent = 0; sent < total;) {
    auto due = start + std::chrono::nanoseconds(sent * 1'000'000'000ull / rate);
    std::this_thread::sleep_until(due);
    auto n = std::min(batch, total - sent);
    if (plain_sender) {
      std::array<iovec, batch> iovs{};
      std::array<mmsghdr, batch> msgs{};
      for (size_t k = 0; k < n; ++k) {
        iovs[k] = {payload.data() + k * size, size};
        msgs[k].msg_hdr.msg_name = &to;
        msgs[k].msg_hdr.msg_namelen = sizeof(to);
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      if (int m = ::sendmmsg(fd, msgs.data(), unsigned(n), 0); m > 0)
        sent += uint64_t(m);
      continue;
    }
    iovec iov{payload.data(), size_t(n) * size};
    msghdr h{};
    h.msg_name = &to;
    h.msg_namelen = sizeof(to);
    h.msg_iov = &iov;
    h.msg_iovlen = 1;
    if (n > 1) {
      h.msg_control = control;
      h.msg_controllen = sizeof(control);
      auto* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      auto segment = uint16_t(size);
      std::memcpy(CMSG_DATA(c), &segment, sizeof(segment));
    }
    if (::sendmsg(fd, &h, 0) > 0)
      sent += n;
  }
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct step {
  uint64_t rate = 0;   ///< aimed at
  double achieved = 0; ///< datagrams/s the generator sent
  uint64_t sent = 0;
  uint64_t received_min = 0; ///< by the receiver that got the fewest
  double cpu = 0;            ///< tidewatchd's CPU seconds during the step
};

struct result {
  step best;            ///< the highest loss-free step (rate 0: none)
  step first_lossy;     ///< the first step that lost datagrams (rate 0: none)
  step generator_limit; ///< a loss-free step the generator fell behind in (rate 0: none)
};

result run_setup(const std::string& tidewatchd, size_t receivers, bool spoof, size_t size,
                 double seconds, const std::vector<uint64_t>& rates, bool gro) {
  std::vector<std::unique_ptr<receiver>> rs;
  for (size_t i = 0; i < receivers; ++i)
    rs.push_back(std::make_unique<receiver>(gro));
  int probe = udp_socket_on(0x7f000001, 0);
  uint16_t listen_port = port_of(probe);
  ::close(probe);
  char dir_template[] = "/tmp/replicator-bench-XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  {
    std::ofstream cfg(dir + "/node.yaml");
    cfg << "node:\n  state_dir: " << dir << "\nlogging:\n  level: info\npipelines:\n  netflow:\n"
        << "    listeners:\n      - {address: 127.0.0.1, port: " << listen_port << "}\n"
        << "    replicators:\n";
    for (auto& r : rs)
      cfg << "      - {address: 127.0.0.1, port: " << r->port
          << ", keep_source: " << (spoof ? "true" : "false") << "}\n";
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    auto* log = std::getenv("REPLICATOR_BENCH_LOG");
    if (std::freopen(log != nullptr ? log : "/dev/null", "a", stderr) == nullptr)
      ::_exit(126);
    ::execl(tidewatchd.c_str(), tidewatchd.c_str(), "--config", (dir + "/node.yaml").c_str(),
            nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  int sender = udp_socket_on(0x7f000002, 0);
  result out;
  for (uint64_t rate : rates) {
    for (auto& r : rs)
      r->count = 0;
    step s;
    s.rate = rate;
    s.sent = uint64_t(double(rate) * seconds);
    auto cpu_before = cpu_seconds(pid);
    s.achieved = double(s.sent) / send_at(sender, listen_port, s.sent, rate, size);
    // Whatever is still in flight arrives within this pause.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    s.cpu = cpu_seconds(pid) - cpu_before;
    s.received_min = s.sent;
    for (auto& r : rs)
      s.received_min = std::min(s.received_min, r->count.load());
    if (std::getenv("REPLICATOR_BENCH_VERBOSE")) {
      std::fprintf(stderr, "%s: rate %llu (achieved %.0f) sent %llu received", tidewatchd.c_str(),
                   (unsigned long long)rate, s.achieved, (unsigned long long)s.sent);
      for (auto& r : rs)
        std::fprintf(stderr, " %llu", (unsigned long long)r->count.load());
      std::fprintf(stderr, "; tidewatchd CPU %.2f s\n", s.cpu);
    }
    if (s.received_min < s.sent) {
      out.first_lossy = s;
      break;
    }
    out.best = s;
    if (s.achieved < 0.9 * double(rate)) {
      out.generator_limit = s;
      break;
    }
  }
  ::close(sender);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return out;
}

std::vector<uint64_t> parse_list(const std::string& text) {
  std::vector<uint64_t> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    out.push_back(std::stoull(item));
  return out;
}

std::string loss_text(const result& r) {
  char text[128];
  if (r.first_lossy.rate != 0)
    std::snprintf(text, sizeof(text), "%.2f %% at %.0f/s",
                  100.0 * double(r.first_lossy.sent - r.first_lossy.received_min) /
                      double(r.first_lossy.sent),
                  r.first_lossy.achieved);
  else if (r.generator_limit.rate != 0)
    std::snprintf(text, sizeof(text), "none; the generator reached %.0f of %llu/s",
                  r.generator_limit.achieved, (unsigned long long)r.generator_limit.rate);
  else
    std::snprintf(text, sizeof(text), "none up to the highest rate");
  return text;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> binaries;
  size_t size = 1200;
  double seconds = 2;
  bool gro = true;
  std::vector<uint64_t> receiver_counts{1, 2, 4};
  std::vector<uint64_t> rates{25'000,  50'000,  100'000, 200'000,   300'000,   400'000,  500'000,
                              600'000, 700'000, 800'000, 1'000'000, 1'200'000, 1'500'000};
  for (int i = 1; i < argc; ++i) {
    std::string opt = argv[i];
    if (opt == "--plain-receivers") {
      gro = false;
      continue;
    }
    if (opt == "--plain-sender") {
      plain_sender = true;
      continue;
    }
    if (i + 1 >= argc)
      break;
    std::string value = argv[++i];
    if (opt == "--tidewatchd")
      binaries.push_back(value);
    else if (opt == "--size")
      size = std::stoul(value);
    else if (opt == "--seconds")
      seconds = std::stod(value);
    else if (opt == "--receivers")
      receiver_counts = parse_list(value);
    else if (opt == "--rates")
      rates = parse_list(value);
  }
  if (binaries.empty())
    binaries.push_back("build-release/tidewatchd");
  std::printf("datagrams of %zu bytes, %.1f s per step, loopback, %s sender, %s receivers; CPU "
              "is tidewatchd's (user + system)\n\n",
              size, seconds, plain_sender ? "plain" : "GSO", gro ? "UDP_GRO" : "plain");
  std::printf("| tidewatchd | receivers | source kept | loss-free datagrams/s in | copies/s out | "
              "CPU s per million in | loss above |\n|---|---|---|---|---|---|---|\n");
  for (auto receivers : receiver_counts)
    for (bool spoof : {false, true})
      for (auto& binary : binaries) {
        auto r = run_setup(binary, receivers, spoof, size, seconds, rates, gro);
        double cpu_per_million = r.best.sent == 0 ? 0.0 : r.best.cpu / (double(r.best.sent) / 1e6);
        std::printf("| %s | %llu | %s | %.0f | %.0f | %.2f | %s |\n", binary.c_str(),
                    (unsigned long long)receivers, spoof ? "yes" : "no", r.best.achieved,
                    r.best.achieved * double(receivers), cpu_per_million, loss_text(r).c_str());
        std::fflush(stdout);
      }
}
