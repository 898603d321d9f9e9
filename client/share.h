// Sharing the library on a LAN: a device serves its materials (signed catalog records and their
// files) and forms read-only over HTTP, and devices nearby pull them, each file checked against
// the registry's signature before a byte of it moves (docs/protocol.md, "Sharing on a LAN").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "client/home.h"
#include "sync/blob_transfer.h"

namespace outpost::client {

// Serves `home` on host:port (port 0 picks a free one) until SIGINT or SIGTERM; calls
// on_listening with the bound address first. What is served: the materials whose files this
// device holds, and its forms.
void serve_share(Home& home, const std::string& host, int port,
                 const std::function<void(const std::string&, int)>& on_listening);

struct PullReport {
  size_t materials = 0;     // materials offered, all now on this device
  size_t forms = 0;
  size_t downloaded = 0;    // files fetched (the others were here already)
  uint64_t bytes_moved = 0;
  uint64_t resumed_bytes = 0;  // verified in an earlier, interrupted pull
};

// Fetches every material the device behind `peer` offers, and its forms: the files this device
// lacks are downloaded like any other (resuming, chunk by chunk verified) after their manifest
// matched the registry's signature; the records merge once every file is in, and the materials
// are pinned. Throws ClientError or sync::BlobError; what was verified stays for the next pull.
PullReport pull_from(Home& home, sync::Transport& peer, const sync::TransferOptions& options = {});

}  // namespace outpost::client
