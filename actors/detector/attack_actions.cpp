#include "actors/detector/attack_actions.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/detector/detector_report.hpp"

extern char** environ;

namespace tidewatch {

child_processes::~child_processes() {
  for (auto& c : children_) {
    if (c.input_fd >= 0)
      ::close(c.input_fd);
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
  }
}

bool child_processes::start(const std::vector<std::string>& argv, std::string input,
                            int64_t timeout_us, int64_t now_us, std::string& error) {
  if (argv.empty()) {
    error = "empty command";
    ++stats_.spawn_failed;
    return false;
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    ++stats_.spawn_failed;
    return false;
  }
  // The child reads fds[1] as stdin and never sees our end.
  ::shutdown(fds[1], SHUT_WR);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDIN_FILENO);
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    error = argv[0] + ": " + std::strerror(rc);
    ++stats_.spawn_failed;
    return false;
  }
  ++stats_.started;
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  children_.push_back({pid, fds[0], std::move(input), 0, now_us + timeout_us});
  feed(children_.back());
  return true;
}

void child_processes::feed(child& c) {
  while (c.input_fd >= 0 && c.written < c.input.size()) {
    auto n = ::send(c.input_fd, c.input.data() + c.written, c.input.size() - c.written,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.written += size_t(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    break; // the child closed its stdin: the rest is not wanted
  }
  if (c.input_fd >= 0) {
    ::close(c.input_fd);
    c.input_fd = -1;
  }
}

void child_processes::poll(int64_t now_us) {
  for (size_t i = 0; i < children_.size();) {
    auto& c = children_[i];
    feed(c);
    int status = 0;
    pid_t done = ::waitpid(c.pid, &status, WNOHANG);
    if (done == 0 && now_us >= c.deadline_us) {
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      ++stats_.timed_out;
    } else if (done == c.pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        ++stats_.exited_ok;
      else
        ++stats_.exited_error;
    } else if (done == 0) {
      ++i;
      continue;
    }
    if (c.input_fd >= 0)
      ::close(c.input_fd);
    children_.erase(children_.begin() + std::ptrdiff_t(i));
  }
}

std::vector<std::string> split_command(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(command);
  for (std::string word; in >> word;)
    out.push_back(word);
  return out;
}

std::vector<std::string> notify_arguments(const std::string& script, const attack_report& a,
                                          const char* action) {
  return {script, a.group_attack ? a.target : a.address.to_string(),
          a.incoming ? "incoming" : "outgoing", std::to_string(a.peak_pps), action};
}

std::string email_message(const std::string& from, const std::vector<std::string>& to,
                          const char* action, const attack_report& a) {
  std::string recipients;
  for (auto& t : to)
    recipients += (recipients.empty() ? "" : ", ") + t;
  std::string subject = std::string("tidewatch: ") + action + " " + a.target + " " +
                        (a.incoming ? "incoming " : "outgoing ") + a.type;
  return "From: " + from + "\nTo: " + recipients + "\nSubject: " + subject +
         "\nContent-Type: text/plain; charset=utf-8\n\n" + render_attack_details(a);
}

std::string syslog_line(const char* action, const attack_report& a) {
  return std::string(action) + " " + a.target + " " + (a.incoming ? "incoming" : "outgoing") +
         " attack " + std::to_string(a.id) + " " + a.type +
         (a.service.empty() ? "" : "/" + a.service) + " share " +
         std::to_string(a.share_permille / 10) + "% peak " + std::to_string(a.peak_pps) + " pps " +
         std::to_string(a.peak_bps) + " bps (" + a.threshold + ")";
}

std::string write_attack_details(const std::string& directory, const attack_report& a,
                                 std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    error = directory + ": " + ec.message();
    return {};
  }
  std::string name = a.target;
  for (auto& c : name)
    if (c == '/' || c == ':')
      c = '_';
  auto path = fs::path(directory) / ("attack-" + std::to_string(a.id) + "-" + name + ".txt");
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << render_attack_details(a);
    if (!out.flush()) {
      error = tmp.string() + ": cannot write";
      return {};
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    error = path.string() + ": " + ec.message();
    return {};
  }
  return path.string();
}

} // namespace tidewatch
