#include "support/fault_proxy.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using outpost::test::FaultProxy;

namespace {

using Clock = std::chrono::steady_clock;

// --- Socket helpers ---------------------------------------------------------

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& ch : s) ch = static_cast<char>(rng() & 0xff);
  return s;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

enum class End { Eof, Reset, Timeout };

struct Received {
  std::string data;
  End end = End::Eof;
};

// Reads until EOF, reset or the socket's receive timeout.
Received read_to_end(int fd) {
  Received r;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      r.end = End::Eof;
      return r;
    } else if (errno != EINTR) {
      r.end = (errno == EAGAIN || errno == EWOULDBLOCK) ? End::Timeout : End::Reset;
      return r;
    }
  }
}

// Blocking client socket with timeouts so a broken proxy fails tests instead of hanging them.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    const timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// --- Test servers -----------------------------------------------------------

// Minimal threaded server on 127.0.0.1:0; each connection runs `handler` on its own thread.
class TestServer {
 public:
  using Handler = std::function<void(int fd)>;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the blocked accept()
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // unblocks handlers
    }
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      open_.insert(fd);
      workers_.emplace_back([this, fd] {
        handler_(fd);
        std::lock_guard<std::mutex> inner(mutex_);
        open_.erase(fd);
        ::close(fd);
      });
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::set<int> open_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

void echo(int fd) {
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || !send_all(fd, std::string(buf, static_cast<size_t>(n)))) return;
  }
}

// Records everything each connection delivered before EOF/reset.
class Sink {
 public:
  void handle(int fd) {
    Received r = read_to_end(fd);
    std::lock_guard<std::mutex> lock(mutex_);
    done_.push_back(std::move(r.data));
    cv_.notify_all();
  }

  // Payload of the index-th finished connection (waits up to 10 s).
  std::string wait(size_t index) {
    std::unique_lock<std::mutex> lock(mutex_);
    REQUIRE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_.size() > index; }));
    return done_[index];
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> done_;
};

// HTTP-ish: waits for the end of the request head, answers with `response`, closes.
TestServer::Handler http_responder(const std::string& response) {
  return [response](int fd) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      head.append(buf, static_cast<size_t>(n));
    }
    send_all(fd, response);
  };
}

std::string http_response(size_t body_size) {
  const std::string body = random_bytes(body_size, 7);
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_size) + "\r\n\r\n" + body;
}

const std::string kRequest = "GET /sync HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// Sends `payload` on a second thread while reading the echo, as a real client would.
Received echo_through(uint16_t port, const std::string& payload) {
  Client c(port);
  std::thread writer([&] {
    send_all(c.fd(), payload);
    ::shutdown(c.fd(), SHUT_WR);
  });
  Received r = read_to_end(c.fd());
  writer.join();
  return r;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// --- Tests ------------------------------------------------------------------

TEST_SUITE("fault_proxy") {

TEST_CASE("forwards several MB both ways byte-exact") {
  TestServer server(echo);
  FaultProxy proxy("127.0.0.1", server.port());
  CHECK(proxy.port() != 0);
  CHECK(proxy.port() != server.port());

  const std::string payload = random_bytes(4 * 1024 * 1024 + 123, 1);
  const Received r = echo_through(proxy.port(), payload);
  CHECK(r.end == End::Eof);
  CHECK(r.data.size() == payload.size());
  CHECK(r.data == payload);
  CHECK(proxy.connections_accepted() == 1);
  CHECK(proxy.bytes_client_to_server() == payload.size());
  CHECK(proxy.bytes_server_to_client() == payload.size());
  CHECK(proxy.cuts() == 0);
}

TEST_CASE("cut_request_after delivers exactly N bytes upstream, then resets the client") {
  Sink sink;
  TestServer server([&](int fd) { sink.handle(fd); });
  FaultProxy proxy("127.0.0.1", server.port());
  const std::string payload = random_bytes(200 * 1024, 2);

  const std::vector<size_t> limits = {0, 1, 1000, 64 * 1024 + 7, 150 * 1024};
  for (size_t i = 0; i < limits.size(); ++i) {
    const size_t n = limits[i];
    CAPTURE(n);
    proxy.set_plan({n, std::nullopt, 0, 1});
    Client c(proxy.port());
    send_all(c.fd(), payload);  // fails midway once the proxy resets us
    const Received r = read_to_end(c.fd());
    CHECK(r.end != End::Timeout);
    CHECK(r.data.empty());
    const std::string got = sink.wait(i);
    CHECK(got.size() == n);
    CHECK(got == payload.substr(0, n));
  }
  CHECK(proxy.cuts() == limits.size());
}

TEST_CASE("cut_response_after delivers exactly N bytes to the client") {
  const std::string response = http_response(512 * 1024);
  TestServer server(http_responder(response));
  FaultProxy proxy("127.0.0.1", server.port());

  const std::vector<size_t> limits = {0, 1, 12345, 300 * 1024};
  for (size_t n : limits) {
    CAPTURE(n);
    const uint64_t before = proxy.bytes_server_to_client();
    proxy.set_plan({std::nullopt, n, 0, 1});
    Client c(proxy.port());
    REQUIRE(send_all(c.fd(), kRequest));
    const Received r = read_to_end(c.fd());
    CHECK(r.end != End::Timeout);
    CHECK(r.data.size() == n);
    CHECK(r.data == response.substr(0, n));
    CHECK(proxy.bytes_server_to_client() - before == n);
  }
  CHECK(proxy.cuts() == limits.size());
  CHECK(proxy.bytes_client_to_server() == limits.size() * kRequest.size());
}

TEST_CASE("throttling slows a transfer down to roughly the configured rate") {
  TestServer server(echo);
  FaultProxy proxy("127.0.0.1", server.port());
  const std::string payload = random_bytes(100 * 1024, 3);

  auto start = Clock::now();
  CHECK(echo_through(proxy.port(), payload).data == payload);
  const double fast = seconds_since(start);

  proxy.set_plan({std::nullopt, std::nullopt, 200 * 1000, 1});
  start = Clock::now();
  CHECK(echo_through(proxy.port(), payload).data == payload);
  const double slow = seconds_since(start);

  CAPTURE(fast);
  CAPTURE(slow);
  // 100 KiB at 200 kB/s is ~0.5 s per direction; the directions overlap.
  CHECK(slow > 0.3);
  CHECK(slow > 3 * fast);
  CHECK(slow < 10.0);
}

TEST_CASE("every_nth_connection limits cuts to every n-th connection") {
  const std::string response = http_response(64 * 1024);
  TestServer server(http_responder(response));
  FaultProxy proxy("127.0.0.1", server.port());
  proxy.set_plan({std::nullopt, 10, 0, 3});

  for (size_t i = 0; i < 7; ++i) {
    CAPTURE(i);
    Client c(proxy.port());
    REQUIRE(send_all(c.fd(), kRequest));
    const Received r = read_to_end(c.fd());
    if (i % 3 == 0) {
      CHECK(r.data == response.substr(0, 10));
    } else {
      CHECK(r.end == End::Eof);
      CHECK(r.data == response);
    }
  }
  CHECK(proxy.connections_accepted() == 7);
  CHECK(proxy.cuts() == 3);
}

TEST_CASE("cut_all resets every open connection") {
  TestServer server(echo);
  FaultProxy proxy("127.0.0.1", server.port());

  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(proxy.port()));
    REQUIRE(send_all(clients.back()->fd(), "ping"));
    char buf[4];
    REQUIRE(::recv(clients.back()->fd(), buf, sizeof buf, MSG_WAITALL) == 4);
  }
  proxy.cut_all();
  for (auto& c : clients) {
    const Received r = read_to_end(c->fd());
    CHECK(r.end == End::Reset);
    CHECK(r.data.empty());
  }
  CHECK(proxy.cuts() == 3);

  // The proxy keeps serving new connections afterwards.
  CHECK(echo_through(proxy.port(), "still alive").data == "still alive");
}

TEST_CASE("destructor with open connections neither hangs nor leaves clients hanging") {
  TestServer server(echo);
  std::vector<std::unique_ptr<Client>> clients;
  const auto start = Clock::now();
  {
    FaultProxy proxy("127.0.0.1", server.port());
    proxy.set_plan({std::nullopt, std::nullopt, 1000, 1});  // keep some connections busy
    for (int i = 0; i < 5; ++i) {
      clients.push_back(std::make_unique<Client>(proxy.port()));
      REQUIRE(send_all(clients.back()->fd(), "x"));
      char ch;
      REQUIRE(::recv(clients.back()->fd(), &ch, 1, 0) == 1);
    }
    REQUIRE(send_all(clients.front()->fd(), random_bytes(64 * 1024, 4)));
  }
  CHECK(seconds_since(start) < 5.0);
  for (auto& c : clients) CHECK(read_to_end(c->fd()).end != End::Timeout);
}

TEST_CASE("upstream connect failure closes the client connection") {
  // Bound but not listening: connecting to it is refused, and the port stays ours.
  const int reserved = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(reserved >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(reserved, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(reserved, reinterpret_cast<sockaddr*>(&addr), &len) == 0);

  {
    FaultProxy proxy("127.0.0.1", ntohs(addr.sin_port));
    Client c(proxy.port());
    const Received r = read_to_end(c.fd());
    CHECK(r.end != End::Timeout);
    CHECK(r.data.empty());
    CHECK(proxy.connections_accepted() == 1);
  }
  ::close(reserved);
}

TEST_CASE("rejects a non-numeric upstream host") {
  CHECK_THROWS_AS(FaultProxy("localhost", 80), std::invalid_argument);
}

}  // TEST_SUITE
