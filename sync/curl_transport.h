#pragma once

#include <functional>
#include <memory>
#include <string>

#include "sync/transport.h"

namespace outpost::sync {

// HTTP(S) over libcurl to one registry base URL, e.g. "http://127.0.0.1:8080".
class CurlTransport final : public Transport {
 public:
  struct Options {
    long connect_timeout_s = 20;
    // A transfer slower than this many bytes per second for low_speed_time_s is given up on:
    // patient enough for 2G and satellite links, but not forever.
    long low_speed_bytes = 64;
    long low_speed_time_s = 60;
    // Asked about once a second during a transfer; true gives it up (TransportError), so a
    // closing app need not wait for a slow link.
    std::function<bool()> cancelled;
  };
  explicit CurlTransport(std::string base_url);
  CurlTransport(std::string base_url, Options options);
  ~CurlTransport() override;
  HttpResponse send(const HttpRequest& request) override;

 private:
  struct Handle;
  std::string base_url_;
  Options options_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace outpost::sync
