// The app model as the window sees it: a plain snapshot the worker publishes after every change.
// Screens draw from one snapshot for a whole frame and never touch the replica. Long lists sit
// behind shared pointers, so publishing a new snapshot does not copy them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/app/problem.h"
#include "client/attachments.h"
#include "client/library.h"
#include "client/text_extraction.h"
#include "forms/fill.h"
#include "sync/engine.h"
#include "sync/replica.h"

namespace outpost::app {

struct EnrollmentView {
  std::string registry_url;
  std::string device_id;
  std::string org_name;
  std::string role;
};

// What the last exchange with the registry says about the link.
enum class Connection { Unknown, Online, Offline };

struct SyncActivity {
  bool running = false;
  int64_t pending_at_start = 0;  // records waiting when the running sync began, to show the share sent
  sync::SyncReport report;       // so far while running; else the last sync of this session
  std::optional<Problem> problem;  // why the last sync of this session failed
  uint64_t finished = 0;           // syncs finished (either way) this session
  std::optional<int64_t> next_attempt_ms;  // when the worker will try by itself
};

struct CollectionSummary {
  std::string name;
  int64_t records = 0;
};

struct RecordRow {
  std::string id;
  int64_t updated_ms = 0;
  std::string preview;  // "field: value · field: value", one line; right-to-left values as "…"
};

// Rows of a long list (records, submissions, materials) the model reads at a time: a few
// screens' worth, so scrolling asks again only every few dozen wheel notches.
inline constexpr int64_t kListWindow = 200;
// However many rows a list asks for, the model holds no more than this many at once.
inline constexpr int64_t kMaxListWindow = 1000;

// A window onto a long list: the model reads only the rows around what the list shows (the
// command's first and count), so 100,000 rows cost what 200 do.
template <typename Row>
struct ListWindow {
  int64_t total = 0;       // rows in the whole list
  int64_t first = 0;       // position of rows[0] in the whole list
  std::vector<Row> rows;   // positions [first, first + rows.size())

  // Places a window of `count` rows asked for at `first` inside the list of `total` rows (one
  // asked past the end, rows having gone meanwhile, shows the last rows) and empties it; returns
  // how many rows to read.
  int64_t place(int64_t asked_first, int64_t asked_count) {
    const int64_t count = std::clamp<int64_t>(asked_count, 0, kMaxListWindow);
    first = std::clamp<int64_t>(asked_first, 0, std::max<int64_t>(0, total - count));
    rows.clear();
    return count;
  }

  // How many rows to read again to refresh the window where it is.
  int64_t refreshed_count() const { return std::max(kListWindow, static_cast<int64_t>(rows.size())); }

  // The row at `position` of the whole list; null while it is outside the window.
  const Row* row(int64_t position) const {
    const int64_t offset = position - first;
    return offset >= 0 && offset < static_cast<int64_t>(rows.size()) ? &rows[static_cast<size_t>(offset)] : nullptr;
  }
};

// A collection's live records, newest first (as they were first written or received here).
struct RecordList : ListWindow<RecordRow> {
  std::string collection;
};

struct FieldView {
  std::string name;
  std::string value;  // display_value()
  bool right_to_left = false;
  std::string written_by;  // replica id of the last writer
  int64_t written_ms = 0;
};

struct RecordDetail {
  std::string collection;
  std::string id;
  bool deleted = false;
  int64_t updated_ms = 0;
  std::vector<FieldView> fields;
};

struct ConflictSideView {
  std::string value;       // display_value()
  std::string value_json;  // exact, to start a merged value from
  bool right_to_left = false;
  std::string by;  // device name of the writer
  int64_t at_ms = 0;
};

struct ConflictView {
  std::string id;
  std::string collection;
  std::string record_id;
  std::string field;
  bool about_deletion = false;  // kept: the delete, lost: the edit (resolve: stay deleted / restore)
  ConflictSideView kept;        // the value the record holds now
  ConflictSideView lost;        // the concurrent write that lost
  int64_t detected_ms = 0;
};

// Measured when the settings screen asks (MeasureStorage): it reads every record.
struct StorageUse {
  int64_t database_bytes = 0;  // the replica's files on disk
  std::vector<sync::CollectionUsage> collections;  // "_conflicts" included
  int64_t library_bytes = 0;     // the library's files on this device (pinned, or arriving)
  int64_t attachment_bytes = 0;  // photos and files answering questions
  int64_t total_bytes() const { return database_bytes + library_bytes + attachment_bytes; }
  int64_t measured_ms = 0;     // 0: not measured yet
};

struct Preferences {
  std::string language;  // empty: the system's
  double text_scale = 1.0;
};

// A user action that failed, kept for the screen that started it.
struct ActionProblem {
  std::string subject;  // e.g. the conflict id
  Problem problem;
};

// --- Library

struct LibraryFilter {
  std::string query;     // as typed: every word must match (beginnings count)
  std::string language;  // "" for all
  std::string theme;     // a tag; "" for all

  friend bool operator==(const LibraryFilter& a, const LibraryFilter& b) {
    return a.query == b.query && a.language == b.language && a.theme == b.theme;
  }
  friend bool operator!=(const LibraryFilter& a, const LibraryFilter& b) { return !(a == b); }
};

struct LibraryList {
  LibraryFilter filter;                      // what these hits answer
  ListWindow<client::SearchHit> hits;        // by title without a query, the best first with one
  std::vector<std::string> languages;    // of the whole catalog, to filter by
  std::vector<std::string> themes;
  uint64_t used_bytes = 0;   // the library's files on this device
  uint64_t quota_bytes = 0;  // 0: only the disk limits them
};

// The download under way (the worker downloads one file at a time).
struct DownloadProgress {
  std::string material_id;
  uint64_t done_bytes = 0;
  uint64_t size = 0;
};

// A Markdown or text material opened in the app's reader.
struct ReaderDocument {
  std::string material_id;
  std::string title;
  std::vector<client::TextBlock> blocks;
};

// --- Forms

struct FormEntry {
  std::string id;
  std::string title;
  std::string version;
  bool urgent = false;
};

enum class SubmissionState {
  Draft,
  Finalized,  // waiting in the outbox
  Sent,       // acknowledged by the registry
};

struct SubmissionRow {
  std::string id;
  std::string form_id;
  std::string form_title;
  SubmissionState state = SubmissionState::Draft;
  int64_t updated_ms = 0;
};

struct FormsOverview {
  std::vector<FormEntry> forms;            // urgent first, then by title
  ListWindow<SubmissionRow> submissions;   // the newest started first
  int64_t drafts = 0;  // of the submissions: counted once here, not every frame for the badge
};

struct ChoiceView {
  std::string name;
  std::string label;
};

// One row of the page being filled: a question, a group's title, a repeat or one of its entries.
struct QuestionView {
  std::string name;
  forms::RepeatPath path;  // a repeat entry's header: the entry's own path (its index last)
  forms::QuestionType type = forms::QuestionType::Text;
  int depth = 0;  // nesting inside the page
  std::string label;  // in the form's language; the name when it has none that can be shown
  std::string hint;
  std::string appearance;
  std::string answer;
  uint64_t file_size = 0;  // image and file questions: the size of the file the answer names
  std::string error;  // type, required or constraint message; "" when fine
  bool required = false;
  bool read_only = false;  // calculations included
  std::vector<ChoiceView> choices;  // after the choice filter
  bool as_list = false;             // a drop-down rather than radio buttons
  size_t entries = 0;               // a repeat's
  bool fixed_entries = false;       // a repeat_count decides them
  bool entry_header = false;
};

// One folder of this computer, as the file browser shows it: folders first, then files, by
// name; hidden entries and anything but folders and regular files left out.
struct FolderListing {
  struct Entry {
    std::string name;
    bool folder = false;
    uint64_t size = 0;
  };
  std::string folder;
  std::vector<Entry> entries;
  std::string error;  // why the folder could not be read (what was read is listed)
};
FolderListing list_folder(const std::string& folder);

struct FillView {
  std::string submission_id;
  std::string form_id;
  std::string title;
  bool urgent = false;
  bool labels_unreadable = false;  // only right-to-left labels: names are shown (docs/ui.md)
  size_t page = 0;                 // index in FillSession::pages()
  std::vector<size_t> relevant_pages;
  std::vector<QuestionView> questions;  // of this page
  std::vector<std::string> errors;      // why the last finalize was refused
};

inline constexpr size_t kShownUrgent = 20;
inline constexpr size_t kShownRefused = 20;

struct AppState {
  uint64_t version = 0;  // grows with every published change
  std::string home_directory;
  std::optional<Problem> home_problem;  // the home could not be opened: nothing else works

  std::string replica_id;
  std::optional<EnrollmentView> enrollment;
  Connection connection = Connection::Unknown;
  sync::ReplicaStatus status;
  SyncActivity sync;
  std::vector<sync::QueuedRecord> urgent;  // queued high-priority records, the first kShownUrgent
  int64_t urgent_total = 0;
  std::vector<sync::RefusedWrite> refused;  // writes the registry refused, the first kShownRefused
  std::vector<client::RefusedUpload> refused_files;  // files it refused at the last sync, the first kShownRefused
  int64_t refused_files_total = 0;
  std::vector<CollectionSummary> collections;
  StorageUse storage;

  std::shared_ptr<const RecordList> records;  // the open collection
  std::optional<RecordDetail> record;         // the selected record
  std::shared_ptr<const std::vector<ConflictView>> conflicts = std::make_shared<std::vector<ConflictView>>();

  // Empty until the library screen asks (SearchLibrary).
  std::shared_ptr<const LibraryList> library = std::make_shared<LibraryList>();
  std::optional<DownloadProgress> download;
  std::shared_ptr<const ReaderDocument> reader;  // null: the reader is closed
  std::optional<ActionProblem> library_problem;  // subject: the material id

  std::shared_ptr<const FormsOverview> forms = std::make_shared<FormsOverview>();  // filled once asked (ListForms)
  std::shared_ptr<const FillView> fill;  // null: no submission open
  std::shared_ptr<const FolderListing> folder;  // the file browser's folder (ListFolder); null until asked
  std::optional<ActionProblem> forms_problem;

  Preferences preferences;
  std::optional<Problem> enroll_problem;
  std::optional<ActionProblem> resolve_problem;
};

}  // namespace outpost::app
