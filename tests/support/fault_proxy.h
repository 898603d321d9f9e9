#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <netinet/in.h>

namespace outpost::test {

// Fault-injecting TCP proxy for integration tests. Listens on 127.0.0.1 at a
// kernel-chosen port and forwards every accepted connection to the upstream
// address, optionally cutting or throttling it according to the current Plan.
class FaultProxy {
 public:
  struct Plan {
    // Close both sides once this many client->server bytes were forwarded.
    // The cut fires when data flowing in that direction reaches the limit, so
    // 0 means "as soon as the client sends anything".
    std::optional<size_t> cut_request_after;
    // Same for server->client; 0 lets the request through and cuts as soon as
    // the server starts answering.
    std::optional<size_t> cut_response_after;
    // 0 = unthrottled; otherwise each direction is limited to roughly this rate.
    size_t bytes_per_second = 0;
    // Cuts apply only to connections whose 0-based accept index % n == 0
    // (0 is treated as 1). Throttling applies to every connection.
    size_t every_nth_connection = 1;
  };

  // upstream_host must be a numeric IPv4 address (e.g. "127.0.0.1").
  // Throws std::system_error / std::invalid_argument on setup failure.
  FaultProxy(const std::string& upstream_host, uint16_t upstream_port);
  ~FaultProxy();  // calls stop()

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }

  // Takes effect for connections accepted after the call.
  void set_plan(const Plan& plan);
  Plan plan() const;

  // Resets (RST to the client, close to the server) every open connection now.
  void cut_all();

  // Stops accepting, closes all connections and joins every thread. Idempotent.
  void stop();

  uint64_t connections_accepted() const { return accepted_.load(); }
  uint64_t bytes_client_to_server() const { return bytes_c2s_.load(); }
  uint64_t bytes_server_to_client() const { return bytes_s2c_.load(); }
  uint64_t cuts() const { return cuts_.load(); }

 private:
  struct Connection;
  enum class Outcome { Done, Failed, Cut, Killed, Stopped };

  void accept_loop();
  void start_connection(int client_fd);
  void reap_finished();
  void run_connection(Connection& c);
  bool connect_upstream(Connection& c);
  Outcome pump(Connection& c);
  void finish(Connection& c, Outcome outcome);

  sockaddr_in upstream_{};
  int listen_fd_ = -1;
  int wake_rd_ = -1;  // self-pipe that wakes the accept loop on stop()
  int wake_wr_ = -1;
  uint16_t port_ = 0;

  mutable std::mutex plan_mutex_;
  Plan plan_;

  std::mutex conns_mutex_;
  std::list<std::unique_ptr<Connection>> conns_;

  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> bytes_c2s_{0};
  std::atomic<uint64_t> bytes_s2c_{0};
  std::atomic<uint64_t> cuts_{0};

  std::thread accept_thread_;  // last: started once everything above exists
};

}  // namespace outpost::test
