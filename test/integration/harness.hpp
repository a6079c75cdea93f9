#pragma once

// Helpers for integration tests that run real binaries: start a process with
// its output in files, wait for a line to appear, signal it, collect its exit
// status; pick free loopback ports; make a scratch directory. Every process a
// test starts is stopped by the test (RAII), never left behind.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace tidewatch::test {

inline std::string env_or(const char* name, const std::string& fallback) {
  auto* v = std::getenv(name);
  return v ? v : fallback;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// A fresh directory under /tmp, removed at scope exit unless the test failed
/// and TIDEWATCH_KEEP_TMP is set.
struct scratch_dir {
  std::filesystem::path path;
  explicit scratch_dir(const std::string& tag) {
    std::string tmpl = "/tmp/tidewatch-" + tag + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
      throw std::runtime_error("mkdtemp failed");
    path = buf.data();
  }
  ~scratch_dir() {
    if (!std::getenv("TIDEWATCH_KEEP_TMP")) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

/// A free port on 127.0.0.1 for `type` (SOCK_DGRAM or SOCK_STREAM), as the
/// kernel hands it out; another process could take it before we bind, which
/// the loopback-only, short-lived tests accept.
inline uint16_t free_port(int type = SOCK_DGRAM) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

/// A child process with stdout and stderr in files.
class process {
public:
  process(std::vector<std::string> argv, const std::filesystem::path& out_dir,
          const std::string& tag)
      : argv_(std::move(argv)), stdout_(out_dir / (tag + ".out")),
        stderr_(out_dir / (tag + ".err")) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open(stdout_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(stderr_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      std::vector<char*> args;
      for (auto& a : argv_)
        args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  process(const process&) = delete;
  ~process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(5));
    }
  }

  pid_t pid() const { return pid_; }
  std::string out() const { return read_file(stdout_); }
  std::string err() const { return read_file(stderr_); }

  bool running() {
    if (status_)
      return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      return false;
    }
    return true;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  /// The exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline)
        return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
  }

  /// Waits until stderr (or stdout) contains `text`; false on timeout or exit.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout,
                bool in_stdout = false) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if ((in_stdout ? out() : err()).find(text) != std::string::npos)
        return true;
      if (!running() || std::chrono::steady_clock::now() > deadline)
        return (in_stdout ? out() : err()).find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

private:
  std::vector<std::string> argv_;
  std::filesystem::path stdout_;
  std::filesystem::path stderr_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Runs a command to completion; returns its exit code, output in `out`.
inline int run(const std::string& command, std::string* out = nullptr) {
  // Redirections inside `command` apply to it; what it leaves on stderr is captured.
  std::string cmd = "{ " + command + " ; } 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  char buf[4096];
  std::string text;
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    text.append(buf, n);
  int st = ::pclose(p);
  if (out)
    *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// The value of `key` in a JSON line of ours (`"key": value`) as text,
/// strings without their quotes; "<missing>" when the line has no such key.
inline std::string field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\": ");
  if (at == std::string::npos)
    return "<missing>";
  at += key.size() + 4;
  if (line[at] == '"') {
    auto end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  auto end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

/// Whether an exporter run over a capture (`rc` and output of run()) went to
/// its end. pmacctd 1.7.7 exits 1 instead of 0 when, at the end of a capture,
/// its plugin stops before the core does ("connection lost to ...; no more
/// plugins active"): a race that a busy machine makes likely, with every
/// record exported. Any other failure counts.
inline bool exporter_finished(int rc, const std::string& out) {
  return rc == 0 ||
         (rc == 1 && out.find("no more plugins active. Shutting down.") != std::string::npos &&
          out.find("ERROR") == std::string::npos);
}

/// A node config for tests: one listener on 127.0.0.1:`port`, state and a
/// JSON-lines file sink (`flows.json`) in `dir`, inspector and metrics on
/// loopback ports the kernel picks (logged at start). `extra` is inserted right
/// after `logging:`'s level line, so indented lines extend `logging` and
/// unindented ones add top-level sections.
inline std::string node_config(const std::filesystem::path& dir, uint16_t port,
                               const std::string& extra = "") {
  return "node:\n  name: test\n  state_dir: " + dir.string() +
         "\n  shutdown_timeout: 5s\n  inspector: {listen: \"127.0.0.1:0\"}\n"
         "  metrics: {listen: \"127.0.0.1:0\"}\nlogging:\n  level: info\n" +
         extra + "pipelines:\n  netflow:\n    listeners:\n      - {address: 127.0.0.1, port: " +
         std::to_string(port) +
         "}\n    sinks:\n      - type: file\n        path: " + (dir / "flows.json").string() + "\n";
}

/// The programs and scripts integration tests run.
inline const std::string tidewatchd = env_or("TIDEWATCHD", "tidewatchd");
inline const std::string tidewatch_cli = env_or("TIDEWATCH_CLI", "tidewatch");
inline const std::string flowgen = env_or("FLOWGEN", "flowgen");
inline const std::string scripts =
    env_or("TIDEWATCH_SOURCE_DIR", ".") + "/test/integration/scripts";
inline const std::string python = "/usr/bin/python3";

/// Runs tidewatchd on node_config (its sink writes flows.json in dir) plus
/// `more_sinks` (YAML list items under the same `sinks:`), sends it the
/// IPFIX records of flowgen `flowgen_args`, and stops it cleanly: the
/// sinks' files are complete when this returns.
inline void run_node_with_flowgen(const scratch_dir& dir, const std::string& more_sinks,
                                  const std::string& flowgen_args) {
  using namespace std::chrono_literals;
  uint16_t port = free_port();
  write_file(dir / "node.yaml", node_config(dir.path, port) + more_sinks);
  process d({tidewatchd, "--config", (dir / "node.yaml").string()}, dir.path, "tidewatchd");
  BOOST_REQUIRE(d.wait_for("listening on udp", 10s));
  BOOST_REQUIRE_EQUAL(run(flowgen + " --protocol ipfix --target 127.0.0.1:" + std::to_string(port) +
                          " " + flowgen_args),
                      0);
  std::this_thread::sleep_for(300ms); // the last datagrams reach the sinks
  d.signal(SIGTERM);
  BOOST_REQUIRE_EQUAL(d.wait_exit(15s).value_or(-1), 0);
}

/// The non-empty lines of `text`.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> xs;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      xs.push_back(line);
  return xs;
}

/// A config for nfacctd or sfacctd (`daemon`) listening on 127.0.0.1:`port`
/// whose print plugin writes JSON into `out_dir` every second, aggregating by
/// every primitive tidewatch's records carry (so that records stay apart).
inline std::string pmacct_print_config(const std::string& daemon, uint16_t port,
                                       const std::filesystem::path& out_dir) {
  return "daemonize: false\n" + daemon + "_ip: 127.0.0.1\n" + daemon +
         "_port: " + std::to_string(port) +
         "\nplugins: print\nprint_output: json\n"
         "print_output_file: " +
         out_dir.string() +
         "/out-%s.json\nprint_output_file_append: true\nprint_refresh_time: 1\n"
         "aggregate: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, "
         "src_as, dst_as, peer_src_ip, peer_dst_ip, in_iface, out_iface, src_mask, "
         "dst_mask, src_mac, dst_mac, vlan, sampling_rate, export_proto_version, "
         "timestamp_start, timestamp_end, timestamp_arrival, src_net, dst_net, flows\n";
}

/// How often `what` occurs in text.
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/// Counts lines in a file.
inline size_t count_lines(const std::filesystem::path& p) {
  auto text = read_file(p);
  size_t n = 0;
  for (char c : text)
    n += c == '\n';
  return n;
}

/// The port in a start-up line such as "inspector listening on 127.0.0.1:41234 (".
inline uint16_t logged_port(const std::string& log, const std::string& prefix) {
  auto at = log.find(prefix);
  if (at == std::string::npos)
    return 0;
  return uint16_t(std::strtoul(log.c_str() + at + prefix.size(), nullptr, 10));
}

/// `tidewatch ARGS --node` the inspector a tidewatchd logged at start; exit
/// code, output (stdout and stderr) in `out`.
inline int inspect(const process& daemon, const std::string& args, std::string& out) {
  auto port = logged_port(daemon.err(), "inspector listening on 127.0.0.1:");
  return run(tidewatch_cli + " " + args + " --node 127.0.0.1:" + std::to_string(port), &out);
}

} // namespace tidewatch::test
