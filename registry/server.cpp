#include "registry/server.h"

#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <thread>

#include "platform/cli_args.h"
#include "platform/log.h"

namespace outpost::registry {

namespace {

ApiRequest to_api_request(const httplib::Request& request) {
  ApiRequest api_request;
  api_request.method = request.method;
  api_request.path = request.path;
  for (const auto& [name, value] : request.headers) api_request.headers.emplace_back(name, value);
  api_request.body = request.body;
  return api_request;
}

void write_response(const ApiResponse& api_response, httplib::Response& response) {
  response.status = api_response.status;
  for (const auto& [name, value] : api_response.headers) response.set_header(name, value);
  if (!api_response.file || api_response.file->length == 0) {
    response.set_content(api_response.body, api_response.content_type.c_str());
    return;
  }
  // A file is streamed from disk piece by piece, never held whole in memory.
  const FileSlice slice = *api_response.file;
  auto file = std::make_shared<std::ifstream>(slice.path, std::ios::binary);
  response.set_content_provider(
      slice.length, api_response.content_type,
      [file, slice](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buffer(std::min<size_t>(length, 256 * 1024));
        file->seekg(static_cast<std::streamoff>(slice.offset + offset));
        file->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        return file->gcount() == static_cast<std::streamsize>(buffer.size()) && sink.write(buffer.data(), buffer.size());
      });
}

}  // namespace

std::pair<std::string, int> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw cli::UsageError("--listen wants HOST:PORT, e.g. 127.0.0.1:8440");
  const std::string host = listen.substr(0, colon);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (host.empty() || port < 0 || port > 65535) throw cli::UsageError("--listen wants HOST:PORT with a port from 0 to 65535");
  return {host, port};
}

void serve(const ApiHandler& handle, const std::string& host, int port, const std::function<void(const std::string&, int)>& on_listening) {
  // Signals are taken by one thread with sigwait, so stopping is not done inside a handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  httplib::Server server;
  server.set_payload_max_length(sync::kMaxCompressedBody);
  server.set_read_timeout(60, 0);
  server.set_write_timeout(60, 0);
  server.set_keep_alive_max_count(1000);
  // Headers and body leave in separate writes: without this, Nagle and delayed ACKs cost ~40 ms
  // on every answer.
  server.set_tcp_nodelay(true);
  auto handler = [&handle](const httplib::Request& request, httplib::Response& response) {
    // httplib would apply a Range header again to whatever the API answers (error bodies
    // included); the API answers ranges itself. The request object is httplib's own non-const
    // one, handed to handlers as const.
    const_cast<httplib::Request&>(request).ranges.clear();
    write_response(handle(to_api_request(request)), response);
  };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  // httplib reads a body with neither length nor chunking until the client closes. Methods the
  // API never accepts, and a PUT without a length, are answered without reading a body; a POST
  // without a length is refused; none of them ties up a worker thread.
  server.set_pre_routing_handler([&handle](const httplib::Request& request, httplib::Response& response) {
    if (request.method == "GET" || request.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    if (request.method == "PUT" && request.has_header("Content-Length"))
      return httplib::Server::HandlerResponse::Unhandled;  // file chunks
    if (request.method == "POST") {
      if (request.has_header("Content-Length") || request.has_header("Transfer-Encoding"))
        return httplib::Server::HandlerResponse::Unhandled;
      write_response(error_response(411, "length_required", "send the body with a Content-Length header"), response);
    } else {
      ApiRequest bodiless = to_api_request(request);
      bodiless.body.clear();
      write_response(handle(bodiless), response);
    }
    response.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib raises itself (an oversized body, a malformed request line) still answer JSON.
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    const bool too_large = response.status == 413;
    const ApiResponse error = error_response(
        response.status, too_large ? "too_large" : "bad_request",
        too_large ? "request body is larger than " + std::to_string(sync::kMaxCompressedBody) + " bytes"
                  : "the request could not be read (HTTP " + std::to_string(response.status) + ")");
    write_response(error, response);
  });

  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + " (in use?)");

  std::thread signal_waiter([&server, signals] {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    log::info("stopping on signal " + std::to_string(signal_number));
    server.stop();
  });
  on_listening(host, bound);
  const bool ok = server.listen_after_bind();
  // Wake the signal thread if the server ended for another reason.
  if (signal_waiter.joinable()) {
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
    signal_waiter.join();
  }
  if (!ok && server.is_running()) throw std::runtime_error("the HTTP server stopped unexpectedly");
}

}  // namespace outpost::registry
