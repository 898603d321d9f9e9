#include "counting_relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <list>
#include <string>
#include <system_error>
#include <vector>

namespace outpost::bench {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void prepare(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// One direction of a connection: bytes read from `from` wait in `pending` until `to` takes them;
// nothing more is read while some wait, so a slow side holds back the other (no unbounded buffer).
struct Pipe {
  int from, to;
  std::atomic<uint64_t>& counter;
  std::string pending;
  bool eof = false;  // `from` is finished; `to` was (or will be, once drained) shut for writing
  bool done() const { return eof && pending.empty(); }
};

struct Connection {
  int client, upstream;
  Pipe up, down;
  bool broken = false;
  Connection(int c, int u, std::atomic<uint64_t>& up_counter, std::atomic<uint64_t>& down_counter)
      : client(c), upstream(u), up{c, u, up_counter, {}}, down{u, c, down_counter, {}} {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    ::close(client);
    ::close(upstream);
  }
};

void pump_read(Pipe& pipe, bool& broken) {
  char buffer[64 * 1024];
  const ssize_t n = ::read(pipe.from, buffer, sizeof buffer);
  if (n > 0) {
    pipe.pending.append(buffer, static_cast<size_t>(n));
    pipe.counter += static_cast<uint64_t>(n);
  } else if (n == 0) {
    pipe.eof = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    broken = true;
  }
}

void pump_write(Pipe& pipe, bool& broken) {
  if (!pipe.pending.empty()) {
    const ssize_t n = ::send(pipe.to, pipe.pending.data(), pipe.pending.size(), MSG_NOSIGNAL);
    if (n > 0) pipe.pending.erase(0, static_cast<size_t>(n));
    else if (n < 0 && errno != EAGAIN && errno != EINTR) broken = true;
  }
  if (pipe.done()) ::shutdown(pipe.to, SHUT_WR);
}

}  // namespace

CountingRelay::CountingRelay(uint16_t upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("relay socket");
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    fail("relay listen");
  port_ = ntohs(address.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) fail("relay pipe");
  thread_ = std::thread([this] { run(); });
}

CountingRelay::~CountingRelay() {
  const char byte = 1;
  (void)!::write(wake_[1], &byte, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void CountingRelay::run() {
  std::list<Connection> connections;
  for (;;) {
    // Each side is polled for what its pipes can do next: read while nothing waits, write while
    // something does.
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (Connection& c : connections)
      for (Pipe* pipe : {&c.up, &c.down}) {
        if (!pipe->eof && pipe->pending.empty()) fds.push_back({pipe->from, POLLIN, 0});
        if (!pipe->pending.empty()) fds.push_back({pipe->to, POLLOUT, 0});
      }
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int upstream = client >= 0 ? ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
      const sockaddr_in target = loopback(upstream_port_);
      if (upstream >= 0 && ::connect(upstream, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0) {
        prepare(client);
        prepare(upstream);
        connections.emplace_back(client, upstream, bytes_up_, bytes_down_);
        ++connections_;
      } else {
        if (client >= 0) ::close(client);
        if (upstream >= 0) ::close(upstream);
      }
    }
    // Every pipe tries both steps; non-blocking sockets make the ones with nothing to do free.
    for (auto it = connections.begin(); it != connections.end();) {
      for (Pipe* pipe : {&it->up, &it->down}) {
        if (!pipe->eof && pipe->pending.empty()) pump_read(*pipe, it->broken);
        pump_write(*pipe, it->broken);
      }
      if (it->broken || (it->up.done() && it->down.done()))
        it = connections.erase(it);
      else
        ++it;
    }
  }
}

}  // namespace outpost::bench
