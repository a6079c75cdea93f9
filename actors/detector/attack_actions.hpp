#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "messages/detector.hpp"

namespace tidewatch {

/// Child processes started without blocking the caller: each gets its input
/// on stdin through a socket (written as far as it takes it, never blocking,
/// and never raising SIGPIPE when the child exits early) and a deadline after
/// which it is killed. The owner calls poll() regularly to feed, reap and
/// kill. Used for notify scripts and the mail command.
class child_processes {
public:
  struct counters {
    uint64_t started = 0;
    uint64_t spawn_failed = 0;
    uint64_t exited_ok = 0;
    uint64_t exited_error = 0; ///< non-zero exit status or killed by a signal
    uint64_t timed_out = 0;    ///< killed at their deadline
  };

  child_processes() = default;
  child_processes(const child_processes&) = delete;
  child_processes& operator=(const child_processes&) = delete;
  /// Kills and reaps the children still running.
  ~child_processes();

  /// Starts argv[0] (searched in PATH) with `input` on stdin; false with a
  /// reason when it cannot start.
  bool start(const std::vector<std::string>& argv, std::string input, int64_t timeout_us,
             int64_t now_us, std::string& error);

  /// Feeds pending input, reaps children that ended, kills those past their
  /// deadline.
  void poll(int64_t now_us);

  size_t running() const { return children_.size(); }
  const counters& stats() const { return stats_; }

private:
  struct child {
    pid_t pid = -1;
    int input_fd = -1; ///< -1 once all input is written
    std::string input;
    size_t written = 0;
    int64_t deadline_us = 0;
  };
  void feed(child& c);

  std::vector<child> children_;
  counters stats_;
};

/// Splits a command line at spaces ("/usr/sbin/sendmail -t"); no quoting.
std::vector<std::string> split_command(const std::string& command);

/// FastNetMon's notify script arguments: SCRIPT IP DIRECTION PPS ACTION, with
/// DIRECTION incoming or outgoing and ACTION ban, unban or attack_details.
/// A hostgroup attack passes its prefix as IP.
std::vector<std::string> notify_arguments(const std::string& script, const attack_report& a,
                                          const char* action);

/// A mail for `action` (ban, unban) with headers, for `sendmail -t`.
std::string email_message(const std::string& from, const std::vector<std::string>& to,
                          const char* action, const attack_report& a);

/// One syslog line for `action`.
std::string syslog_line(const char* action, const attack_report& a);

/// Writes the attack's details to `<directory>/attack-<id>-<target>.txt`
/// (replacing an earlier version atomically); returns the path, or an empty
/// string with `error` set.
std::string write_attack_details(const std::string& directory, const attack_report& a,
                                 std::string& error);

} // namespace tidewatch
