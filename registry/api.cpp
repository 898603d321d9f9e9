#include "registry/api.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "platform/compress.h"
#include "platform/json_text.h"
#include "platform/log.h"
#include "platform/sqlite.h"
#include "registry/blobs.h"

namespace outpost::registry {

namespace {

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

namespace {

// The request's body as text, expanded if it came compressed.
std::string read_body_text(const ApiRequest& request) {
  const std::string encoding = request.header("Content-Encoding");
  if (!encoding.empty() && encoding != sync::kZstd && encoding != "identity")
    throw ApiError(415, "unsupported_encoding", "Content-Encoding '" + encoding + "' is not supported; use zstd");
  try {
    return sync::expand_body(request.body, encoding == sync::kZstd, sync::kMaxExpandedBody);
  } catch (const compress::TooLarge&) {
    throw ApiError(413, "too_large", "request body expands beyond " + std::to_string(sync::kMaxExpandedBody) + " bytes");
  } catch (const compress::CompressError& error) {
    throw ApiError(400, "malformed_body", error.what());
  }
}

ApiError malformed_json(const std::string& where) {
  return ApiError(400, "malformed_json", "request body is not valid JSON (" + where + ")");
}

}  // namespace

Json read_json_body(const ApiRequest& request) {
  try {
    return Json::parse(read_body_text(request));
  } catch (const Json::parse_error& error) {
    throw malformed_json("at byte " + std::to_string(error.byte));
  }
}

namespace {

std::string string_field(const Json& body, const char* key) {
  if (!body.is_object() || !body.contains(key) || !body[key].is_string())
    throw ApiError(400, "invalid_request", std::string("missing string field \"") + key + "\"");
  return body[key].get<std::string>();
}

}  // namespace

ApiResponse json_response(const ApiRequest& request, const Json& body, int status) {
  return text_response(request, body.dump(), status);
}

ApiResponse text_response(const ApiRequest& request, std::string body, int status) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(body);
  // Compress when the caller can read it and it is worth it.
  if (request.header("Accept-Encoding").find(sync::kZstd) != std::string::npos && response.body.size() > 256) {
    response.body = compress::zstd_compress(response.body);
    response.headers.emplace_back("Content-Encoding", sync::kZstd);
  }
  return response;
}

namespace {

Json device_json(const Device& device) {
  return {{"id", device.id},           {"org", device.org_id},       {"name", device.name},
          {"role", role_name(device.role)}, {"revoked", device.revoked}, {"created", device.created_ms},
          {"last_seen", device.last_seen_ms}};
}

Json org_json(const Org& org) { return {{"id", org.id}, {"name", org.name}, {"created", org.created_ms}}; }

}  // namespace

std::string ApiRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) return value;
  return {};
}

std::string read_body(const ApiResponse& response) {
  if (!response.file) return response.body;
  const FileSlice& slice = *response.file;
  const int fd = ::open(slice.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot read " + slice.path + ": " + std::strerror(errno));
  std::string body(slice.length, '\0');
  const ssize_t n = ::pread(fd, body.data(), body.size(), static_cast<off_t>(slice.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(body.size())) throw std::runtime_error("cannot read " + slice.path);
  return body;
}

ApiResponse error_response(int status, const std::string& code, const std::string& message, const Json& extra) {
  Json body = extra.is_object() ? extra : Json::object();
  body["error"] = code;
  body["message"] = message;
  ApiResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

ApiResponse Api::handle(const ApiRequest& request) {
  try {
    return route(request);
  } catch (const ApiError& error) {
    return error_response(error.status(), error.code(), error.what(), error.extra());
  } catch (const std::invalid_argument& error) {
    return error_response(400, "invalid_request", error.what());
  } catch (const db::SqliteError& error) {
    log::error(std::string("storage error: ") + error.what());
    if (error.is_disk_full())
      return error_response(507, "storage_full", "the registry's disk is full; nothing was written");
    if (error.is_busy()) return error_response(503, "busy", "the registry is busy; try again");
    return error_response(500, "storage_error", "the registry could not store this request; nothing was written");
  } catch (const std::exception& error) {
    log::error(std::string("internal error: ") + error.what());
    return error_response(500, "internal_error", "the registry failed on this request; nothing was written");
  }
}

ApiResponse Api::route(const ApiRequest& request) {
  if (request.path.empty() || request.path[0] != '/') throw ApiError(400, "invalid_path", "bad request path");
  const std::vector<std::string> parts = split_path(request.path);
  const std::string& method = request.method;
  auto expect = [&](const char* wanted) {
    if (method != wanted)
      throw ApiError(405, "method_not_allowed", method + " is not allowed on " + request.path + "; use " + wanted);
  };
  auto bearer = [&] {
    const std::string value = request.header("Authorization");
    const std::string prefix = "Bearer ";
    return value.rfind(prefix, 0) == 0 ? value.substr(prefix.size()) : std::string();
  };

  if (parts.size() < 2 || parts[0] != "v1") throw ApiError(404, "not_found", "no such endpoint: " + request.path);
  const std::string& resource = parts[1];

  if (resource == "health" && parts.size() == 2) {
    expect("GET");
    return json_response(request, {{"status", "ok"}, {"service", "outpost-registry"}, {"clock", registry_.now_ms()}});
  }
  if (resource == "enroll" && parts.size() == 2) {
    expect("POST");
    const Json body = read_json_body(request);
    const Enrollment enrollment =
        registry_.enroll(string_field(body, "code"), string_field(body, "replica"), string_field(body, "name"));
    return json_response(request, {{"device", device_json(enrollment.device)},
                                   {"token", enrollment.token},
                                   {"org", org_json(enrollment.org)},
                                   {"collections", enrollment.collections},
                                   {"signing_key", registry_.signing_public_key()},
                                   {"clock", registry_.now_ms()}});
  }

  // Everything below needs credentials.
  const Principal who = registry_.authenticate(bearer());

  if (resource == "sync" && parts.size() == 2) {
    expect("POST");
    sync::SyncRequest sync_request;
    try {
      sync_request = sync::decode_request(read_body_text(request));
    } catch (const json_text::ParseError& error) {
      throw malformed_json(error.what());
    }
    return text_response(request, sync::encode_response(registry_.sync(who, sync_request)));
  }
  if (resource == "records" && parts.size() == 4) {
    expect("GET");
    return json_response(request, registry_.read_record(who, parts[2], parts[3]));
  }
  if (resource == "blobs") {
    if (!blobs_) throw ApiError(404, "not_found", "this registry does not serve files");
    return blobs_->handle(who, request, parts);
  }
  if (resource == "collections" && parts.size() == 2) {
    expect("GET");
    return json_response(request, {{"collections", registry_.collections()}});
  }
  if (resource == "orgs" && parts.size() == 2) {
    if (method == "POST") {
      if (!who.registry_admin) throw ApiError(403, "forbidden", "only registry admins can create organizations");
      return json_response(request, org_json(registry_.add_org(string_field(read_json_body(request), "name"))), 201);
    }
    expect("GET");
    Json orgs = Json::array();
    for (const Org& org : registry_.orgs(who)) orgs.push_back(org_json(org));
    return json_response(request, {{"orgs", orgs}});
  }
  if (resource == "invites" && parts.size() == 2) {
    expect("POST");
    const Json body = read_json_body(request);
    const std::string role_text = body.value("role", "field");
    auto role = role_from_name(role_text);
    if (!role) throw ApiError(400, "invalid_role", "role must be 'field' or 'admin', not '" + role_text + "'");
    return json_response(request, {{"code", registry_.invite(who, string_field(body, "org"), *role)}}, 201);
  }
  if (resource == "devices" && parts.size() == 2) {
    expect("GET");
    Json devices = Json::array();
    for (const Device& device : registry_.devices(who)) devices.push_back(device_json(device));
    return json_response(request, {{"devices", devices}});
  }
  if (resource == "devices" && parts.size() == 4 && parts[3] == "revoke") {
    expect("POST");
    registry_.revoke(who, parts[2]);
    return json_response(request, {{"revoked", parts[2]}});
  }
  throw ApiError(404, "not_found", "no such endpoint: " + request.path);
}

}  // namespace outpost::registry
