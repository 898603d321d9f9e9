#include "client/app/app_model.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <system_error>

#include "client/app/text.h"
#include "platform/log.h"

namespace outpost::app {

using sync::Json;

namespace {

constexpr char kLanguageSetting[] = "ui_language";
constexpr char kTextScaleSetting[] = "ui_text_scale";
constexpr size_t kPreviewBytes = 160;
constexpr int kUrgentPriority = 1;

std::string trim(const std::string& text) {
  const auto begin = std::find_if_not(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
  const auto end = std::find_if_not(text.rbegin(), text.rend(), [](unsigned char c) { return std::isspace(c); }).base();
  return begin < end ? std::string(begin, end) : std::string();
}

// Remembers what came back to the last request, so a failed enrollment can be explained.
class ObservedTransport final : public sync::Transport {
 public:
  explicit ObservedTransport(sync::Transport& inner) : inner_(inner) {}
  sync::HttpResponse send(const sync::HttpRequest& request) override {
    answer_.reset();
    answer_ = inner_.send(request);
    return *answer_;
  }
  const std::optional<sync::HttpResponse>& answer() const { return answer_; }

 private:
  sync::Transport& inner_;
  std::optional<sync::HttpResponse> answer_;
};

// "field: value · field: value", one line. Right-to-left text shows as "…": the window cannot
// shape it, and the record's detail says so (docs/ui.md).
std::string record_preview(const sync::Record& record) {
  std::string preview;
  for (const auto& [name, field] : record.fields) {
    if (preview.size() > kPreviewBytes) break;
    const std::string value = display_value(field.value);
    preview += (preview.empty() ? "" : " \u00b7 ") + name + ": " + (has_right_to_left(value) ? "\u2026" : value);
  }
  return shorten(preview, kPreviewBytes);
}

ConflictSideView side_view(const sync::ConflictSide& side) {
  ConflictSideView view;
  view.value = display_value(side.value);
  view.value_json = side.value.dump();
  view.right_to_left = has_right_to_left(view.value);
  view.by = side.by;
  view.at_ms = side.wall_ms;
  return view;
}

int64_t file_size_or_zero(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<int64_t>(size);
}

}  // namespace

AppModel::AppModel(const std::string& home_directory, Options options)
    : options_(std::move(options)), home_(home_directory) {
  if (!options_.open_externally) options_.open_externally = open_with_system_viewer;
  // The window stays open for days on devices with little memory. A memory-mapped replica puts
  // every page a count or a sync touches (and the kernel's read-around of each) into the
  // process's resident memory, 200 MB for 100,000 records; read through SQLite's own page cache
  // (16 MB, platform/sqlite.cpp) it stays within that, at about the same speed here. SQLite
  // keeps the mapping while a statement holds a page of it: those are reset first.
  db::Database& database = home_.replica().database();
  database.reset_open_statements();
  database.exec("PRAGMA mmap_size=0");
  state_.home_directory = home_directory;
  state_.replica_id = home_.replica().replica_id();
  refresh_all();
}

Effect AppModel::apply(const Command& command) {
  return std::visit([this](const auto& typed) { return handle(typed); }, command);
}

// --- Sync

Effect AppModel::handle(const SyncNow&) {
  Effect effect;
  if (!state_.sync.running) effect.synced = sync();
  return effect;
}

SyncOutcome AppModel::sync() {
  if (state_.sync.running) return SyncOutcome::RetryLater;
  const auto enrollment = home_.enrollment();
  if (!enrollment) {
    state_.sync.problem = Problem{"problem.not_enrolled", {}, "this device is not enrolled"};
    return SyncOutcome::NeedsUser;
  }
  SyncActivity& activity = state_.sync;
  activity.running = true;
  activity.pending_at_start = state_.status.pending_records;
  activity.report = {};
  activity.problem.reset();
  if (options_.on_progress) options_.on_progress();

  sync::SyncOptions sync_options = options_.sync;
  sync_options.on_batch = [this](const sync::SyncReport& report) {
    state_.sync.report = report;
    state_.connection = Connection::Online;
    refresh_status();
    if (options_.on_progress) options_.on_progress();
  };
  SyncOutcome outcome = SyncOutcome::Synced;
  try {
    auto transport = options_.transports(enrollment->registry_url);
    activity.report = home_.sync(*transport, sync_options).records;
    state_.connection = Connection::Online;
  } catch (const std::exception& error) {
    // Batches committed before the failure stay committed; the report keeps their counts.
    const SyncFailure failure = classify_sync_failure(error, enrollment->registry_url);
    activity.problem = failure.problem;
    if (failure.offline)
      state_.connection = Connection::Offline;
    else if (failure.answered)
      state_.connection = Connection::Online;
    outcome = failure.retry_later ? SyncOutcome::RetryLater : SyncOutcome::NeedsUser;
  }
  activity.running = false;
  ++activity.finished;
  // The library's index reads what the sync brought now, in the background, rather than when
  // the library is next opened (seconds for a large catalog).
  if (activity.report.pulled_records > 0) {
    try {
      library().refresh_if_stale();
    } catch (const std::exception& error) {
      log::warn(std::string("the library's index could not read what the sync brought: ") + error.what());
    }
  }
  refresh_all();
  return outcome;
}

// --- Enrollment

Effect AppModel::handle(const Enroll& command) {
  state_.enroll_problem.reset();
  const std::string url = trim(command.registry_url);
  const std::string code = trim(command.code);
  if (state_.enrollment) {
    state_.enroll_problem = Problem{"problem.already_enrolled", {{"url", state_.enrollment->registry_url}}, ""};
    return {};
  }
  if (auto bad = check_registry_url(url)) {
    state_.enroll_problem = *bad;
    return {};
  }
  if (code.empty()) {
    state_.enroll_problem = Problem{"problem.no_code", {}, "no enrollment code given"};
    return {};
  }
  const std::unique_ptr<sync::Transport> transport = options_.transports(url);
  ObservedTransport observed(*transport);
  try {
    home_.enroll(url, code, client::Home::default_device_name(), observed);
  } catch (const std::exception& error) {
    state_.enroll_problem = classify_enroll_failure(error, url, observed.answer());
    return {};
  }
  state_.connection = Connection::Online;
  refresh_all();
  Effect effect;
  effect.enrolled = true;
  return effect;
}

// --- Conflicts

Effect AppModel::handle(const ResolveConflict& command) {
  state_.resolve_problem.reset();
  auto fail = [&](const std::string& key, const std::string& detail, TextParams params = {}) {
    state_.resolve_problem = ActionProblem{command.conflict_id, Problem{key, std::move(params), detail}};
    return Effect{};
  };
  sync::Replica& replica = home_.replica();
  const auto conflict = replica.conflict(command.conflict_id);
  if (!conflict || !conflict->open) {
    refresh_conflicts();
    return fail("problem.conflict_gone", "no open conflict " + command.conflict_id);
  }
  Json value;
  switch (command.resolution) {
    case Resolution::KeepKept: value = conflict->kept.value; break;
    case Resolution::KeepLost: value = conflict->lost.value; break;
    case Resolution::Merged:
      try {
        value = Json::parse(command.merged_json);
      } catch (const Json::parse_error& error) {
        return fail("problem.bad_merged_value", error.what(), {{"position", std::to_string(error.byte)}});
      }
      break;
  }
  try {
    replica.resolve(command.conflict_id, value);
  } catch (const std::exception& error) {
    return fail("problem.resolve_failed", error.what());
  }
  refresh_conflicts();
  refresh_status();
  refresh_open_record_views();
  return Effect::wrote_locally();
}

// --- Browsing

Effect AppModel::handle(const OpenCollection& command) {
  // Scrolling the open list keeps its count (counting 100,000 records takes milliseconds a
  // window would spend again and again); anything that changes records refreshes the list.
  const bool scrolling = state_.records && state_.records->collection == command.collection;
  show_records(command, scrolling ? std::optional<int64_t>(state_.records->total) : std::nullopt);
  return {};
}

void AppModel::show_records(const OpenCollection& command, std::optional<int64_t> known_total) {
  sync::Replica& replica = home_.replica();
  auto list = std::make_shared<RecordList>();
  list->collection = command.collection;
  list->total = known_total ? *known_total : replica.count_live(command.collection);
  const int64_t count = list->place(command.first, command.count);
  replica.for_each_live_record(command.collection, list->first, count, [&](sync::Record&& record) {
    list->rows.push_back({std::move(record.id), record.updated_ms, record_preview(record)});
  });
  if (state_.record && state_.record->collection != command.collection) state_.record.reset();
  state_.records = std::move(list);
}

Effect AppModel::handle(const SelectRecord& command) {
  state_.record.reset();
  const auto record = home_.replica().get(command.collection, command.id);
  if (!record) return {};
  RecordDetail detail{record->collection, record->id, record->deleted, record->updated_ms, {}};
  for (const auto& [name, field] : record->fields) {
    std::string value = display_value(field.value);
    const bool rtl = has_right_to_left(value);
    detail.fields.push_back({name, std::move(value), rtl, field.stamp.replica, field.wall_ms});
  }
  state_.record = std::move(detail);
  return {};
}

// --- Preferences

Effect AppModel::handle(const SetLanguage& command) {
  home_.replica().set_setting(kLanguageSetting, command.language);
  state_.preferences.language = command.language;
  return {};
}

Effect AppModel::handle(const SetTextScale& command) {
  // A text size outside what fits a window is a bug in the caller, not a choice.
  const double scale = std::isfinite(command.scale) ? std::clamp(command.scale, 0.5, 3.0) : 1.0;
  home_.replica().set_setting(kTextScaleSetting, std::to_string(scale));
  state_.preferences.text_scale = scale;
  return {};
}

// --- Refreshing the state from the home

void AppModel::refresh_all() {
  refresh_enrollment();
  refresh_status();
  refresh_refused_files();
  refresh_collections();
  refresh_conflicts();
  refresh_open_record_views();
  refresh_preferences();
  refresh_library();
  if (forms_listed_) refresh_forms();
}

void AppModel::refresh_enrollment() {
  state_.enrollment.reset();
  if (auto enrollment = home_.enrollment())
    state_.enrollment = EnrollmentView{enrollment->registry_url, enrollment->device_id, enrollment->org_name,
                                       enrollment->role};
}

void AppModel::refresh_status() {
  sync::Replica& replica = home_.replica();
  state_.status = replica.status();
  auto urgent = replica.queued_records(kUrgentPriority);
  state_.urgent_total = static_cast<int64_t>(urgent.size());
  if (urgent.size() > kShownUrgent) urgent.resize(kShownUrgent);
  state_.urgent = std::move(urgent);
  state_.refused.clear();
  if (state_.status.refused_changes > 0) {
    state_.refused = replica.refused_writes();
    if (state_.refused.size() > kShownRefused) state_.refused.resize(kShownRefused);
  }
}

// Files change only as a sync ends (client/attachments.h), which refreshes everything.
void AppModel::refresh_refused_files() {
  std::vector<client::RefusedUpload> refused = attachments_.refused_uploads();
  state_.refused_files_total = static_cast<int64_t>(refused.size());
  if (refused.size() > kShownRefused) refused.resize(kShownRefused);
  state_.refused_files = std::move(refused);
}

// Counted from an index, so a sync's refresh costs milliseconds even with 100,000 records.
void AppModel::refresh_collections() {
  // Every collection held here, and those the registry accepts even while still empty.
  std::map<std::string, int64_t> counts = home_.replica().live_counts();
  for (const std::string& name : home_.collections()) counts.emplace(name, 0);
  std::vector<CollectionSummary> collections;
  for (const auto& [name, records] : counts)
    if (name.rfind('_', 0) != 0) collections.push_back({name, records});
  state_.collections = std::move(collections);
}

void AppModel::refresh_storage() {
  StorageUse storage;
  storage.collections = home_.replica().usage();
  for (const char* suffix : {"", "-wal", "-shm"})
    storage.database_bytes += file_size_or_zero(home_.directory() + "/replica.db" + suffix);
  storage.library_bytes = static_cast<int64_t>(library().used_bytes());
  storage.attachment_bytes = static_cast<int64_t>(attachments_.used_bytes());
  storage.measured_ms = options_.clock->now_ms();
  state_.storage = std::move(storage);
}

Effect AppModel::handle(const MeasureStorage&) {
  refresh_storage();
  return {};
}

void AppModel::refresh_conflicts() {
  auto views = std::make_shared<std::vector<ConflictView>>();
  for (const sync::Conflict& conflict : home_.replica().conflicts(true))
    views->push_back({conflict.id, conflict.collection, conflict.record_id, conflict.field,
                      conflict.field == sync::kDeletedField, side_view(conflict.kept), side_view(conflict.lost),
                      conflict.detected_ms});
  state_.conflicts = std::move(views);
}

void AppModel::refresh_open_record_views() {
  if (const auto list = state_.records)
    show_records({list->collection, list->first, list->refreshed_count()}, std::nullopt);
  if (state_.record) handle(SelectRecord{state_.record->collection, state_.record->id});
}

void AppModel::refresh_preferences() {
  sync::Replica& replica = home_.replica();
  state_.preferences.language = replica.setting(kLanguageSetting).value_or("");
  const std::string scale = replica.setting(kTextScaleSetting).value_or("1");
  try {
    state_.preferences.text_scale = std::clamp(std::stod(scale), 0.5, 3.0);
  } catch (const std::exception&) {
    state_.preferences.text_scale = 1.0;  // unreadable: the default, rewritten on the next choice
  }
}

}  // namespace outpost::app
