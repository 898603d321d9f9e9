// The files that answer image and file questions on this device (docs/forms.md, "Attachments").
// Each is copied into a content-addressed store, HOME/attachments, when it is chosen: the
// submission keeps working if the original is deleted or the memory card is swapped, and a
// photo attached to two submissions is stored once. After a sync has sent the records, the files
// of sent submissions that the registry does not hold yet follow, chunk by chunk and resumably,
// so an urgent report never waits behind a large photo.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "client/home.h"
#include "form_records/form_records.h"
#include "sync/blob_transfer.h"

namespace outpost::client {

// A file the registry refused the last time it was sent (client/attachments.cpp asks again at
// every sync; the file stays on the device).
struct RefusedUpload {
  std::string sha256;
  std::string reason;  // the registry's answer, in a sentence
  int64_t refused_ms = 0;
};

class AttachmentStore {
 public:
  // quota_bytes 0: only the disk's free space limits attachments (the library's quota does not
  // apply: a report is never refused to make room for reading material).
  explicit AttachmentStore(Home& home, uint64_t quota_bytes = 0);

  // Copies the file at `path` into the store and describes it under its file name. `where` (the
  // question, "members[2].photo") begins every error: ClientError for a file that is missing,
  // unreadable or not a regular file; sync::QuotaExceeded when it does not fit.
  std::pair<std::string, form_records::Attachment> add(const std::string& path, const std::string& where);
  // The same for the answer to an image question: the file must be an image (JPEG, PNG, GIF,
  // WebP, HEIC/HEIF, BMP or TIFF, told by its first bytes, whatever its name), and is described
  // with that type. ClientError otherwise, naming the question and the path; nothing is stored.
  std::pair<std::string, form_records::Attachment> add_image(const std::string& path, const std::string& where);
  // Where the stored file is; "" when this device does not hold it.
  std::string path(const std::string& sha256) const;

  // The files of sent submissions (finalized and acknowledged) not yet known to be on the
  // registry, oldest submission first.
  std::vector<std::string> waiting_uploads();
  // Sends them; each one the registry confirms is not asked about again. One it refuses is kept
  // in refused_uploads() with the reason, and the others go on. Throws sync::BlobError when the
  // transfer itself fails; what was delivered stays delivered, and the next call resumes.
  AttachmentUploads upload(sync::Transport& transport, const std::string& token,
                           const sync::TransferOptions& options = {});
  // The files the registry refused at their last attempt, oldest first.
  std::vector<RefusedUpload> refused_uploads();
  // What the stored files take on disk (a walk of the store).
  uint64_t used_bytes() const { return store_.used_bytes(); }

 private:
  Home& home_;
  sync::BlobStore store_;
};

}  // namespace outpost::client
