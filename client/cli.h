#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "sync/transport.h"

namespace outpost::client {

// Makes the transport to a registry URL; tests swap in their own.
using TransportFactory = std::function<std::unique_ptr<sync::Transport>(const std::string& registry_url)>;
TransportFactory curl_transport_factory();

// The outpost command line. Returns the process exit code: 0 done, 1 failed, 2 usage error.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const TransportFactory& transports = curl_transport_factory());

}  // namespace outpost::client
