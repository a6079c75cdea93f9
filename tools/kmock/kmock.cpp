// kmock: librdkafka's mock Kafka cluster (one broker, in memory) as a process
// of its own, the broker the Kafka tests and benchmarks talk to.
//
//   kmock [-t topic[:partitions]]... [-f bootstrap_file] [-p port]
//
// Prints BOOTSTRAP=127.0.0.1:PORT and, with -f, writes the address to the file
// (atomically, so a reader never sees half of it). Runs until SIGINT/SIGTERM.
// With -p the broker listens on that port instead of one the kernel picks, so
// that a broker stopped mid-test can come back at the address its clients know.

#include <dlfcn.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

volatile sig_atomic_t running = 1;
uint16_t wanted_port = 0;

void stop(int) {
  running = 0;
}

} // namespace

// The mock broker binds its listener to 127.0.0.1 port 0; librdkafka has no
// setting for the port. This bind() stands in for libc's (the executable's
// definition wins over the shared library's) and gives the first TCP socket
// bound to port 0 the port asked for, reusable at once after a restart.
extern "C" int bind(int fd, const sockaddr* addr, socklen_t len) {
  using bind_fn = int (*)(int, const sockaddr*, socklen_t);
  static auto real_bind = reinterpret_cast<bind_fn>(dlsym(RTLD_NEXT, "bind"));
  int type = 0;
  socklen_t type_len = sizeof(type);
  if (wanted_port != 0 && addr->sa_family == AF_INET && len >= sizeof(sockaddr_in) &&
      reinterpret_cast<const sockaddr_in*>(addr)->sin_port == 0 &&
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM) {
    sockaddr_in sin = *reinterpret_cast<const sockaddr_in*>(addr);
    sin.sin_port = htons(wanted_port);
    wanted_port = 0;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    return real_bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
  }
  return real_bind(fd, addr, len);
}

int main(int argc, char** argv) {
  std::vector<std::string> topics;
  const char* file = nullptr;
  for (int o; (o = getopt(argc, argv, "t:f:p:")) != -1;) {
    if (o == 't')
      topics.emplace_back(optarg);
    else if (o == 'f')
      file = optarg;
    else if (o == 'p')
      wanted_port = uint16_t(std::atoi(optarg));
    else
      return 2;
  }
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  char error[512];
  auto* conf = rd_kafka_conf_new();
  // Without bootstrap.servers librdkafka warns at level 5; the mock needs none.
  rd_kafka_conf_set(conf, "log_level", "4", error, sizeof(error));
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  auto* cluster = rk ? rd_kafka_mock_cluster_new(rk, 1) : nullptr;
  if (!cluster) {
    std::fprintf(stderr, "kmock: cannot start the mock cluster: %s\n", rk ? "" : error);
    return 1;
  }
  for (auto& t : topics) {
    auto colon = t.rfind(':');
    int partitions = colon == std::string::npos ? 1 : std::atoi(t.c_str() + colon + 1);
    rd_kafka_mock_topic_create(cluster, t.substr(0, colon).c_str(), partitions, 1);
  }
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
  if (file) {
    auto tmp = std::string(file) + ".tmp";
    auto* f = std::fopen(tmp.c_str(), "w");
    if (!f)
      return 1;
    std::fprintf(f, "%s\n", bootstraps.c_str());
    std::fclose(f);
    std::rename(tmp.c_str(), file);
  }
  std::printf("BOOTSTRAP=%s\n", bootstraps.c_str());
  std::fflush(stdout);
  while (running)
    usleep(20'000);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
