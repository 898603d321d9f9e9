// An in-process registry and a transport to it, for tests that exercise the real engine, API
// and merge without sockets. The transport can lose requests and answers, and send twice.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "platform/clock.h"
#include "registry/api.h"
#include "registry/blobs.h"
#include "registry/sqlite_store.h"
#include "sync/replica.h"
#include "sync/transport.h"

namespace outpost::test {

struct InProcessRegistry {
  // With a `blob_directory`, the registry serves and receives files too.
  explicit InProcessRegistry(const Clock& clock, const std::string& path = ":memory:",
                             const std::string& blob_directory = "")
      : store(path),
        registry(store, clock),
        blobs(blob_directory.empty() ? nullptr
                                     : std::make_unique<registry::BlobService>(
                                           blob_directory, 0, clock,
                                           [this](const registry::Device& device, const std::string& sha256) {
                                             return registry.file_referenced(device.org_id, sha256);
                                           })),
        api(registry, blobs.get()) {}
  registry::SqliteStore store;
  registry::Registry registry;
  std::unique_ptr<registry::BlobService> blobs;
  registry::Api api;

  registry::ApiResponse call(const sync::HttpRequest& request) {
    return api.handle(registry::ApiRequest{request.method, request.path, request.headers, request.body});
  }
};

// What a faulty link does to one request.
enum class Fault { None, LoseRequest, LoseAnswer, SendTwice };

class InProcessTransport final : public sync::Transport {
 public:
  explicit InProcessTransport(InProcessRegistry& registry) : registry_(registry) {}

  std::function<Fault()> faults;        // asked before each request; none when unset
  std::vector<sync::HttpRequest> sent;  // every request that reached the registry

  sync::HttpResponse send(const sync::HttpRequest& request) override {
    const Fault fault = faults ? faults() : Fault::None;
    if (fault == Fault::LoseRequest) throw sync::TransportError("test: request lost");
    sent.push_back(request);
    registry::ApiResponse answer = registry_.call(request);
    if (fault == Fault::SendTwice) answer = registry_.call(request);
    if (fault == Fault::LoseAnswer) throw sync::TransportError("test: answer lost");
    sync::HttpResponse response{answer.status, answer.headers, registry::read_body(answer)};
    if (request.on_body) {
      request.on_body(sync::HttpResponse{response.status, response.headers, {}}, response.body);
      response.body.clear();
    }
    return response;
  }

 private:
  InProcessRegistry& registry_;
};

// Answers the requests whose path starts with `path_prefix` itself, with `status` and the
// registry's kind of error body (a size limit, a failing file service); passes the others on.
class InterceptingTransport final : public sync::Transport {
 public:
  InterceptingTransport(sync::Transport& inner, std::string path_prefix, int status, const std::string& message)
      : inner_(inner), prefix_(std::move(path_prefix)), answer_{status, {{"Content-Type", "application/json"}}, ""} {
    answer_.body = sync::Json{{"error", "intercepted"}, {"message", message}}.dump();
  }
  // Owning the transport it passes requests to.
  InterceptingTransport(std::unique_ptr<sync::Transport> inner, std::string path_prefix, int status,
                        const std::string& message)
      : InterceptingTransport(*inner, std::move(path_prefix), status, message) {
    owned_ = std::move(inner);
  }
  sync::HttpResponse send(const sync::HttpRequest& request) override {
    return request.path.rfind(prefix_, 0) == 0 ? answer_ : inner_.send(request);
  }

 private:
  std::unique_ptr<sync::Transport> owned_;
  sync::Transport& inner_;
  std::string prefix_;
  sync::HttpResponse answer_;
};

// Enrolls `replica` with a fresh invite to `org_id`; returns the device token.
inline std::string enroll(InProcessRegistry& registry, sync::Replica& replica, const std::string& org_id,
                          const std::string& name, registry::Role role = registry::Role::Field) {
  const std::string code = registry.registry.invite(registry::Registry::cli_admin(), org_id, role);
  InProcessTransport transport(registry);
  sync::HttpRequest request;
  request.path = "/v1/enroll";
  request.body = sync::Json{{"code", code}, {"replica", replica.replica_id()}, {"name", name}}.dump();
  const sync::HttpResponse answer = transport.send(request);
  if (answer.status != 200) throw std::runtime_error("enroll failed: " + answer.body);
  const std::string token = sync::Json::parse(answer.body)["token"].get<std::string>();
  replica.set_setting("token", token);
  return token;
}

}  // namespace outpost::test
