// The registry's HTTP API as plain functions of a request: the httplib server and the
// in-process test transport both call Api::handle, so the two cannot drift apart.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "registry/service.h"

namespace outpost::registry {

class BlobService;

struct ApiRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};

// Part of a file, sent as an answer's body without holding it in memory.
struct FileSlice {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<FileSlice> file;  // when set, the body is this, streamed by the server
};

// The whole body of an answer: `body`, or its file slice read into memory (in-process callers).
std::string read_body(const ApiResponse& response);

class Api {
 public:
  // Without `blobs`, the /v1/blobs routes answer that this registry serves no files.
  explicit Api(Registry& registry, BlobService* blobs = nullptr) : registry_(registry), blobs_(blobs) {}
  // Never throws: every failure becomes a JSON error answer.
  ApiResponse handle(const ApiRequest& request);

 private:
  ApiResponse route(const ApiRequest& request);
  Registry& registry_;
  BlobService* blobs_;
};

// The JSON error body every failure answers with: {"error": code, "message": sentence}.
ApiResponse error_response(int status, const std::string& code, const std::string& message,
                           const Json& extra = Json::object());

// --- For route handlers (api.cpp, blobs.cpp)

// The request body as JSON, zstd or not; ApiError (400, 413, 415) when it cannot be read.
Json read_json_body(const ApiRequest& request);
// A JSON answer, compressed when the caller accepts zstd and it is worth it.
ApiResponse json_response(const ApiRequest& request, const Json& body, int status = 200);
// The same for a body that is JSON text already.
ApiResponse text_response(const ApiRequest& request, std::string body, int status = 200);

}  // namespace outpost::registry
