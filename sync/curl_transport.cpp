#include "sync/curl_transport.h"

#include <curl/curl.h>

#include <exception>

namespace outpost::sync {

namespace {

// Where the body of one answer goes: into the response, or to the request's on_body.
struct BodyTarget {
  CURL* curl;
  const HttpRequest& request;
  HttpResponse& response;
  std::exception_ptr failure;  // thrown by on_body; rethrown once curl has stopped
};

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto& target = *static_cast<BodyTarget*>(user);
  if (!target.request.on_body) {
    target.response.body.append(data, size * count);
    return size * count;
  }
  try {
    long status = 0;
    curl_easy_getinfo(target.curl, CURLINFO_RESPONSE_CODE, &status);
    target.response.status = static_cast<int>(status);
    target.request.on_body(target.response, std::string_view(data, size * count));
    return size * count;
  } catch (...) {
    target.failure = std::current_exception();
    return 0;  // makes curl abandon the transfer
  }
}

size_t collect_header(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto trim = [](std::string text) {
      const auto begin = text.find_first_not_of(" \t\r\n");
      const auto end = text.find_last_not_of(" \t\r\n");
      return begin == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
    };
    static_cast<HttpResponse*>(user)->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return size * count;
}

int check_cancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(user))() ? 1 : 0;
}

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~GlobalInit() { curl_global_cleanup(); }
};

}  // namespace

// One easy handle per transport, reused so the connection stays open between batches.
struct CurlTransport::Handle {
  CURL* curl = nullptr;
  Handle() {
    static GlobalInit init;
    curl = curl_easy_init();
    if (!curl) throw TransportError("libcurl could not be initialised");
  }
  ~Handle() { curl_easy_cleanup(curl); }
};

CurlTransport::CurlTransport(std::string base_url) : CurlTransport(std::move(base_url), Options{}) {}

CurlTransport::CurlTransport(std::string base_url, Options options)
    : base_url_(std::move(base_url)), options_(options), handle_(std::make_unique<Handle>()) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

CurlTransport::~CurlTransport() = default;

HttpResponse CurlTransport::send(const HttpRequest& request) {
  CURL* curl = handle_->curl;
  curl_easy_reset(curl);
  const std::string url = base_url_ + request.path;
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  // No "Expect: 100-continue" round trip before each body: it costs a full RTT on slow links.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
  BodyTarget body_target{curl, request, response, nullptr};
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body_target);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (options_.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancelled);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &options_.cancelled);
  }
  // POST, and any other method with a body (PUT), send it as the request body.
  if (request.method == "POST" || (request.method != "GET" && !request.body.empty())) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method != "GET" && request.method != "POST")
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (body_target.failure) std::rethrow_exception(body_target.failure);
  if (code == CURLE_ABORTED_BY_CALLBACK) throw TransportError("the exchange with " + base_url_ + " was cancelled");
  if (code != CURLE_OK)
    throw TransportError("cannot reach the registry at " + base_url_ + ": " +
                         (error[0] ? std::string(error) : std::string(curl_easy_strerror(code))));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace outpost::sync
