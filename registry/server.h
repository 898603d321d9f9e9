#pragma once

#include <functional>
#include <string>

#include "registry/api.h"

namespace outpost::registry {

// Serves the API over HTTP on host:port (port 0 picks a free one). Calls on_listening with the
// bound address once the socket accepts connections; returns when stop_server() is called or
// SIGINT/SIGTERM arrives.
void serve(Api& api, const std::string& host, int port, const std::function<void(const std::string&, int)>& on_listening);

}  // namespace outpost::registry
