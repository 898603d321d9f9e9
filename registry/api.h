// The registry's HTTP API as plain functions of a request: the httplib server and the
// in-process test transport both call Api::handle, so the two cannot drift apart.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "registry/service.h"

namespace outpost::registry {

struct ApiRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class Api {
 public:
  explicit Api(Registry& registry) : registry_(registry) {}
  // Never throws: every failure becomes a JSON error answer.
  ApiResponse handle(const ApiRequest& request);

 private:
  ApiResponse route(const ApiRequest& request);
  Registry& registry_;
};

// The JSON error body every failure answers with: {"error": code, "message": sentence}.
ApiResponse error_response(int status, const std::string& code, const std::string& message,
                           const Json& extra = Json::object());

}  // namespace outpost::registry
