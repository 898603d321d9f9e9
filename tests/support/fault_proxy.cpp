#include "fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace outpost::test {

// --- Socket helpers ---------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kBufferSize = 64 * 1024;
// A reset discards unsent data, so a cut first waits (bounded) for already
// forwarded bytes to be acknowledged by the client.
constexpr auto kDrainTimeout = std::chrono::seconds(1);
constexpr int kConnectTimeoutMs = 5000;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Linux closes the descriptor even when close() reports EINTR; never retry.
void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

// SO_LINGER {on, 0} makes close() send RST instead of FIN.
void reset_fd(int& fd) {
  if (fd < 0) return;
  const linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close_fd(fd);
}

// EINTR is reported as a timeout: every caller loops and recomputes anyway.
int poll_once(pollfd* fds, nfds_t n, int timeout_ms) {
  const int r = ::poll(fds, n, timeout_ms);
  return (r < 0 && errno == EINTR) ? 0 : r;
}

// EAGAIN means the pipe is full, i.e. the reader is already awake.
void wake(int fd) {
  const char byte = 1;
  ssize_t r;
  do {
    r = ::write(fd, &byte, 1);
  } while (r < 0 && errno == EINTR);
}

// Bytes queued on the socket that the peer has not acknowledged yet.
size_t unacked_bytes(int fd) {
  int n = 0;
  return ::ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

// One forwarding direction with its own buffer, cut limit and throttle clock.
struct Direction {
  int src;
  int dst;
  std::atomic<uint64_t>& forwarded;
  std::optional<size_t> limit;
  size_t taken = 0;  // bytes read from src that count towards limit
  std::vector<char> buf = std::vector<char>(kBufferSize);
  size_t off = 0;
  size_t len = 0;
  bool src_eof = false;
  bool dst_shut = false;
  bool cut_pending = false;
  Clock::time_point next_read{};

  bool empty() const { return off == len; }
  bool idle() const { return !src_eof && !cut_pending && empty(); }
  bool wants_read(Clock::time_point now) const { return idle() && now >= next_read; }

  // Returns false on a socket error.
  bool fill(size_t chunk, size_t rate, Clock::time_point now) {
    ssize_t n;
    do {
      n = ::recv(src, buf.data(), chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) {
      src_eof = true;
      return true;
    }
    size_t keep = static_cast<size_t>(n);
    if (limit) {
      keep = std::min(keep, *limit - taken);  // bytes beyond the cut are dropped
      taken += keep;
      cut_pending = taken == *limit;
    }
    off = 0;
    len = keep;
    if (rate > 0) {
      next_read = std::max(now, next_read) +
                  std::chrono::nanoseconds(keep * uint64_t{1'000'000'000} / rate);
    }
    return true;
  }

  // Sends as much as the socket takes; returns false on a socket error.
  bool flush() {
    while (off < len) {
      const ssize_t n = ::send(dst, buf.data() + off, len - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      off += static_cast<size_t>(n);
      forwarded += static_cast<uint64_t>(n);
    }
    return true;
  }
};

}  // namespace

// --- Lifecycle --------------------------------------------------------------

struct FaultProxy::Connection {
  int client = -1;  // client/upstream are owned and closed by the thread
  int upstream = -1;
  int wake_rd = -1;  // per-connection self-pipe for cut_all() and stop()
  int wake_wr = -1;
  Plan plan;
  std::atomic<bool> kill{false};
  std::atomic<bool> finished{false};
  std::thread thread;

  ~Connection() {
    close_fd(wake_rd);
    close_fd(wake_wr);
  }
};

FaultProxy::FaultProxy(const std::string& upstream_host, uint16_t upstream_port) {
  upstream_.sin_family = AF_INET;
  upstream_.sin_port = htons(upstream_port);
  if (::inet_pton(AF_INET, upstream_host.c_str(), &upstream_.sin_addr) != 1) {
    throw std::invalid_argument("FaultProxy: not a numeric IPv4 address: " + upstream_host);
  }

  try {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw_errno("FaultProxy: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw_errno("FaultProxy: bind");
    }
    if (::listen(listen_fd_, SOMAXCONN) != 0) throw_errno("FaultProxy: listen");
    if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
      throw_errno("FaultProxy: getsockname");
    }
    port_ = ntohs(addr.sin_port);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("FaultProxy: pipe2");
    wake_rd_ = fds[0];
    wake_wr_ = fds[1];

    accept_thread_ = std::thread([this] { accept_loop(); });
  } catch (...) {
    // The destructor does not run for a throwing constructor.
    close_fd(listen_fd_);
    close_fd(wake_rd_);
    close_fd(wake_wr_);
    throw;
  }
}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::stop() {
  if (stopping_.exchange(true)) return;

  wake(wake_wr_);
  accept_thread_.join();  // after this nobody else adds connections

  std::list<std::unique_ptr<Connection>> conns;
  {
    std::lock_guard<std::mutex> lock(conns_mutex_);
    conns.swap(conns_);
  }
  for (auto& c : conns) wake(c->wake_wr);
  for (auto& c : conns) c->thread.join();

  close_fd(listen_fd_);
  close_fd(wake_rd_);
  close_fd(wake_wr_);
}

void FaultProxy::set_plan(const Plan& plan) {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  plan_ = plan;
}

FaultProxy::Plan FaultProxy::plan() const {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  return plan_;
}

void FaultProxy::cut_all() {
  std::lock_guard<std::mutex> lock(conns_mutex_);
  for (auto& c : conns_) {
    if (c->finished) continue;
    c->kill = true;
    wake(c->wake_wr);
  }
}

// --- Accepting --------------------------------------------------------------

void FaultProxy::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_rd_, POLLIN, 0}};
    if (poll_once(fds, 2, -1) < 0 || fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;

    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors/memory: back off instead of spinning on a ready socket.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;  // EAGAIN, ECONNABORTED, EINTR: the next poll sorts it out
    }
    reap_finished();
    start_connection(fd);
  }
}

void FaultProxy::start_connection(int client_fd) {
  auto c = std::make_unique<Connection>();
  c->client = client_fd;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    reset_fd(c->client);
    return;
  }
  c->wake_rd = fds[0];
  c->wake_wr = fds[1];

  const uint64_t index = accepted_.fetch_add(1);
  c->plan = plan();
  const size_t nth = std::max<size_t>(1, c->plan.every_nth_connection);
  if (index % nth != 0) {
    c->plan.cut_request_after.reset();
    c->plan.cut_response_after.reset();
  }

  std::lock_guard<std::mutex> lock(conns_mutex_);
  Connection& ref = *c;
  try {
    ref.thread = std::thread([this, &ref] { run_connection(ref); });
  } catch (const std::system_error&) {
    reset_fd(ref.client);
    return;
  }
  conns_.push_back(std::move(c));
}

// Joins connection threads that already returned so long runs do not pile them up.
void FaultProxy::reap_finished() {
  std::lock_guard<std::mutex> lock(conns_mutex_);
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->finished) {
      (*it)->thread.join();
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

// --- Per-connection forwarding ---------------------------------------------

void FaultProxy::run_connection(Connection& c) {
  finish(c, connect_upstream(c) ? pump(c) : Outcome::Failed);
}

bool FaultProxy::connect_upstream(Connection& c) {
  c.upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.upstream < 0) return false;
  if (::connect(c.upstream, reinterpret_cast<const sockaddr*>(&upstream_), sizeof upstream_) == 0) {
    return true;
  }
  if (errno != EINPROGRESS && errno != EINTR) return false;

  // Non-blocking connect so stop()/cut_all() are not held up by a slow upstream.
  pollfd fds[2] = {{c.upstream, POLLOUT, 0}, {c.wake_rd, POLLIN, 0}};
  const auto deadline = Clock::now() + std::chrono::milliseconds(kConnectTimeoutMs);
  while (fds[0].revents == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (poll_once(fds, 2, static_cast<int>(left.count())) < 0 || fds[1].revents != 0) return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  return ::getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

FaultProxy::Outcome FaultProxy::pump(Connection& c) {
  Direction c2s{c.client, c.upstream, bytes_c2s_, c.plan.cut_request_after};
  Direction s2c{c.upstream, c.client, bytes_s2c_, c.plan.cut_response_after};
  const size_t rate = c.plan.bytes_per_second;
  // Throttled reads use ~20 ms worth of data so the rate stays smooth.
  const size_t chunk = rate > 0 ? std::clamp<size_t>(rate / 50, 1, kBufferSize) : kBufferSize;

  for (;;) {
    auto now = Clock::now();
    pollfd fds[3] = {{c.wake_rd, POLLIN, 0}, {c.client, 0, 0}, {c.upstream, 0, 0}};
    pollfd& client = fds[1];
    pollfd& upstream = fds[2];
    const bool c2s_read = c2s.wants_read(now);
    const bool s2c_read = s2c.wants_read(now);
    const bool c2s_write = !c2s.empty();
    const bool s2c_write = !s2c.empty();
    if (c2s_read) client.events |= POLLIN;
    if (s2c_write) client.events |= POLLOUT;
    if (s2c_read) upstream.events |= POLLIN;
    if (c2s_write) upstream.events |= POLLOUT;

    int timeout_ms = -1;
    for (const Direction* d : {&c2s, &s2c}) {
      if (d->idle() && now < d->next_read) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(d->next_read - now);
        const int ms = static_cast<int>(wait.count()) + 1;
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    // Poll reports HUP/ERR even with no events requested; ignoring descriptors
    // we want nothing from keeps a dead peer from making this loop spin.
    for (pollfd* p : {&client, &upstream}) {
      if (p->events == 0) p->fd = -1;
    }

    if (poll_once(fds, 3, timeout_ms) < 0) return Outcome::Failed;
    if (fds[0].revents != 0) return stopping_ ? Outcome::Stopped : Outcome::Killed;

    now = Clock::now();
    constexpr short kReadable = POLLIN | POLLERR | POLLHUP;
    constexpr short kWritable = POLLOUT | POLLERR | POLLHUP;
    if (c2s_write && (upstream.revents & kWritable) && !c2s.flush()) return Outcome::Failed;
    if (s2c_write && (client.revents & kWritable) && !s2c.flush()) return Outcome::Failed;
    // Send right after reading to save a poll round trip; EAGAIN just leaves data buffered.
    if (c2s_read && (client.revents & kReadable) && !(c2s.fill(chunk, rate, now) && c2s.flush())) {
      return Outcome::Failed;
    }
    if (s2c_read && (upstream.revents & kReadable) && !(s2c.fill(chunk, rate, now) && s2c.flush())) {
      return Outcome::Failed;
    }

    for (Direction* d : {&c2s, &s2c}) {
      if (!d->empty()) continue;
      if (d->cut_pending) return Outcome::Cut;
      if (d->src_eof && !d->dst_shut) {
        ::shutdown(d->dst, SHUT_WR);  // propagate half-close
        d->dst_shut = true;
      }
    }
    if (c2s.dst_shut && s2c.dst_shut) return Outcome::Done;
  }
}

// The upstream side always gets a plain close so it receives exactly the bytes
// forwarded before the FIN; the client side gets a reset on every failure path.
void FaultProxy::finish(Connection& c, Outcome outcome) {
  switch (outcome) {
    case Outcome::Done:
    case Outcome::Stopped:
      close_fd(c.upstream);
      close_fd(c.client);
      break;
    case Outcome::Failed:
      close_fd(c.upstream);
      reset_fd(c.client);
      break;
    case Outcome::Cut: {
      ++cuts_;
      close_fd(c.upstream);
      const auto deadline = Clock::now() + kDrainTimeout;
      while (unacked_bytes(c.client) > 0 && Clock::now() < deadline) {
        pollfd p{c.wake_rd, POLLIN, 0};
        if (poll_once(&p, 1, 5) != 0) break;  // stop()/cut_all(): reset right away
      }
      reset_fd(c.client);
      break;
    }
    case Outcome::Killed:
      ++cuts_;
      close_fd(c.upstream);
      reset_fd(c.client);
      break;
  }
  c.finished = true;
}

}  // namespace outpost::test
