// A loopback TCP relay that counts the bytes it forwards each way, so the benchmark sees the
// traffic on the wire (HTTP headers included), as the PouchDB baseline counts its server's
// sockets. It sets TCP_NODELAY on both legs and forwards every read at once, so it adds no
// Nagle delays of its own (tests/support/fault_proxy, made for fault injection, does not).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace outpost::bench {

class CountingRelay {
 public:
  // Listens on 127.0.0.1 at a kernel-chosen port and forwards to 127.0.0.1:upstream_port.
  explicit CountingRelay(uint16_t upstream_port);
  ~CountingRelay();
  CountingRelay(const CountingRelay&) = delete;
  CountingRelay& operator=(const CountingRelay&) = delete;

  uint16_t port() const { return port_; }
  uint64_t connections() const { return connections_.load(); }
  uint64_t bytes_up() const { return bytes_up_.load(); }  // client to upstream
  uint64_t bytes_down() const { return bytes_down_.load(); }

 private:
  void run();

  uint16_t upstream_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // self-pipe that stops the loop
  std::atomic<uint64_t> connections_{0}, bytes_up_{0}, bytes_down_{0};
  std::thread thread_;
};

}  // namespace outpost::bench
