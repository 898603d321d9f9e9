// outpost-curl.so: the one entry point of the module (client/curl_module.h).
#include "client/curl_module.h"

outpost::sync::Transport* outpost_curl_transport(const std::string& base_url,
                                                 const outpost::sync::CurlTransport::Options& options) {
  return new outpost::sync::CurlTransport(base_url, options);
}
