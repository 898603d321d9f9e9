// The client's core, shared by the CLI and (later) the window: one home directory holding the
// replica, the enrollment and the lock that keeps two syncs from running at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sync/blob_transfer.h"
#include "sync/engine.h"
#include "sync/replica.h"

namespace outpost::client {

struct Enrollment {
  std::string registry_url;
  std::string token;
  std::string device_id;
  std::string org_id;
  std::string org_name;
  std::string role;
};

class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a sync moved besides records: the files of sent submissions (client/attachments.h).
struct AttachmentUploads {
  // One per file: sent, `skipped` when the registry already held it for this organization, or
  // `refused` by the registry with its reason.
  std::vector<sync::TransferReport> files;

  size_t sent() const;
  size_t refused() const;  // refused by the registry (AttachmentStore::refused_uploads)
  uint64_t bytes_moved() const;
  uint64_t resumed_bytes() const;  // delivered by an earlier, interrupted sync
};

struct HomeSyncReport {
  sync::SyncReport records;
  AttachmentUploads attachments;
};

class Home {
 public:
  // Creates the directory (private to the user) and opens or creates its replica.
  explicit Home(const std::string& directory);
  static std::string default_directory();
  // The name a device enrolls under unless told otherwise: its host name.
  static std::string default_device_name();

  sync::Replica& replica() { return *replica_; }
  const std::string& directory() const { return directory_; }

  std::optional<Enrollment> enrollment();
  // Joins a registry with a one-time code. Safe to retry after a cut connection.
  Enrollment enroll(const std::string& registry_url, const std::string& code, const std::string& device_name,
                    sync::Transport& transport);
  // The registry's public signing key (hex), received at enrollment: what checks materials that
  // arrive by bundle or from another device, offline. ClientError when the device is not
  // enrolled, or enrolled before registries signed (it has to enroll again).
  std::string registry_signing_key();
  // Collections the registry accepts (known once enrolled); empty when not enrolled.
  std::vector<std::string> collections();
  // Throws ClientError naming the known collections when `collection` is not one of them.
  void check_collection(const std::string& collection);

  // Runs a sync under the home's lock and records its result for `status`: the records first,
  // then the files of the submissions they sent (so an urgent report is acknowledged before any
  // photo moves). A failed file upload is a retryable SyncError; the next sync resumes it.
  HomeSyncReport sync(sync::Transport& transport, const sync::SyncOptions& options = {});

 private:
  std::string directory_;
  std::unique_ptr<sync::Replica> replica_;
};

}  // namespace outpost::client
