// The app model: a client Home plus the state the window shows, changed only by commands.
// Everything here runs on one thread (the worker's, or a test's); it knows nothing of windows.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/app/app_state.h"
#include "client/app/commands.h"
#include "client/attachments.h"
#include "client/cli.h"
#include "client/home.h"
#include "client/library.h"
#include "client/submissions.h"
#include "platform/clock.h"

namespace outpost::app {

enum class SyncOutcome {
  Synced,      // up to date with the registry
  RetryLater,  // no connection, or a passing problem: trying again later can help
  NeedsUser,   // only the user can fix it (not enrolled, device refused...)
};

// What applying a command did, for whoever schedules syncs.
struct Effect {
  bool local_change = false;  // the replica has a new local write to send
  bool enrolled = false;
  std::optional<SyncOutcome> synced;  // the command ran a sync
  static Effect wrote_locally() { return Effect{true, false, std::nullopt}; }
};

class AppModel {
 public:
  struct Options {
    client::TransportFactory transports = client::curl_transport_factory();
    sync::SyncOptions sync;
    // Called after each committed sync batch (the state then shows the progress), and once as a
    // sync starts. The worker publishes a snapshot there and applies the commands that came in.
    std::function<void()> on_progress;
    const Clock* clock = &SystemClock::instance();
    // Called while a download moves, to show its progress (the worker publishes a snapshot).
    std::function<void()> on_download_progress;
    // Opens a file in the system's viewer; throws when it cannot. Default: xdg-open, not waited for.
    std::function<void(const std::string& path)> open_externally;
    // True once the model's owner is closing: reading a large catalog into the library's index
    // stops (client::LibraryCancelled).
    std::function<bool()> cancelled;
  };

  // Opens (or creates) the home; throws what Home throws when it cannot.
  AppModel(const std::string& home_directory, Options options);

  const AppState& state() const { return state_; }
  bool enrolled() const { return state_.enrollment.has_value(); }

  Effect apply(const Command& command);
  // Syncs now (ignored while a sync runs: a command arriving between batches may ask again).
  SyncOutcome sync();
  // Shown as "next automatic attempt"; the worker's schedule decides it.
  void set_next_attempt(std::optional<int64_t> wall_ms) { state_.sync.next_attempt_ms = wall_ms; }

 private:
  Effect handle(const SyncNow&);
  Effect handle(const Enroll& command);
  Effect handle(const ResolveConflict& command);
  Effect handle(const OpenCollection& command);
  Effect handle(const SelectRecord& command);
  Effect handle(const SetLanguage& command);
  Effect handle(const SetTextScale& command);
  Effect handle(const MeasureStorage& command);
  Effect handle(const SearchLibrary& command);
  Effect handle(const PinMaterial& command);
  Effect handle(const UnpinMaterial& command);
  Effect handle(const EvictMaterial& command);
  Effect handle(const OpenMaterial& command);
  Effect handle(const CloseReader& command);
  Effect handle(const ListForms& command);
  Effect handle(const StartSubmission& command);
  Effect handle(const ReopenSubmission& command);
  Effect handle(const SetAnswer& command);
  Effect handle(const AttachFile& command);
  Effect handle(const ListFolder& command);
  Effect handle(const AddRepeatEntry& command);
  Effect handle(const RemoveRepeatEntry& command);
  Effect handle(const GoToPage& command);
  Effect handle(const FinalizeSubmission& command);
  Effect handle(const CloseSubmission& command);

  // Reloads the named parts of the state from the home.
  void refresh_all();
  void refresh_enrollment();
  void refresh_status();
  void refresh_refused_files();
  void refresh_collections();
  void refresh_storage();
  void refresh_conflicts();
  void refresh_open_record_views();
  // Reads the window of rows `command` asks for; counts the collection unless its count is known.
  void show_records(const OpenCollection& command, std::optional<int64_t> known_total);
  void refresh_preferences();
  // Opened when the library screen first asks; reads what a sync brought into its index.
  client::Library& library();
  void refresh_library();
  void read_library(const LibraryFilter& filter, int64_t first, int64_t count, bool measure_storage);
  void refresh_forms();  // keeps the submissions' window where it is
  void refresh_forms(int64_t first, int64_t count);
  void read_submissions(FormsOverview& overview, int64_t first, int64_t count);
  void refresh_fill();
  // After a submission was written: the lists and counts that show it, and a sync to come.
  Effect submissions_changed();
  // Lets go of the open submission (already saved or finalized).
  void close_fill();
  // Opens a new submission of `form`, or the draft `draft_id` made with it, on its first page.
  // Throws what loading the draft throws, with the submission open before left as it was.
  void open_fill(std::unique_ptr<client::PublishedForm> form, const std::string& ui_language,
                 const std::optional<std::string>& draft_id);
  // Applies an edit to the open submission; a refused one becomes the forms screen's problem
  // (`problem_key`).
  Effect edit_answers(const std::string& name, const std::function<void(forms::FillSession&)>& edit,
                      const char* problem_key = "problem.answer_refused");
  Effect library_failure(const std::string& material_id, const std::string& key, const std::exception& error);
  // Unpins, evicts...: runs `change`, then shows the list after it, or the problem.
  Effect change_library(const std::string& material_id, const std::function<void(client::Library&)>& change);

  Options options_;
  client::Home home_;
  client::AttachmentStore attachments_{home_};  // the files answering questions
  AppState state_;
  std::unique_ptr<client::Library> library_;
  bool forms_listed_ = false;    // the forms screen has asked: keep its lists current
  bool library_listed_ = false;  // the same for the library screen
  // The submission being filled; the draft refers to the form, so it is declared (and goes) first.
  std::unique_ptr<client::PublishedForm> fill_form_;
  std::unique_ptr<client::SubmissionDraft> draft_;
  std::string fill_language_;  // the form's language key for labels; "" when none can be shown
  size_t fill_page_ = 0;
  std::vector<std::string> fill_errors_;
};

// Starts the system's viewer (xdg-open) on `path` without waiting for it; throws when it cannot.
void open_with_system_viewer(const std::string& path);

}  // namespace outpost::app
