#include "client/attachments.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string_view>

#include "platform/clock.h"
#include "platform/log.h"
#include "sync/material_record.h"

namespace outpost::client {

namespace records = form_records;

namespace {

// The files the registry confirmed it holds, so later syncs do not ask about them again; and
// those it refused last time it was asked, with its reason (asked again at every sync).
const char* const kAttachmentSchema = R"sql(
CREATE TABLE IF NOT EXISTS attachment_uploads(sha256 TEXT PRIMARY KEY, uploaded_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachment_refusals(sha256 TEXT PRIMARY KEY, reason TEXT NOT NULL,
                                               refused_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// The image type a file's first bytes announce; nullopt when they announce none.
std::optional<std::string> image_type(const std::string& path) {
  char head[16] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(head, sizeof head);
  const std::string_view bytes(head, static_cast<size_t>(in.gcount()));
  auto starts = [&](std::string_view prefix, size_t at = 0) {
    return bytes.size() >= at + prefix.size() && bytes.substr(at, prefix.size()) == prefix;
  };
  if (starts("\xFF\xD8\xFF")) return "image/jpeg";
  if (starts("\x89PNG\r\n\x1A\n")) return "image/png";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "image/webp";
  if (starts("ftyp", 4) && (starts("heic", 8) || starts("heix", 8) || starts("mif1", 8) || starts("msf1", 8)))
    return "image/heic";  // what phones save photos as
  if (starts("BM")) return "image/bmp";
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4))) return "image/tiff";
  return std::nullopt;
}

// POST /v1/blobs/have takes at most 1000 hashes.
constexpr size_t kFilesPerHaveRequest = 500;

}  // namespace

AttachmentStore::AttachmentStore(Home& home, uint64_t quota_bytes)
    : home_(home), store_(home.directory() + "/attachments", quota_bytes) {
  home_.replica().database().exec(kAttachmentSchema);
}

std::pair<std::string, records::Attachment> AttachmentStore::add(const std::string& path, const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (path.empty() || !fs::exists(status))
    throw ClientError(where + ": no file " + (path.empty() ? "was given" : path));
  if (!fs::is_regular_file(status)) throw ClientError(where + ": " + path + " is not a file");
  if (!std::ifstream(path, std::ios::binary)) throw ClientError(where + ": cannot read " + path + " (permissions?)");
  const std::string name = fs::path(path).filename().string();
  if (!records::is_attachment_name(name))
    throw ClientError(where + ": the file name of " + path + " cannot be kept (control characters)");
  sync::BlobManifest manifest;
  try {
    manifest = store_.add_file(path);
  } catch (const sync::QuotaExceeded& full) {
    throw sync::QuotaExceeded(where + ": " + path + " does not fit on this device: " + full.what());
  } catch (const sync::BlobError& failed) {
    throw ClientError(where + ": " + failed.what());
  }
  return {name, records::Attachment{manifest.sha256, manifest.size, sync::media_type_for(name)}};
}

std::pair<std::string, records::Attachment> AttachmentStore::add_image(const std::string& path,
                                                                        const std::string& where) {
  const std::optional<std::string> type = image_type(path);
  if (!type) {
    if (!std::filesystem::is_regular_file(path)) return add(path, where);  // says what is wrong with it
    throw ClientError(where + ": " + path + " is not an image (JPEG, PNG, GIF, WebP, HEIC, BMP or TIFF)");
  }
  auto added = add(path, where);
  added.second.media_type = *type;
  return added;
}

std::string AttachmentStore::path(const std::string& sha256) const {
  return store_.contains(sha256) ? store_.path(sha256) : std::string();
}

std::vector<std::string> AttachmentStore::waiting_uploads() {
  sync::Replica& replica = home_.replica();
  // Submissions the registry does not hold as written: not acknowledged yet (their record goes
  // first), or refused (it will never name their files, and would refuse them too).
  const std::set<std::string> unsent = replica.unsent_ids(records::kSubmissionsCollection);
  std::set<std::string> handled;  // uploaded, or already waiting
  auto& select = replica.database().prepare("SELECT sha256 FROM attachment_uploads");
  while (select.step()) handled.insert(select.text(0));

  std::vector<std::string> waiting;
  replica.for_each_record_with(records::kSubmissionsCollection, records::kAttachmentsField, [&](sync::Record&& record) {
    if (unsent.count(record.id)) return;
    const sync::Json fields = record.values();
    if (fields.value("state", "") != records::kFinalized) return;
    try {
      for (const auto& [name, attachment] : records::attachments_from_json(fields[records::kAttachmentsField])) {
        // Files this device does not hold belong to another device's submissions.
        if (store_.contains(attachment.sha256) && handled.insert(attachment.sha256).second)
          waiting.push_back(attachment.sha256);
      }
    } catch (const records::RecordError& error) {
      log::warn("submission " + record.id + " names no files that can be sent: " + error.what());
    }
  });
  return waiting;
}

AttachmentUploads AttachmentStore::upload(sync::Transport& transport, const std::string& token,
                                          const sync::TransferOptions& options) {
  const std::vector<std::string> waiting = waiting_uploads();
  AttachmentUploads result;
  if (waiting.empty()) return result;
  sync::BlobTransfer transfer(store_, transport, token, options);
  db::Database& db = home_.replica().database();
  for (size_t start = 0; start < waiting.size(); start += kFilesPerHaveRequest) {
    const std::vector<std::string> batch(waiting.begin() + static_cast<std::ptrdiff_t>(start),
                                         waiting.begin() + static_cast<std::ptrdiff_t>(
                                                               std::min(waiting.size(), start + kFilesPerHaveRequest)));
    const std::vector<sync::TransferReport> reports = transfer.upload(batch);
    db::Transaction tx(db);
    const int64_t now = SystemClock::instance().now_ms();
    for (const sync::TransferReport& report : reports) {
      result.files.push_back(report);
      if (!report.refused.empty()) {
        log::warn(report.refused);
        db.prepare("INSERT OR REPLACE INTO attachment_refusals(sha256, reason, refused_at) VALUES(?, ?, ?)")
            .bind(1, report.sha256)
            .bind(2, report.refused)
            .bind(3, now)
            .run();
        continue;
      }
      db.prepare("INSERT OR REPLACE INTO attachment_uploads(sha256, uploaded_at) VALUES(?, ?)")
          .bind(1, report.sha256)
          .bind(2, now)
          .run();
      db.prepare("DELETE FROM attachment_refusals WHERE sha256=?").bind(1, report.sha256).run();
    }
    tx.commit();
  }
  return result;
}

std::vector<RefusedUpload> AttachmentStore::refused_uploads() {
  auto& rows = home_.replica().database().prepare(
      "SELECT sha256, reason, refused_at FROM attachment_refusals ORDER BY refused_at, sha256");
  std::vector<RefusedUpload> refused;
  while (rows.step()) refused.push_back({rows.text(0), rows.text(1), rows.int64(2)});
  return refused;
}

}  // namespace outpost::client
