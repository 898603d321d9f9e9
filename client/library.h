// The library on a device: the catalog of materials (records of the `materials` collection the
// registry publishes), their files (pinned ones downloaded into <home>/blobs, resumably) and a
// full-text index over title, summary, tags and the files' text that works offline, in any
// language, accents or not.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/home.h"
#include "sync/blob_transfer.h"
#include "sync/material_record.h"

namespace outpost::client {

enum class DownloadState { NotDownloaded, Partial, Downloaded };
std::string state_name(DownloadState state);  // "not_downloaded", "partial", "downloaded"

struct Material {
  std::string id;
  sync::MaterialInfo info;
  bool pinned = false;
  DownloadState state = DownloadState::NotDownloaded;
  uint64_t stored_bytes = 0;  // on this device: the file, or the verified part of a download
};

// A file verified elsewhere, to be stored with the chunk size its material's record names.
struct ReceivedFile {
  std::string path;
  uint32_t chunk_size = sync::kBlobChunkSize;
};

struct SearchHit {
  Material material;
  std::string snippet;  // the best matching passage, matches between ** and **
  double score = 0;     // bm25: the lower, the better
};

// The languages and themes (tags) of the whole catalog, to filter by.
struct CatalogFacets {
  std::vector<std::string> languages;
  std::vector<std::string> themes;
};

// Reading the catalog into the index was stopped (Library's `cancelled`); the index is as it was.
class LibraryCancelled : public ClientError {
 public:
  using ClientError::ClientError;
};

class Library {
 public:
  // Opens the library of `home`, bringing the search index up to date when the catalog moved
  // since it was last read (a sync pulled changes). Files stay within the storage quota set on
  // the home (set_quota), and the disk's free space.
  // `cancelled` is asked between materials while the catalog is read into the index (here, when
  // the index is behind, and by refresh()): true stops the reading with LibraryCancelled, so a
  // closing window need not wait for a large catalog (seconds at 100,000 materials).
  explicit Library(Home& home, std::function<bool()> cancelled = {});

  // Live materials, by title.
  std::vector<Material> catalog();
  // The same from the index, a window at a time: how many are in `language` and have the tag
  // `theme` ("" for any), and those at positions [first, first + count).
  int64_t count(const std::string& language, const std::string& theme);
  std::vector<Material> page(const std::string& language, const std::string& theme, int64_t first, int64_t count);
  // Read from the index when first asked, then kept until the index changes.
  const CatalogFacets& facets();
  // Throws ClientError for an unknown or withdrawn material.
  Material material(const std::string& id);
  // Materials whose title, summary, tags or text hold every word of `query` (words may be
  // beginnings: "consult" finds "consultative"), best first. Case and accents do not matter.
  std::vector<SearchHit> search(const std::string& query, size_t limit = 20);

  // Keeps the material's file on this device: downloads it now, resuming an interrupted
  // download, and indexes its text. Throws sync::BlobError (QuotaExceeded when it does not fit)
  // or ClientError; what was verified stays for the next attempt.
  sync::TransferReport pin(const std::string& id, sync::Transport& transport, const sync::TransferOptions& options = {});
  // The file stays until evicted; it is no longer kept on purpose.
  void unpin(const std::string& id);
  // Deletes the material's file and any unfinished download of it, and unpins it. A file that
  // another pinned material shares stays. Returns the bytes freed.
  uint64_t evict(const std::string& id);
  // Where the downloaded file is; ClientError when it is not on this device.
  std::string local_path(const std::string& id);

  // Materials that arrived another way than from the registry (a bundle, a device nearby), their
  // files verified against the registry's signature already: the files go into the store, then
  // the records (forms too) merge in one transaction, and the materials are pinned. Throws
  // sync::QuotaExceeded, with nothing stored, when the files do not fit.
  void receive(const std::vector<sync::PulledRecord>& records, const std::vector<ReceivedFile>& verified_files);
  // The files on this device (LAN sharing downloads into it and serves from it).
  sync::BlobStore& files() { return store_; }

  uint64_t used_bytes() { return store_.used_bytes(); }
  uint64_t quota_bytes() const { return store_.quota_bytes(); }
  // 0: only the disk's free space limits downloads.
  static void set_quota(Home& home, uint64_t bytes);

  // Reads the catalog into the search index: new and changed materials, files that arrived,
  // withdrawn materials (whose pins and files go too). Returns the entries rewritten.
  size_t refresh();
  // The same when a sync has moved the replica since the index was last read: every material
  // record is read again (about a second with 100,000).
  void refresh_if_stale();

 private:
  struct Entry;
  Material describe(const std::string& id, sync::MaterialInfo info);
  struct IndexChanges;
  // Brings one material's entry up to date.
  void refresh_material(const std::string& id);
  // Adds what the index must change for `record` to `changes`.
  void plan_entry(const sync::Record& record, IndexChanges& changes);
  // Writes the entries and withdrawals planned, and empties them (the caller holds the
  // transaction); returns how many.
  size_t write_entries(IndexChanges& changes);
  void remove_withdrawn_files(const std::set<std::string>& files);

  Home& home_;
  db::Database& db_;
  sync::BlobStore store_;
  std::function<bool()> cancelled_;
  std::optional<CatalogFacets> facets_;
};

}  // namespace outpost::client
