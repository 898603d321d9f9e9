// HTTP to the registry through libcurl, in the module outpost-curl.so (client/modules.h) that
// the first sync or download loads (curl_transport_factory, client/cli.h): libcurl and the 22
// libraries only it needs cost every start of outpost about 10 ms of CPU before main here, and
// the window's first frame waited for them.
#pragma once

#include <string>

#include "sync/curl_transport.h"

// The module's entry point: a new CurlTransport, owned by the caller.
extern "C" outpost::sync::Transport* outpost_curl_transport(const std::string& base_url,
                                                            const outpost::sync::CurlTransport::Options& options);
using OutpostCurlTransport = decltype(&outpost_curl_transport);
inline constexpr char kOutpostCurlTransportSymbol[] = "outpost_curl_transport";
