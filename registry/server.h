#pragma once

#include <functional>
#include <string>
#include <utility>

#include "registry/api.h"

namespace outpost::registry {

// "HOST:PORT" as --listen takes it; cli::UsageError when it is not one.
std::pair<std::string, int> parse_listen(const std::string& listen);

using ApiHandler = std::function<ApiResponse(const ApiRequest&)>;

// Serves an API (the registry's Api::handle, a device's share) over HTTP on host:port (port 0 picks a free one). Calls on_listening with the
// bound address once the socket accepts connections; returns when stop_server() is called or
// SIGINT/SIGTERM arrives.
void serve(const ApiHandler& handle, const std::string& host, int port, const std::function<void(const std::string&, int)>& on_listening);

}  // namespace outpost::registry
