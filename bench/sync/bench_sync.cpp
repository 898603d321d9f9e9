// bench/sync: device A pushes N records to the real outpost-registry process on loopback and
// device B pulls them, each timed with the HTTP requests and the bytes on the wire each way.
// Run by bench/sync/run.sh beside the PouchDB baseline; docs/benchmarks.md has the results.
//
//   outpost_bench_sync [--docs N]... [--registry PATH] [--keep]
//
// stdout: one JSON line per N, with "push" and "pull" shaped like bench/pouchdb's output.
// Everything else goes to stderr.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "client/home.h"
#include "platform/cli_args.h"
#include "platform/process.h"
#include "counting_relay.h"
#include "sync/curl_transport.h"

namespace {

using outpost::sync::Json;
namespace fs = std::filesystem;

constexpr char kCollection[] = "submissions";

void say(const std::string& line) { std::cerr << "[outpost-bench] " << line << std::endl; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// --- Options

struct Options {
  std::vector<size_t> docs;
  std::string registry = OUTPOST_REGISTRY_BIN;
  bool keep = false;  // leave the temporary directory (registry and replica files) behind
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--docs") {
      const std::string text = value();
      size_t used = 0;
      const unsigned long long n = std::stoull(text, &used);
      if (used != text.size() || n == 0) throw std::invalid_argument("--docs wants a positive number, not " + text);
      options.docs.push_back(static_cast<size_t>(n));
    } else if (arg == "--registry") {
      options.registry = value();
    } else if (arg == "--keep") {
      options.keep = true;
    } else {
      throw std::invalid_argument("usage: outpost_bench_sync [--docs N]... [--registry PATH] [--keep]");
    }
  }
  if (options.docs.empty()) options.docs = {10000, 100000};
  return options;
}

// --- Documents: exactly those of bench/pouchdb/replicate.js makeDocs (same PRNG and seed)

class Mulberry32 {
 public:
  explicit Mulberry32(uint32_t seed) : state_(seed) {}
  double next() {
    state_ += 0x6d2b79f5u;
    uint32_t t = (state_ ^ (state_ >> 15)) * (1u | state_);
    t = (t + ((t ^ (t >> 7)) * (61u | t))) ^ t;
    return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
  }

 private:
  uint32_t state_;
};

struct Doc {
  std::string id;
  Json fields;
};

std::vector<Doc> make_docs(size_t n) {
  Mulberry32 rnd(0x5eed);
  auto hex = [&](int length) {
    std::string text;
    for (int i = 0; i < length; ++i) text += "0123456789abcdef"[static_cast<int>(rnd.next() * 16)];
    return text;
  };
  auto pick = [&](const std::vector<std::string>& from) {
    return from[static_cast<size_t>(rnd.next() * static_cast<double>(from.size()))];
  };
  const std::vector<std::string> villages = {"Kalobeyei", "Nadapal", "Lokichoggio", "Kakuma", "Natukobenyo", "Lopiding"};
  const std::vector<std::string> needs = {"water, shelter", "food", "medical", "water", "shelter, blankets",
                                          "school fees"};
  std::vector<Doc> docs;
  docs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // Drawn one statement at a time: the operands of + have no evaluation order, the JS does.
    std::string id = hex(8);
    for (const auto& [separator, length] : {std::pair{"-", 4}, {"-4", 3}, {"-a", 3}, {"-", 12}})
      id += separator + hex(length);
    std::string village = pick(villages);
    const int members = 1 + static_cast<int>(rnd.next() * 9);
    std::string need = pick(needs);
    docs.push_back({std::move(id), Json{{"type", "submission"},
                                        {"name", "Household " + std::to_string(i + 1)},
                                        {"village", std::move(village)},
                                        {"members", members},
                                        {"needs", std::move(need)},
                                        {"updated", "2026-11-20"}}});
  }
  return docs;
}

// --- Processes: the registry CLI and its server

[[noreturn]] void exec_child(const std::vector<std::string>& argv, int stdout_fd) {
  ::dup2(stdout_fd, STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
  ::_exit(127);
}

// Starts argv with its stdout on a pipe; returns the pid and the pipe's read end.
std::pair<pid_t, int> spawn(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) exec_child(argv, fds[1]);
  ::close(fds[1]);
  return {pid, fds[0]};
}

std::string describe(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

// Runs a command to completion and returns its stdout without the trailing newline.
std::string run_capture(const std::vector<std::string>& argv) {
  auto [pid, fd] = spawn(argv);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("failed: " + describe(argv));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// `outpost-registry serve` on 127.0.0.1 with a kernel-chosen port; stopped with SIGTERM.
class RegistryProcess {
 public:
  RegistryProcess(const std::string& binary, const std::string& db) {
    std::tie(pid_, stdout_fd_) = spawn({binary, "--db", db, "serve", "--listen", "127.0.0.1:0"});
    const std::string line = read_line(std::chrono::seconds(20));
    const std::string prefix = "listening on ";
    const auto colon = line.rfind(':');
    if (line.rfind(prefix, 0) != 0 || colon == std::string::npos) {
      stop();
      throw std::runtime_error("outpost-registry did not start (it said: '" + line + "')");
    }
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  }
  ~RegistryProcess() { stop(); }
  RegistryProcess(const RegistryProcess&) = delete;
  RegistryProcess& operator=(const RegistryProcess&) = delete;

  uint16_t port() const { return port_; }

  // User plus system CPU the server has used so far, from /proc/PID/stat.
  double cpu_seconds() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string skip;
    for (int i = 3; i <= 13; ++i) fields >> skip;  // state .. cmajflt
    long long utime = 0, stime = 0;
    fields >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

 private:
  std::string read_line(std::chrono::seconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{stdout_fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      char c;
      if (::read(stdout_fd_, &c, 1) != 1) break;
      line += c;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  uint16_t port_ = 0;
};

// --- Counting: requests and bodies as the engine sends them; the relay sees the wire

class CountingTransport final : public outpost::sync::Transport {
 public:
  explicit CountingTransport(outpost::sync::Transport& inner) : inner_(inner) {}
  outpost::sync::HttpResponse send(const outpost::sync::HttpRequest& request) override {
    ++requests;
    body_up += request.body.size();
    outpost::sync::HttpResponse response = inner_.send(request);
    body_down += response.body.size();
    return response;
  }
  size_t requests = 0, body_up = 0, body_down = 0;

 private:
  outpost::sync::Transport& inner_;
};

double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

// Everything one phase (push or pull) cost. Client CPU is this thread's (curl and SQLite run
// on it; the relay's thread is left out), server CPU the registry process's.
struct Counters {
  double cpu_client = 0, cpu_server = 0;
  uint64_t wire_up = 0, wire_down = 0, connections = 0;
  size_t requests = 0, body_up = 0, body_down = 0;

  static Counters take(const outpost::bench::CountingRelay& relay, const CountingTransport& counted,
                       const RegistryProcess& registry) {
    return {thread_cpu_seconds(), registry.cpu_seconds(), relay.bytes_up(),  relay.bytes_down(),
            relay.connections(),  counted.requests,       counted.body_up, counted.body_down};
  }
};

Json phase_json(double seconds, const Counters& before, const Counters& after) {
  return {{"seconds", seconds},
          {"requests", after.requests - before.requests},
          {"bytes_up", after.wire_up - before.wire_up},
          {"bytes_down", after.wire_down - before.wire_down},
          {"connections", after.connections - before.connections},
          {"body_bytes_up", after.body_up - before.body_up},
          {"body_bytes_down", after.body_down - before.body_down},
          {"client_cpu_seconds", after.cpu_client - before.cpu_client},
          {"server_cpu_seconds", after.cpu_server - before.cpu_server}};
}

// --- One run: a fresh registry and two fresh devices

struct TempDir {
  std::string path;
  bool keep;
  explicit TempDir(bool keep_it) : keep(keep_it) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/outpost-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path = pattern;
  }
  ~TempDir() {
    if (keep) {
      say("kept " + path);
    } else {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  }
};

// Bytes of a SQLite database and its write-ahead log, as they stand (both still open).
Json file_sizes(const std::string& db) {
  auto size = [](const std::string& path) {
    std::error_code missing;
    const auto bytes = fs::file_size(path, missing);
    return missing ? uintmax_t{0} : bytes;
  };
  return {{"db", size(db)}, {"wal", size(db + "-wal")}};
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("sanity check failed: " + what);
}

Json run_once(size_t n, const Options& options) {
  TempDir tmp(options.keep);
  const std::string db = tmp.path + "/registry.db";
  const std::string org = run_capture({options.registry, "--db", db, "org", "add", "Bench"});
  const std::string code_a = run_capture({options.registry, "--db", db, "invite", org});
  const std::string code_b = run_capture({options.registry, "--db", db, "invite", org});
  RegistryProcess registry(options.registry, db);
  // Every byte between the devices and the registry passes through this relay.
  outpost::bench::CountingRelay relay(registry.port());
  const std::string url = "http://127.0.0.1:" + std::to_string(relay.port());
  say("registry on 127.0.0.1:" + std::to_string(registry.port()) + ", relay on " + url + ", " + tmp.path);

  outpost::client::Home a(tmp.path + "/a"), b(tmp.path + "/b");
  {
    outpost::sync::CurlTransport enroll_transport(url);
    a.enroll(url, code_a, "bench-a", enroll_transport);
    b.enroll(url, code_b, "bench-b", enroll_transport);
  }

  // Not timed: the records A has written before it syncs, one Replica::put (transaction) each,
  // and the checkpoint of their log. Where SQLite's automatic checkpoint falls is an accident of
  // how much was written before (at 10,000 records, just inside the push, adding about 0.1 s of
  // copying and fsync to it); its cost belongs to writing the records, not to sending them.
  const std::vector<Doc> docs = make_docs(n);
  const auto start = std::chrono::steady_clock::now();
  for (const Doc& doc : docs) a.replica().put(kCollection, doc.id, doc.fields);
  const double put_seconds = seconds_since(start);
  a.replica().database().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  say("wrote " + std::to_string(n) + " records on A in " + std::to_string(put_seconds) + " s (" +
      std::to_string(static_cast<long>(static_cast<double>(n) / put_seconds)) + " puts/s)");

  auto measure = [&](outpost::client::Home& home, const char* name) {
    outpost::sync::CurlTransport curl(url);
    CountingTransport counted(curl);
    const Counters before = Counters::take(relay, counted, registry);
    const auto sync_start = std::chrono::steady_clock::now();
    const outpost::sync::SyncReport report = home.sync(counted).records;
    const double seconds = seconds_since(sync_start);
    const Counters after = Counters::take(relay, counted, registry);
    Json phase = phase_json(seconds, before, after);
    require(report.requests == counted.requests && report.retries == 0,
            std::string(name) + ": the engine retried or miscounted requests");
    say(std::string(name) + ": " + phase.dump());
    return std::make_pair(phase, report);
  };

  auto [push, pushed] = measure(a, "push");
  require(pushed.pushed_changes == n, "push acknowledged " + std::to_string(pushed.pushed_changes) + " records");
  require(a.replica().status().pending_changes == 0, "A's outbox is not empty after the push");

  auto [pull, pulled] = measure(b, "pull");
  const std::vector<outpost::sync::Record> records = b.replica().list(kCollection);
  require(records.size() == n, "B holds " + std::to_string(records.size()) + " records, expected " + std::to_string(n));
  for (const size_t i : {size_t{0}, n / 2, n - 1}) {
    auto record = b.replica().get(kCollection, docs[i].id);
    require(record && record->values() == docs[i].fields, "record " + docs[i].id + " arrived different on B");
  }

  return {{"system", "outpost"},
          {"docs", n},
          {"push", push},
          {"pull", pull},
          {"put_seconds", put_seconds},
          {"files",
           {{"registry", file_sizes(db)},
            {"device_a", file_sizes(a.directory() + "/replica.db")},
            {"device_b", file_sizes(b.directory() + "/replica.db")}}},
          {"pulled_records", pulled.pulled_records},
          {"counting", "loopback TCP relay in the bench: bytes each way incl. HTTP headers"},
          {"storage", "SQLite (WAL, synchronous=NORMAL) files on both ends"}};
}

}  // namespace

int main(int argc, char** argv) {
  outpost::process::init();
  return outpost::cli::run_guarded("outpost_bench_sync", std::cerr, [&] {
    const Options options = parse_options(argc, argv);
    for (const size_t n : options.docs) std::cout << run_once(n, options).dump() << std::endl;
    return 0;
  });
}
