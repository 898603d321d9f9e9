// Child processes for the integration tests: run a command to completion with its output
// captured, or keep one running in the background (a server) and read its stdout line by line.
// No shell is involved: argv goes to posix_spawnp as is. Every child is reaped, whatever happens.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outpost::test {

// Variables added to (or replacing) the test process's own environment.
using Environment = std::vector<std::pair<std::string, std::string>>;

struct ProcessResult {
  std::string command;  // argv joined with spaces, for messages
  int exit_code = -1;   // when the process exited; -1 otherwise
  int signal = 0;       // the signal that ended it, 0 when it exited
  bool timed_out = false;  // it overran its time and was killed with SIGKILL
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};

  bool succeeded() const { return !timed_out && signal == 0 && exit_code == 0; }
  // One paragraph for a failure message: the command, how it ended, its stderr and stdout.
  std::string describe() const;
};

struct RunOptions {
  Environment env;
  std::chrono::milliseconds timeout{30'000};
};

// Runs argv (argv[0] is looked up in PATH when it has no '/') with stdin from /dev/null.
// Throws std::system_error when the process cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options = {});

// A process left running: its stdout is a pipe the test reads, its stderr goes to a file (or
// is inherited). The destructor kills (SIGKILL) and reaps it if the test did not wait for it.
class BackgroundProcess {
 public:
  struct Options {
    Environment env;
    std::string stderr_path;  // empty: inherit the test's stderr
  };

  explicit BackgroundProcess(const std::vector<std::string>& argv);
  BackgroundProcess(const std::vector<std::string>& argv, const Options& options);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& command() const { return command_; }

  // The next stdout line without its newline; nullopt when stdout ends or time runs out first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Does nothing once the process was reaped (its pid may belong to somebody else by then).
  void send_signal(int signal_number);
  // False once the process has ended (and it is then reaped).
  bool running();
  // Waits for the end, collecting the rest of stdout; SIGKILL when `timeout` runs out first.
  // The result's `err` stays empty: stderr went elsewhere.
  ProcessResult wait(std::chrono::milliseconds timeout);

 private:
  void record_status(int status);

  std::string command_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;  // stdout read but not yet handed out
  bool stdout_ended_ = false;
  bool reaped_ = false;
  ProcessResult result_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace outpost::test
