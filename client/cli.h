#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "sync/curl_transport.h"
#include "sync/transport.h"

namespace outpost::client {

// Makes the transport to a registry URL; tests swap in their own.
using TransportFactory = std::function<std::unique_ptr<sync::Transport>(const std::string& registry_url)>;
// Transports over libcurl from the module outpost-curl.so (client/curl_module.h), loaded by the
// first transport made; making one throws ClientError when the module cannot be loaded.
TransportFactory curl_transport_factory(sync::CurlTransport::Options options = {});

// The outpost command line. Returns the process exit code: 0 done, 1 failed, 2 usage error.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const TransportFactory& transports = curl_transport_factory());

}  // namespace outpost::client
