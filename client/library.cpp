#include "client/library.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "client/text_extraction.h"
#include "platform/log.h"

namespace outpost::client {

using sync::Json;
using sync::MaterialInfo;

namespace {

// The library's tables live in the replica's database; they are derived from its records and
// the files on this device, and can be rebuilt from them at any time.
const char* const kLibrarySchema = R"sql(
CREATE TABLE IF NOT EXISTS library_pins(material TEXT PRIMARY KEY, pinned_at INTEGER NOT NULL) WITHOUT ROWID;
-- One entry per live material: the version of its record it holds (the newest stamp among its
-- fields), its file and the file its text was read from, and what the list sorts (title_key, the title in
-- lower case) and filters by (lang; tags, a JSON array), so a long list is read a window at a time.
CREATE TABLE IF NOT EXISTS library_entries(
  id INTEGER PRIMARY KEY, material TEXT NOT NULL UNIQUE, version TEXT NOT NULL, text_sha256 TEXT,
  sha256 TEXT NOT NULL, title_key TEXT NOT NULL, lang TEXT NOT NULL, tags TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS library_entries_by_title ON library_entries(title_key, material);
CREATE VIRTUAL TABLE IF NOT EXISTS library_search USING fts5(
  title, summary, tags, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE TABLE IF NOT EXISTS library_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
)sql";

// 2: entries carry what the list sorts and filters by. The index of another version is dropped
// and read again from the records and files.
constexpr char kLibraryIndexVersion[] = "2";

// The materials in `language` with the tag `theme` ("" for any), as a condition on library_entries.
constexpr char kFilteredEntries[] =
    "FROM library_entries WHERE (?1 = '' OR lang = ?1) "
    "AND (?2 = '' OR EXISTS(SELECT 1 FROM json_each(library_entries.tags) WHERE value = ?2)) ";

constexpr char kQuotaSetting[] = "storage_quota_bytes";
// Index entries held in memory at once while the catalog is read.
constexpr size_t kIndexWriteBatch = 1000;

uint64_t stored_quota(Home& home) {
  const auto quota = home.replica().setting(kQuotaSetting);
  return quota ? std::stoull(*quota) : 0;
}

// The newest stamp among a record's fields: it moves whenever the record changes.
std::string record_version(const sync::Record& record) {
  sync::Stamp newest;
  for (const auto& [name, field] : record.fields) newest = std::max(newest, field.stamp);
  if (record.tombstone) newest = std::max(newest, record.tombstone->stamp);
  return std::to_string(newest.hlc) + ":" + newest.replica;
}

std::optional<MaterialInfo> info_of(const sync::Record& record) {
  try {
    return MaterialInfo::from_fields(record.values());
  } catch (const std::invalid_argument& error) {
    log::warn("material " + record.id + " is left out of the library: " + error.what());
    return std::nullopt;
  }
}

// A person's words as an FTS5 query: every word required, each matching words that begin with
// it. Quoting each word keeps FTS5's own syntax (AND, NEAR, *, ^, :) out of people's hands.
std::string fts_query(const std::string& words) {
  std::string query;
  size_t start = 0;
  while (start < words.size()) {
    const size_t end = std::min(words.find_first_of(" \t\r\n", start), words.size());
    std::string word = words.substr(start, end - start);
    start = end + 1;
    word.erase(std::remove(word.begin(), word.end(), '"'), word.end());
    // A word needs a letter or digit (any non-ASCII byte may be one) to match anything.
    if (std::none_of(word.begin(), word.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
        }))
      continue;
    query += (query.empty() ? "\"" : " \"") + word + "\"*";
  }
  return query;
}

std::string joined_tags(const std::vector<std::string>& tags) {
  std::string text;
  for (const std::string& tag : tags) text += (text.empty() ? "" : " ") + tag;
  return text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::string state_name(DownloadState state) {
  switch (state) {
    case DownloadState::Downloaded: return "downloaded";
    case DownloadState::Partial: return "partial";
    case DownloadState::NotDownloaded: break;
  }
  return "not_downloaded";
}

// What the index should hold for one material.
struct Library::Entry {
  std::string material;
  std::string version;
  MaterialInfo info;
  std::optional<std::string> text_sha256;  // the file `body` comes from
  std::optional<std::string> body;         // nullopt: the text indexed before still holds
};

Library::Library(Home& home, std::function<bool()> cancelled)
    : home_(home),
      db_(home.replica().database()),
      store_(home.directory() + "/blobs", stored_quota(home)),
      cancelled_(std::move(cancelled)) {
  db_.exec("CREATE TABLE IF NOT EXISTS library_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
  auto& version = db_.prepare("SELECT value FROM library_meta WHERE key='index_version'");
  const bool current = version.step() && version.text(0) == kLibraryIndexVersion;
  version.reset();
  db::Transaction tx(db_);
  if (!current) {
    db_.exec("DROP TABLE IF EXISTS library_entries; DROP TABLE IF EXISTS library_search; DELETE FROM library_meta");
    db_.prepare("INSERT INTO library_meta(key, value) VALUES('index_version', ?)").bind(1, kLibraryIndexVersion).run();
  }
  db_.exec(kLibrarySchema);
  tx.commit();
  refresh_if_stale();
}

void Library::set_quota(Home& home, uint64_t bytes) { home.replica().set_setting(kQuotaSetting, std::to_string(bytes)); }

// --- Reading the catalog

Material Library::describe(const std::string& id, MaterialInfo info) {
  Material material;
  material.id = id;
  auto& pinned = db_.prepare("SELECT EXISTS(SELECT 1 FROM library_pins WHERE material=?)");
  pinned.bind(1, id);
  material.pinned = pinned.step() && pinned.int64(0) != 0;
  pinned.reset();
  if (store_.contains(info.sha256)) {
    material.state = DownloadState::Downloaded;
    material.stored_bytes = info.size;
  } else if (auto partial = store_.partial_bytes(info.sha256)) {
    material.state = DownloadState::Partial;
    material.stored_bytes = *partial;
  }
  material.info = std::move(info);
  return material;
}

std::vector<Material> Library::catalog() {
  std::vector<Material> materials;
  for (const sync::Record& record : home_.replica().list(sync::kMaterialsCollection))
    if (auto info = info_of(record)) materials.push_back(describe(record.id, std::move(*info)));
  std::sort(materials.begin(), materials.end(), [](const Material& a, const Material& b) {
    return std::make_pair(lower(a.info.title), a.id) < std::make_pair(lower(b.info.title), b.id);
  });
  return materials;
}

Material Library::material(const std::string& id) {
  auto record = home_.replica().get(sync::kMaterialsCollection, id);
  std::optional<MaterialInfo> info;
  if (record && !record->deleted) info = info_of(*record);
  if (!info) throw ClientError("no material " + id + " in the library (list them with `outpost materials`)");
  return describe(id, std::move(*info));
}

int64_t Library::count(const std::string& language, const std::string& theme) {
  static const std::string sql = std::string("SELECT count(*) ") + kFilteredEntries;
  auto& select = db_.prepare(sql);
  select.bind(1, language).bind(2, theme);
  const int64_t total = select.step() ? select.int64(0) : 0;
  select.reset();
  return total;
}

std::vector<Material> Library::page(const std::string& language, const std::string& theme, int64_t first,
                                    int64_t count) {
  static const std::string sql =
      std::string("SELECT material ") + kFilteredEntries + "ORDER BY title_key, material LIMIT ?3 OFFSET ?4";
  auto& select = db_.prepare(sql);
  select.bind(1, language).bind(2, theme).bind(3, count).bind(4, first);
  std::vector<std::string> ids;
  while (select.step()) ids.push_back(select.text(0));
  std::vector<Material> materials;
  for (const std::string& id : ids) materials.push_back(material(id));
  return materials;
}

const CatalogFacets& Library::facets() {
  if (!facets_) {
    CatalogFacets facets;
    auto& languages = db_.prepare("SELECT DISTINCT lang FROM library_entries WHERE lang <> '' ORDER BY lang");
    while (languages.step()) facets.languages.push_back(languages.text(0));
    auto& themes =
        db_.prepare("SELECT DISTINCT tag.value FROM library_entries, json_each(library_entries.tags) AS tag ORDER BY 1");
    while (themes.step()) facets.themes.push_back(themes.text(0));
    facets_ = std::move(facets);
  }
  return *facets_;
}

std::vector<SearchHit> Library::search(const std::string& query, size_t limit) {
  const std::string match = fts_query(query);
  if (match.empty()) return {};
  // Ranks every match, then makes snippets for the best ones only.
  auto& select = db_.prepare(
      "SELECT e.material, snippet(library_search, -1, '**', '**', '…', 12), best.score "
      "FROM (SELECT rowid, bm25(library_search, 10.0, 4.0, 6.0, 1.0) AS score FROM library_search "
      "      WHERE library_search MATCH ?1 ORDER BY score LIMIT ?2) AS best "
      "JOIN library_search ON library_search.rowid = best.rowid AND library_search MATCH ?1 "
      "JOIN library_entries e ON e.id = best.rowid ORDER BY best.score");
  select.bind(1, match).bind(2, static_cast<int64_t>(limit));
  struct Row {
    std::string id, snippet;
    double score;
  };
  std::vector<Row> rows;
  while (select.step()) rows.push_back({select.text(0), select.text(1), select.real(2)});
  std::vector<SearchHit> hits;
  for (const Row& row : rows) hits.push_back({material(row.id), row.snippet, row.score});
  return hits;
}

// --- Keeping files

sync::TransferReport Library::pin(const std::string& id, sync::Transport& transport, const sync::TransferOptions& options) {
  const Material target = material(id);
  const auto enrolled = home_.enrollment();
  if (!enrolled) throw ClientError("this device is not enrolled: run `outpost enroll URL CODE` first");
  db_.prepare("INSERT OR IGNORE INTO library_pins(material, pinned_at) VALUES(?, ?)")
      .bind(1, id)
      .bind(2, SystemClock::instance().now_ms())
      .run();
  sync::BlobTransfer transfer(store_, transport, enrolled->token, options);
  const sync::TransferReport report = transfer.download(target.info.sha256);
  if (report.size != target.info.size) {
    store_.remove(target.info.sha256);
    throw ClientError("the file of material " + id + " has " + std::to_string(report.size) + " bytes, its record says " +
                      std::to_string(target.info.size) + "; it was not kept");
  }
  refresh_material(id);  // its text joins the index
  return report;
}

void Library::receive(const std::vector<sync::PulledRecord>& records, const std::vector<ReceivedFile>& verified_files) {
  uint64_t bytes = 0;
  for (const ReceivedFile& file : verified_files) bytes += std::filesystem::file_size(file.path);
  store_.check_room(bytes);
  // Files first, records last: the catalog never lists a received material without its file.
  for (const ReceivedFile& file : verified_files) store_.add_file(file.path, file.chunk_size);
  home_.replica().merge_records(records);
  db::Transaction tx(db_);
  for (const sync::PulledRecord& record : records)
    if (record.collection == sync::kMaterialsCollection)
      db_.prepare("INSERT OR IGNORE INTO library_pins(material, pinned_at) VALUES(?, ?)")
          .bind(1, record.id)
          .bind(2, SystemClock::instance().now_ms())
          .run();
  tx.commit();
  refresh();
}

void Library::unpin(const std::string& id) {
  material(id);  // an unknown id is an error
  db_.prepare("DELETE FROM library_pins WHERE material=?").bind(1, id).run();
}

uint64_t Library::evict(const std::string& id) {
  const Material target = material(id);
  db_.prepare("DELETE FROM library_pins WHERE material=?").bind(1, id).run();
  std::vector<std::string> pinned;
  auto& select = db_.prepare("SELECT material FROM library_pins");
  while (select.step()) pinned.push_back(select.text(0));
  for (const std::string& other : pinned) {
    auto record = home_.replica().get(sync::kMaterialsCollection, other);
    auto info = record && !record->deleted ? info_of(*record) : std::nullopt;
    if (info && info->sha256 == target.info.sha256) return 0;  // still wanted
  }
  return store_.remove(target.info.sha256);
}

std::string Library::local_path(const std::string& id) {
  const Material target = material(id);
  if (target.state != DownloadState::Downloaded)
    throw ClientError("material " + id + " (" + target.info.title + ") is not on this device: download it with `outpost pin " +
                      id + "`");
  return store_.path(target.info.sha256);
}

// --- The search index

void Library::refresh_if_stale() {
  auto& select = db_.prepare("SELECT value FROM library_meta WHERE key='indexed_cursor'");
  const std::optional<std::string> indexed = select.step() ? std::optional(select.text(0)) : std::nullopt;
  select.reset();
  if (indexed != std::to_string(home_.replica().cursor())) refresh();
}

// What the index must change: entries to write, materials withdrawn and their files.
struct Library::IndexChanges {
  std::vector<Entry> entries;
  std::vector<std::string> withdrawn;
  std::set<std::string> withdrawn_files;
};

size_t Library::refresh() {
  // The cursor is read first: a sync landing while the catalog is read moves it past this value,
  // so the next library opened reads the catalog again.
  const int64_t cursor = home_.replica().cursor();
  // The records are read one at a time and the index written a batch at a time, so a catalog of
  // 100,000 materials is never all in memory; one transaction for all of it (committing each
  // batch made the first reading of a large catalog eight times slower).
  db::Transaction tx(db_);
  IndexChanges changes;
  size_t rewritten = 0;
  home_.replica().for_each_record(sync::kMaterialsCollection, true, [&](sync::Record&& record) {
    if (cancelled_ && cancelled_()) throw LibraryCancelled("reading the catalog into the library's index was stopped");
    plan_entry(record, changes);
    if (changes.entries.size() + changes.withdrawn.size() >= kIndexWriteBatch) rewritten += write_entries(changes);
  });
  rewritten += write_entries(changes);
  db_.prepare("INSERT OR REPLACE INTO library_meta(key, value) VALUES('indexed_cursor', ?)")
      .bind(1, std::to_string(cursor))
      .run();
  tx.commit();
  remove_withdrawn_files(changes.withdrawn_files);
  return rewritten;
}

void Library::refresh_material(const std::string& id) {
  const auto record = home_.replica().get(sync::kMaterialsCollection, id);
  if (!record) return;
  IndexChanges changes;
  plan_entry(*record, changes);
  db::Transaction tx(db_);
  write_entries(changes);
  tx.commit();
  remove_withdrawn_files(changes.withdrawn_files);
}

void Library::plan_entry(const sync::Record& record, IndexChanges& changes) {
  auto& indexed = db_.prepare("SELECT version, text_sha256 FROM library_entries WHERE material=?");
  indexed.bind(1, record.id);
  const bool known = indexed.step();
  const std::string known_version = known ? indexed.text(0) : "";
  const std::optional<std::string> known_text = known ? indexed.optional_text(1) : std::nullopt;
  indexed.reset();
  const auto info = info_of(record);
  if (record.deleted || !info) {
    if (known) changes.withdrawn.push_back(record.id);
    if (info) changes.withdrawn_files.insert(info->sha256);
    return;
  }
  const std::string version = record_version(record);
  const bool has_file = store_.contains(info->sha256);
  const bool text_indexed = known_text == info->sha256;
  if (known && known_version == version && (text_indexed || !has_file)) return;
  // The text: kept from before (nullopt), read from the file that arrived, or none yet.
  const std::optional<std::string> text_sha256 = text_indexed || has_file ? std::optional(info->sha256) : std::nullopt;
  std::optional<std::string> body = text_indexed ? std::nullopt
                                    : has_file   ? std::optional(extract_text(store_.path(info->sha256), info->media_type))
                                                 : std::optional(std::string());
  changes.entries.push_back(Entry{record.id, version, *info, text_sha256, std::move(body)});
}

// Files of withdrawn materials go, unless a live material has the same file.
void Library::remove_withdrawn_files(const std::set<std::string>& files) {
  auto& still_used = db_.prepare("SELECT EXISTS(SELECT 1 FROM library_entries WHERE sha256=?)");
  for (const std::string& sha256 : files) {
    still_used.bind(1, sha256);
    const bool used = still_used.step() && still_used.int64(0) != 0;
    still_used.reset();
    if (!used) store_.remove(sha256);
  }
}

size_t Library::write_entries(IndexChanges& changes) {
  const std::vector<Entry>& entries = changes.entries;
  const std::vector<std::string>& withdrawn = changes.withdrawn;
  const size_t written = entries.size() + withdrawn.size();
  if (written == 0) return 0;
  facets_.reset();
  for (const Entry& entry : entries) {
    db_.prepare(
           "INSERT INTO library_entries(material, version, text_sha256, sha256, title_key, lang, tags) "
           "VALUES(?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT(material) DO UPDATE SET version=excluded.version, text_sha256=excluded.text_sha256, "
           "sha256=excluded.sha256, title_key=excluded.title_key, lang=excluded.lang, tags=excluded.tags")
        .bind(1, entry.material)
        .bind(2, entry.version)
        .bind(3, entry.text_sha256)
        .bind(4, entry.info.sha256)
        .bind(5, lower(entry.info.title))
        .bind(6, entry.info.lang)
        .bind(7, Json(entry.info.tags).dump())
        .run();
    auto& id_of = db_.prepare("SELECT id FROM library_entries WHERE material=?");
    id_of.bind(1, entry.material);
    id_of.step();
    const int64_t id = id_of.int64(0);
    id_of.reset();
    std::string body;
    if (entry.body) {
      body = *entry.body;
    } else {
      auto& kept = db_.prepare("SELECT body FROM library_search WHERE rowid=?");
      kept.bind(1, id);
      if (kept.step()) body = kept.text(0);
      kept.reset();
    }
    db_.prepare("DELETE FROM library_search WHERE rowid=?").bind(1, id).run();
    db_.prepare("INSERT INTO library_search(rowid, title, summary, tags, body) VALUES(?, ?, ?, ?, ?)")
        .bind(1, id)
        .bind(2, entry.info.title)
        .bind(3, entry.info.summary)
        .bind(4, joined_tags(entry.info.tags))
        .bind(5, body)
        .run();
  }
  for (const std::string& material : withdrawn) {
    db_.prepare("DELETE FROM library_search WHERE rowid=(SELECT id FROM library_entries WHERE material=?)")
        .bind(1, material)
        .run();
    db_.prepare("DELETE FROM library_entries WHERE material=?").bind(1, material).run();
    db_.prepare("DELETE FROM library_pins WHERE material=?").bind(1, material).run();
  }
  changes.entries.clear();
  changes.withdrawn.clear();
  return written;
}

}  // namespace outpost::client
