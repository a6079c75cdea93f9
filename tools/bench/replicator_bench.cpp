// replicator_bench: how many datagrams per second tidewatchd replicates
// without loss, on loopback, to 2 and 4 receivers, with and without keeping
// the exporter's source address (raw sockets, needs root). For each setup it
// raises the offered rate step by step until a receiver misses a datagram and
// prints the highest loss-free rate and tidewatchd's CPU time per million
// datagrams in at that rate.
//
// Usage: replicator_bench [--tidewatchd PATH] [--size BYTES] [--seconds S]

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

int udp_socket_on(uint32_t host_order_address, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 64 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
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

/// A receiver: a socket and a thread counting what arrives.
struct receiver {
  int fd = udp_socket_on(0x7f000001, 0);
  uint16_t port = port_of(fd);
  std::atomic<uint64_t> count{0};
  std::atomic<bool> stop{false};
  std::thread thread{[this] {
    std::vector<std::vector<char>> bufs(64, std::vector<char>(65536));
    std::vector<iovec> iovs(64);
    std::vector<mmsghdr> msgs(64);
    for (size_t i = 0; i < 64; ++i) {
      iovs[i] = {bufs[i].data(), bufs[i].size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    pollfd pfd{fd, POLLIN, 0};
    while (!stop.load()) {
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      int n = ::recvmmsg(fd, msgs.data(), 64, MSG_DONTWAIT, nullptr);
      if (n > 0)
        count.fetch_add(uint64_t(n));
    }
  }};
  ~receiver() {
    stop = true;
    thread.join();
    ::close(fd);
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

/// Sends `total` datagrams of `size` bytes at `rate` per second from
/// 127.0.0.2 to 127.0.0.1:port, in sendmmsg batches of 32.
void send_at(int fd, uint16_t port, uint64_t total, uint64_t rate, size_t size) {
  std::vector<char> payload(size, 'x');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(0x7f000001);
  constexpr unsigned batch = 32;
  std::vector<iovec> iovs(batch);
  std::vector<mmsghdr> msgs(batch);
  for (unsigned i = 0; i < batch; ++i) {
    iovs[i] = {payload.data(), size};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof(to);
  }
  auto start = clock_type::now();
  for (uint64_t sent = 0; sent < total;) {
    auto due = start + std::chrono::nanoseconds(sent * 1'000'000'000ull / rate);
    std::this_thread::sleep_until(due);
    auto n = unsigned(std::min<uint64_t>(batch, total - sent));
    int done = ::sendmmsg(fd, msgs.data(), n, 0);
    if (done > 0)
      sent += uint64_t(done);
  }
}

struct result {
  uint64_t rate = 0; ///< highest loss-free datagrams/s in
  double cpu_per_million = 0;
};

result run_setup(const std::string& tidewatchd, size_t receivers, bool spoof, size_t size,
                 double seconds) {
  std::vector<std::unique_ptr<receiver>> rs;
  for (size_t i = 0; i < receivers; ++i)
    rs.push_back(std::make_unique<receiver>());
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
    if (auto* log = std::getenv("REPLICATOR_BENCH_LOG"))
      std::freopen(log, "a", stderr);
    ::execl(tidewatchd.c_str(), tidewatchd.c_str(), "--config", (dir + "/node.yaml").c_str(),
            nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int sender = udp_socket_on(0x7f000002, 0);
  result best;
  for (uint64_t rate : {25'000, 50'000, 100'000, 200'000, 300'000, 400'000, 500'000, 600'000,
                        700'000, 800'000, 1'000'000, 1'200'000}) {
    for (auto& r : rs)
      r->count = 0;
    auto total = uint64_t(double(rate) * seconds);
    auto cpu_before = cpu_seconds(pid);
    send_at(sender, listen_port, total, rate, size);
    // Whatever is still in flight arrives within this pause.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto cpu = cpu_seconds(pid) - cpu_before;
    bool lossless = true;
    for (auto& r : rs)
      lossless = lossless && r->count.load() == total;
    if (std::getenv("REPLICATOR_BENCH_VERBOSE")) {
      std::fprintf(stderr, "rate %llu sent %llu received", (unsigned long long)rate,
                   (unsigned long long)total);
      for (auto& r : rs)
        std::fprintf(stderr, " %llu", (unsigned long long)r->count.load());
      std::fprintf(stderr, "; tidewatchd CPU %.2f s\n", cpu);
    }
    if (!lossless)
      break;
    best = {rate, cpu / (double(total) / 1e6)};
  }
  ::close(sender);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  std::system(("rm -rf " + dir).c_str());
  return best;
}

} // namespace

int main(int argc, char** argv) {
  std::string tidewatchd = "build-release/tidewatchd";
  size_t size = 1200;
  double seconds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string opt = argv[i];
    if (opt == "--tidewatchd")
      tidewatchd = argv[i + 1];
    else if (opt == "--size")
      size = std::stoul(argv[i + 1]);
    else if (opt == "--seconds")
      seconds = std::stod(argv[i + 1]);
  }
  std::printf("datagrams of %zu bytes, %.1f s per step, loopback; CPU is tidewatchd's\n\n", size,
              seconds);
  std::printf("| receivers | source kept | loss-free datagrams/s in | copies/s out | CPU s per "
              "million in |\n|---|---|---|---|---|\n");
  for (size_t receivers : {2, 4})
    for (bool spoof : {false, true}) {
      auto r = run_setup(tidewatchd, receivers, spoof, size, seconds);
      std::printf("| %zu | %s | %llu | %llu | %.2f |\n", receivers, spoof ? "yes" : "no",
                  (unsigned long long)r.rate, (unsigned long long)(r.rate * receivers),
                  r.cpu_per_million);
      std::fflush(stdout);
    }
}
