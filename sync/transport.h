// The one seam between the sync engine and the network. The engine only ever sees this
// interface: libcurl sits behind it in curl_transport.cpp, tests put a fake or an in-process
// registry behind it.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::sync {

struct HttpResponse;

struct HttpRequest {
  std::string method = "POST";
  std::string path;  // e.g. "/v1/sync"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the answer's body is handed over piece by piece as it arrives, together with the
  // status and headers, instead of being collected in HttpResponse::body: what arrived before a
  // cut connection is not lost (file downloads resume from it). May throw to abandon the request.
  std::function<void(const HttpResponse& head, std::string_view piece)> on_body = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};

// The request did not complete: no connection, a cut, a timeout. The request may or may not
// have reached the registry, which is why every request is safe to replay.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

}  // namespace outpost::sync
