// bench/client: the field client's window over a replica of N submissions and N materials:
// time from fork/exec to the first frame, peak RSS, CPU time per frame while the longest list
// scrolls (the whole process's, the window's own frame building, and per thread), checking the
// list did scroll, and CPU used by an idle window. Run by bench/client/run.sh under xvfb-run, which
// writes the results into docs/benchmarks.md.
//
//   outpost_bench_client [--records N]... [--renderer auto|opengl|software]... [--outpost PATH]
//                        [--scroll-frames F] [--idle-seconds S] [--size WxH]
//
// stdout: one JSON line per record count and renderer. Everything else goes to stderr.

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "client/home.h"
#include "form_records/form_records.h"
#include "sync/material_record.h"
#include "platform/cli_args.h"

namespace {

using outpost::sync::Json;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr auto kStartTimeout = std::chrono::seconds(120);  // a 100,000-record list loads in seconds
constexpr auto kSettleBeforeIdle = std::chrono::seconds(3);
constexpr int kStartSamples = 7;

void say(const std::string& line) { std::cerr << "[bench/client] " << line << std::endl; }

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::string record_id(char prefix, size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "%c%07zu", prefix, i);
  return id;
}

// --- Options

struct Options {
  std::vector<size_t> records;
  std::vector<std::string> renderers;
  std::string outpost = OUTPOST_BIN;
  int scroll_frames = 300;
  int idle_seconds = 10;
  std::string size = "1280x800";
};

Options parse_options(int argc, char** argv) {
  Options options;
  auto positive = [](const std::string& option, const std::string& text) {
    size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used != text.size() || value <= 0) throw std::invalid_argument(option + " wants a positive number, not " + text);
    return value;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value (see the head of bench/client/bench_client.cpp)");
    const std::string value = argv[++i];
    if (arg == "--records")
      options.records.push_back(static_cast<size_t>(positive(arg, value)));
    else if (arg == "--renderer" && (value == "auto" || value == "opengl" || value == "software"))
      options.renderers.push_back(value);
    else if (arg == "--outpost")
      options.outpost = value;
    else if (arg == "--scroll-frames")
      options.scroll_frames = static_cast<int>(positive(arg, value));
    else if (arg == "--idle-seconds")
      options.idle_seconds = static_cast<int>(positive(arg, value));
    else if (arg == "--size")
      options.size = value;
    else
      throw std::invalid_argument("unknown option " + arg + " " + value +
                                  " (see the head of bench/client/bench_client.cpp)");
  }
  if (options.records.empty()) options.records = {1000, 100000};
  // "auto": no flag, the renderer the window picks by itself (the targets are judged on it).
  if (options.renderers.empty()) options.renderers = {"auto", "opengl", "software"};
  return options;
}

// --- The replica

// N submissions of a household survey (one in ten a draft, the newest one included) and N
// materials of the catalog, written as a form and the registry write them (form_records,
// MaterialInfo), one Replica::put each. The bench's own connection skips the fsync of every commit
// (synchronous=OFF), which is what makes 200,000 puts take seconds; the file the window opens
// is an ordinary replica.
double write_replica(const std::string& home_directory, size_t n) {
  outpost::client::Home home(home_directory);
  outpost::sync::Replica& replica = home.replica();
  replica.database().exec("PRAGMA synchronous=OFF");
  const char* const villages[] = {"Kalobeyei", "Nadapal", "Lokichoggio", "Kakuma", "Natukobenyo", "Lopiding"};
  const char* const languages[] = {"en", "fr", "es", "sw"};
  const char* const themes[] = {"water", "health", "shelter", "food", "protection"};
  const int64_t created = 1'790'000'000'000;
  const auto start = SteadyClock::now();
  for (size_t i = 0; i < n; ++i) {
    outpost::form_records::SubmissionFields submission;
    submission.form_id = "household_survey";
    submission.form_version = "1";
    submission.state = i % 10 == 9 ? outpost::form_records::kDraft : outpost::form_records::kFinalized;
    submission.answers = Json{{"household", "Household " + std::to_string(i + 1)},
                              {"village", villages[i % 6]},
                              {"members", 1 + static_cast<int>(i % 9)},
                              {"needs", "water shelter"}};
    submission.created_ms = created + static_cast<int64_t>(i) * 60'000;
    submission.updated_ms = submission.created_ms;
    submission.device = "bench";
    replica.put("submissions", record_id('s', i), outpost::form_records::submission_fields(submission));

    outpost::sync::MaterialInfo material;
    material.title = "Field guide " + std::to_string(i + 1);
    material.summary = "How to run a distribution in " + std::string(villages[i % 6]);
    material.lang = languages[i % 4];
    material.tags = {themes[i % 5]};
    material.file_name = "guide-" + std::to_string(i + 1) + ".md";
    material.media_type = "text/markdown";
    material.size = 2048 + i % 4096;
    material.sha256 = std::string(64, "0123456789abcdef"[i % 16]);
    material.chunk_size = outpost::sync::kBlobChunkSize;
    material.created_ms = created;
    replica.put("materials", record_id('m', i), material.to_fields());
  }
  return seconds_since(start);
}

// --- The window's process

// utime + stime of a live process (or of its thread `tid`), in seconds (/proc/.../stat, fields
// 14 and 15).
double cpu_seconds(pid_t pid, pid_t tid = 0) {
  const std::string path =
      "/proc/" + std::to_string(pid) + (tid ? "/task/" + std::to_string(tid) : std::string()) + "/stat";
  std::ifstream stat(path);
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto name_end = text.rfind(')');  // the command name may hold blanks
  if (name_end == std::string::npos) throw std::runtime_error("cannot read " + path);
  std::istringstream fields(text.substr(name_end + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  long long utime = 0;
  long long stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of a live process's threads, summed by role: "main" (the window's thread: the
// screens, Dear ImGui, and the driver's work on its calls), "worker" (outpost-worker: the
// replica), "rasteriser" (Mesa's llvmpipe threads) and "other".
std::map<std::string, double> cpu_seconds_by_thread(pid_t pid) {
  std::map<std::string, double> seconds{{"main", 0}, {"worker", 0}, {"rasteriser", 0}, {"other", 0}};
  const fs::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : fs::directory_iterator(tasks)) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    const pid_t tid = std::stoi(task.path().filename().string());
    const std::string role = tid == pid                           ? "main"
                             : comm == "outpost-worker"           ? "worker"
                             : comm.rfind("llvmpipe", 0) == 0     ? "rasteriser"
                                                                  : "other";
    try {
      seconds[role] += cpu_seconds(pid, tid);
    } catch (const std::runtime_error&) {
      // the thread ended between the listing and the read
    }
  }
  return seconds;
}

// A line of /proc/PID/status in bytes, e.g. VmHWM (peak RSS).
int64_t status_bytes(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  throw std::runtime_error("no " + key + " in /proc/" + std::to_string(pid) + "/status");
}

class Window {
 public:
  Window(const Options& options, const std::string& home, const std::string& renderer,
         const std::optional<std::string>& script) {
    std::vector<std::string> args = {options.outpost, "--home", home, "--size", options.size, "--report-frames"};
    if (renderer != "auto") args.push_back(renderer == "software" ? "--software-renderer" : "--opengl");
    if (script) args.insert(args.end(), {"--script", *script});
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    started_ = SteadyClock::now();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      close(pipe_fds[0]);
      close(pipe_fds[1]);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      std::perror(argv[0]);
      _exit(127);
    }
    close(pipe_fds[1]);
    out_ = pipe_fds[0];
  }
  ~Window() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  pid_t pid() const { return pid_; }

  // The next line the window says on stdout, with the seconds since fork/exec when it came.
  std::pair<std::string, double> next_line() {
    while (true) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return {line, seconds_since(started_)};
      }
      const auto left = kStartTimeout - (SteadyClock::now() - started_);
      pollfd poll_fd{out_, POLLIN, 0};
      const int ready = poll(&poll_fd, 1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
      if (ready == 0) throw std::runtime_error("the window said nothing more within " +
                                               std::to_string(kStartTimeout.count()) + " s");
      char chunk[4096];
      const ssize_t got = read(out_, chunk, sizeof chunk);
      if (got <= 0) throw std::runtime_error("the window ended (exit " + std::to_string(wait()) + ") before saying what was awaited");
      buffer_.append(chunk, static_cast<size_t>(got));
    }
  }

  // Waits for a line starting with `prefix`; returns it and when it came.
  std::pair<std::string, double> expect(const std::string& prefix) {
    while (true) {
      auto line = next_line();
      if (line.first.rfind(prefix, 0) == 0) return line;
    }
  }

  // Waits for the process to end; its exit code, and its peak RSS from the kernel's rusage.
  int wait() {
    int status = 0;
    rusage usage{};
    if (wait4(pid_, &status, 0, &usage) != pid_) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
    exited_ = true;
    peak_rss_bytes_ = static_cast<int64_t>(usage.ru_maxrss) * 1024;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int64_t peak_rss_bytes() const { return peak_rss_bytes_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  int64_t peak_rss_bytes_ = 0;
  std::string buffer_;
  SteadyClock::time_point started_;
};

// "mark NAME frame N ui-cpu-ms X first-row R" (client/window.cpp).
struct Mark {
  int frame = 0;
  double ui_cpu_ms = 0;  // the window's CPU in NewFrame..Render, all frames so far
  int64_t first_row = 0;  // the records list's top row in view
};

Mark parse_mark(const std::string& line) {
  std::istringstream words(line);
  std::string word;
  std::string name;
  Mark mark;
  words >> word >> name;
  while (words >> word) {
    if (word == "frame") words >> mark.frame;
    else if (word == "ui-cpu-ms") words >> mark.ui_cpu_ms;
    else if (word == "first-row") words >> mark.first_row;
  }
  if (!words.eof() || mark.frame == 0) throw std::runtime_error("cannot read the window's mark: " + line);
  return mark;
}

// --- Runs

// Start to first frame: once with no font atlas kept (as the first start after installing), then
// kStartSamples starts (one is at the mercy of what else the machine does at that instant); then
// idle CPU and the peak RSS of the last window, left alone.
Json startup_and_idle(const Options& options, const std::string& home, const std::string& renderer,
                      const fs::path& cache_directory) {
  fs::remove_all(cache_directory);
  double cold_first_frame = 0;
  {
    Window window(options, home, renderer, std::nullopt);
    cold_first_frame = window.expect("first-frame").second;
    window.expect("first-data-frame");
    kill(window.pid(), SIGTERM);
    if (const int code = window.wait(); code != 0) throw std::runtime_error("a window exited with " + std::to_string(code));
  }
  std::vector<double> first_frames;
  std::vector<double> first_data_frames;
  std::string drawn_with;  // what the window says it draws with: "auto" shows what it picked
  auto start = [&](Window& window) {
    const auto [line, seconds] = window.expect("first-frame");
    first_frames.push_back(seconds);
    drawn_with = line.substr(std::min(line.size(), std::strlen("first-frame ")));
    first_data_frames.push_back(window.expect("first-data-frame").second);
  };
  for (int sample = 1; sample < kStartSamples; ++sample) {
    Window window(options, home, renderer, std::nullopt);
    start(window);
    kill(window.pid(), SIGTERM);
    if (const int code = window.wait(); code != 0) throw std::runtime_error("a window exited with " + std::to_string(code));
  }
  Window window(options, home, renderer, std::nullopt);
  start(window);
  const double first_frame = outpost::bench::percentile(first_frames, 50);
  const double first_data_frame = outpost::bench::percentile(first_data_frames, 50);
  std::this_thread::sleep_for(kSettleBeforeIdle);
  const double cpu_before = cpu_seconds(window.pid());
  std::this_thread::sleep_for(std::chrono::seconds(options.idle_seconds));
  const double idle_cpu = cpu_seconds(window.pid()) - cpu_before;
  const int64_t peak_rss = status_bytes(window.pid(), "VmHWM");
  const int64_t rss = status_bytes(window.pid(), "VmRSS");
  // Anonymous memory (heap, stacks, buffers) against file pages mapped in (libraries, the
  // database file when it is memory-mapped): the kernel can drop the latter at any time.
  const int64_t rss_anonymous = status_bytes(window.pid(), "RssAnon");
  const int64_t rss_file = status_bytes(window.pid(), "RssFile");
  kill(window.pid(), SIGTERM);  // SDL turns it into a quit event
  if (const int code = window.wait(); code != 0) throw std::runtime_error("the idle window exited with " + std::to_string(code));
  return Json{{"drawn_with", drawn_with},
              {"first_frame_seconds", first_frame},
              {"first_frame_samples", first_frames},
              {"first_frame_no_font_cache_seconds", cold_first_frame},
              {"first_data_frame_seconds", first_data_frame},
              {"idle_seconds", options.idle_seconds},
              {"idle_cpu_seconds", idle_cpu},
              {"idle_peak_rss_bytes", peak_rss},
              {"idle_rss_bytes", rss},
              {"idle_rss_anonymous_bytes", rss_anonymous},
              {"idle_rss_file_bytes", rss_file}};
}

// The records screen on the longest list, scrolled one wheel notch a frame.
Json scrolling(const Options& options, const std::string& home, const std::string& renderer, const fs::path& script,
               size_t n) {
  const std::string newest = record_id('s', n - 1);  // the list shows it first
  {
    std::ofstream file(script);
    file << "click nav.records\n"
            "click collection.submissions\n"
            "click record." << newest << "\n"  // the list has loaded
            "wait settled 60\n"
            "mark scroll-begin\n"
            "scroll record." << newest << " " << options.scroll_frames << "\n"
            "mark scroll-end\n"
            "wait settled 60\n"
            "quit\n";
  }
  Window window(options, home, renderer, script.string());
  const Mark begin = parse_mark(window.expect("mark scroll-begin").first);
  const double cpu_begin = cpu_seconds(window.pid());
  const auto threads_begin = cpu_seconds_by_thread(window.pid());
  const auto wall_begin = SteadyClock::now();
  const Mark end = parse_mark(window.expect("mark scroll-end").first);
  const double cpu_end = cpu_seconds(window.pid());
  const auto threads_end = cpu_seconds_by_thread(window.pid());
  const double wall = seconds_since(wall_begin);
  if (const int code = window.wait(); code != 0) throw std::runtime_error("the scrolling window exited with " + std::to_string(code));
  // A wheel that turned over nothing would time an idle list.
  if (end.first_row <= begin.first_row)
    throw std::runtime_error("the list did not scroll: its top row in view stayed at " + std::to_string(end.first_row));
  const int frames = end.frame - begin.frame;
  auto per_frame = [&](double seconds) { return 1000 * seconds / frames; };
  Json threads = Json::object();
  for (const auto& [role, seconds] : threads_end) threads[role] = per_frame(seconds - threads_begin.at(role));
  return Json{{"scroll_frames", frames},
              {"scroll_cpu_seconds", cpu_end - cpu_begin},
              {"scroll_wall_seconds", wall},
              {"cpu_ms_per_frame", per_frame(cpu_end - cpu_begin)},
              {"ui_cpu_ms_per_frame", (end.ui_cpu_ms - begin.ui_cpu_ms) / frames},
              {"thread_cpu_ms_per_frame", threads},
              {"first_row_before", begin.first_row},
              {"first_row_after", end.first_row},
              {"scroll_peak_rss_bytes", window.peak_rss_bytes()}};
}

// Seconds from clicking the Library, then the Forms, to the first rows of their lists (n
// materials by title, n submissions newest first), in a window started afresh; its peak RSS.
Json screens_shown(const Options& options, const std::string& home, const std::string& renderer, const fs::path& script,
                   size_t n) {
  {
    std::ofstream file(script);
    file << "wait settled 60\n"
            "mark library-begin\n"
            "click nav.library\n"
            "see pin." << record_id('m', 0) << "\n"  // "Field guide 1", first by title
            "mark library-shown\n"
            "mark forms-begin\n"
            "click nav.forms\n"
            "see reopen." << record_id('s', n - 1) << "\n"  // the newest submission, a draft
            "mark forms-shown\n"
            "wait settled 60\n"
            "quit\n";
  }
  Window window(options, home, renderer, script.string());
  // From the click's frame to the frame with the rows (the click itself takes a few frames).
  auto shown_seconds = [&](const std::string& screen) {
    const double begin_at = window.expect("mark " + screen + "-begin").second;
    return window.expect("mark " + screen + "-shown").second - begin_at;
  };
  const double library = shown_seconds("library");
  const double forms = shown_seconds("forms");
  if (const int code = window.wait(); code != 0) throw std::runtime_error("the window exited with " + std::to_string(code));
  return Json{{"library_seconds", library}, {"forms_seconds", forms}, {"peak_rss_bytes", window.peak_rss_bytes()}};
}

int run(const Options& options) {
  const fs::path scratch = fs::temp_directory_path() / ("outpost-bench-client-" + std::to_string(getpid()));
  fs::create_directories(scratch);
  // The windows keep their font atlas here (client/ui/font_cache.h), not in the user's cache.
  const fs::path cache_directory = scratch / "cache";
  setenv("XDG_CACHE_HOME", cache_directory.c_str(), 1);
  try {
    for (const size_t n : options.records) {
      const std::string home = (scratch / ("home-" + std::to_string(n))).string();
      say("writing " + std::to_string(n) + " submissions and " + std::to_string(n) + " materials");
      const double put_seconds = write_replica(home, n);
      say("written in " + std::to_string(put_seconds) + " s");
      int64_t replica_bytes = 0;
      for (const auto& entry : fs::directory_iterator(home))
        if (entry.path().filename().string().rfind("replica.db", 0) == 0) replica_bytes += static_cast<int64_t>(entry.file_size());
      for (const std::string& renderer : options.renderers) {
        say(std::to_string(n) + " records, " + renderer + ": start and idle");
        Json result = startup_and_idle(options, home, renderer, cache_directory / "outpost");
        say(std::to_string(n) + " records, " + renderer + ": scrolling");
        result.update(scrolling(options, home, renderer, scratch / "scroll.script", n));
        // The bench writes the catalog without a sync, so the first window to open the Library
        // reads it into the library's index; the next one finds it there.
        say(std::to_string(n) + " records, " + renderer + ": the Library and Forms, twice");
        const Json first = screens_shown(options, home, renderer, scratch / "screens.script", n);
        const Json again = screens_shown(options, home, renderer, scratch / "screens.script", n);
        result.update(Json{{"library_first_shown_seconds", first["library_seconds"]},
                           {"library_shown_seconds", again["library_seconds"]},
                           {"forms_shown_seconds", again["forms_seconds"]},
                           {"screens_peak_rss_bytes", std::max(first["peak_rss_bytes"].get<int64_t>(),
                                                               again["peak_rss_bytes"].get<int64_t>())}});
        result.update(Json{{"records_per_collection", n},
                           {"renderer", renderer},
                           {"size", options.size},
                           {"put_seconds", put_seconds},
                           {"replica_bytes", replica_bytes}});
        std::cout << result.dump() << std::endl;
      }
    }
  } catch (...) {
    fs::remove_all(scratch);
    throw;
  }
  fs::remove_all(scratch);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return outpost::cli::run_guarded("outpost_bench_client", std::cerr, [&] { return run(parse_options(argc, argv)); });
}
