#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace outpost::test {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

std::string join_command(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& arg : argv) joined += (joined.empty() ? "" : " ") + arg;
  return joined;
}

// The test's environment with `additions` put over it, as "NAME=value" strings.
std::vector<std::string> build_environment(const Environment& additions) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [key, value] : additions) replaced = replaced || key == name;
    if (!replaced) entries.push_back(text);
  }
  for (const auto& [key, value] : additions) entries.push_back(key + "=" + value);
  return entries;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Both ends close-on-exec, so a child spawned by another thread never inherits them.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() { close_fd(read_end); }
  void close_write() { close_fd(write_end); }
  int release_read() { return std::exchange(read_end, -1); }
  // Linux closes the descriptor even when close() fails with EINTR: never retry.
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(std::exchange(fd, -1));
  }
};

// Where the child's stdout and stderr go: a pipe's write end, a file, or (-1 / empty) inherited.
struct ChildOutput {
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::string stderr_path;
};

pid_t spawn(const std::vector<std::string>& argv, const Environment& env, const ChildOutput& output) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);

  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (output.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, output.stdout_fd, STDOUT_FILENO);
  if (output.stderr_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, output.stderr_fd, STDERR_FILENO);
  else if (!output.stderr_path.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, output.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  // Descriptors the test opened without O_CLOEXEC (curl sockets, say) stay out of the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  // The child starts with no blocked signals and default dispositions, whatever this process
  // (or the thread calling) has set up.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = argv;
  std::vector<std::string> environment = build_environment(env);
  std::vector<char*> arg_pointers = c_strings(args);
  std::vector<char*> env_pointers = c_strings(environment);
  pid_t pid = -1;
  const int error = posix_spawnp(&pid, arg_pointers[0], &actions, &attributes, arg_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw_errno(error, "cannot start `" + join_command(argv) + "`");
  return pid;
}

int poll_for(pollfd* fds, nfds_t count, SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
  const int timeout_ms = static_cast<int>(std::max<milliseconds::rep>(0, left.count()));
  const int ready = ::poll(fds, count, timeout_ms);
  if (ready < 0 && errno != EINTR) throw_errno(errno, "poll");
  return std::max(ready, 0);
}

// Appends what the pipe has; returns false at end of file.
bool read_some(int fd, std::string& into) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;  // EIO and the like: treat as the end
  }
}

// Reaps `pid`, killing it with SIGKILL at the deadline. Returns the wait status and whether it
// had to be killed.
std::pair<int, bool> reap(pid_t pid, SteadyClock::time_point deadline) {
  int status = 0;
  // Its pipes are usually closed already, so the exit is at most a scheduling slice away.
  for (auto pause = std::chrono::microseconds(200);; pause = std::min(pause * 2, std::chrono::microseconds(20'000))) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return {status, false};
    if (done < 0 && errno != EINTR) throw_errno(errno, "waitpid");
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw_errno(errno, "waitpid");
  return {status, true};
}

void apply_status(ProcessResult& result, int status) {
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
}

}  // namespace

// --- Results

std::string ProcessResult::describe() const {
  std::string text = "`" + command + "` ";
  if (timed_out)
    text += "ran out of time and was killed with SIGKILL";
  else if (signal != 0)
    text += "was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  else
    text += "exited with " + std::to_string(exit_code);
  text += " after " + std::to_string(elapsed.count()) + " ms";
  if (!err.empty()) text += "\n--- stderr:\n" + err;
  if (!out.empty()) text += "\n--- stdout:\n" + (out.size() > 4000 ? out.substr(0, 4000) + "\n[...]" : out);
  return text;
}

// --- Running to completion

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options) {
  ProcessResult result;
  result.command = join_command(argv);
  const auto started = SteadyClock::now();
  const auto deadline = started + options.timeout;

  Pipe out, err;
  ChildOutput output;
  output.stdout_fd = out.write_end;
  output.stderr_fd = err.write_end;
  const pid_t pid = spawn(argv, options.env, output);
  // Only the child may hold the write ends, or the reads below would never see the end.
  out.close_write();
  err.close_write();

  pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && SteadyClock::now() < deadline) {
    if (poll_for(fds, 2, deadline) == 0) continue;
    for (int i = 0; i < 2; ++i)
      if (fds[i].fd >= 0 && fds[i].revents != 0 && !read_some(fds[i].fd, *sinks[i])) fds[i].fd = -1;
  }
  const auto [status, killed] = reap(pid, deadline);
  apply_status(result, status);
  result.timed_out = killed;
  result.elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started);
  return result;
}

// --- Running in the background

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv) : BackgroundProcess(argv, Options{}) {}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const Options& options)
    : command_(join_command(argv)), started_(SteadyClock::now()) {
  result_.command = command_;
  Pipe out;
  ChildOutput output;
  output.stdout_fd = out.write_end;
  output.stderr_path = options.stderr_path;
  pid_ = spawn(argv, options.env, output);
  out.close_write();
  stdout_fd_ = out.release_read();
}

BackgroundProcess::~BackgroundProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  Pipe::close_fd(stdout_fd_);
}

std::optional<std::string> BackgroundProcess::read_line(milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    const auto newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    if (stdout_ended_ || SteadyClock::now() >= deadline) return std::nullopt;
    pollfd fd{stdout_fd_, POLLIN, 0};
    if (poll_for(&fd, 1, deadline) > 0 && !read_some(stdout_fd_, buffered_)) stdout_ended_ = true;
  }
}

void BackgroundProcess::send_signal(int signal_number) {
  if (!reaped_ && ::kill(pid_, signal_number) != 0 && errno != ESRCH)
    throw_errno(errno, "kill " + std::to_string(pid_));
}

void BackgroundProcess::record_status(int status) {
  apply_status(result_, status);
  reaped_ = true;
  result_.elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - started_);
}

bool BackgroundProcess::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) record_status(status);
  return !reaped_;
}

ProcessResult BackgroundProcess::wait(milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (!stdout_ended_ && SteadyClock::now() < deadline) {
    pollfd fd{stdout_fd_, POLLIN, 0};
    if (poll_for(&fd, 1, deadline) > 0 && !read_some(stdout_fd_, buffered_)) stdout_ended_ = true;
  }
  if (!reaped_) {
    const auto [status, killed] = reap(pid_, deadline);
    record_status(status);
    result_.timed_out = killed;
  }
  result_.out += buffered_;
  buffered_.clear();
  return result_;
}

}  // namespace outpost::test
