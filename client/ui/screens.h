// The screens: each a function of one frame's snapshot of the app model that draws with Dear
// ImGui and emits commands; none touches the replica or blocks. What a screen needs to remember
// between frames that is not the model's (a selection, text being typed) is in ViewState.
//
// A new screen (the Library and Forms come next) is one file with a draw function, a ScreenId
// and a row in screen_registry(); the navigation, scripts and tests pick it up from there.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "client/app/app_state.h"
#include "client/app/commands.h"
#include "client/ui/file_picker.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

enum class ScreenId { Dashboard, Forms, Library, Records, Conflicts, Sync, Settings };

struct RecordsView {
  std::string collection;  // chosen; the model's open list follows it
  std::string record_id;   // chosen; the model's detail follows it
  std::string requested_collection;  // asked of the model, so it is asked once
  std::string requested_record;
  ListFollower list;  // bench/client checks that its top row in view moves
  bool show_detail = false;  // small screens show the list or the detail
};

struct ConflictsView {
  std::string conflict_id;  // chosen
  std::string merged_for;   // the conflict `merged` was started from
  std::string merged;       // the merged value being typed, JSON
  bool show_detail = false;
};

struct SettingsView {
  bool storage_asked = false;  // MeasureStorage sent since the screen was opened
  std::string registry_url;
  std::string code;
  uint64_t enroll_sent_at = 0;  // snapshot version when Enroll was sent: "contacting..." until a newer one
};

struct LibraryView {
  app::LibraryFilter filter;       // as the user has it now
  app::LibraryFilter requested;    // last sent to the model
  bool requested_once = false;
  double edited_at = 0;            // ImGui time of the last keystroke: the search waits for a pause
  std::vector<std::string> pins_asked;  // pins sent and not yet started by the worker
  ListFollower list;
};

struct FormsView {
  bool requested = false;  // the lists were asked of the model
  ListFollower submissions;
  std::map<std::string, std::string> edits;  // text being typed, by field, on the page `edits_for`
  std::string edits_for;
  FilePicker picker;        // one at a time, under the image or file question `picker_for`
  std::string picker_for;   // its key; "" when closed
};

struct LanguageChoice {
  std::string code;
  std::string name;  // in its own language
};

// The window's own state, kept across frames.
struct ViewState {
  ScreenId screen = ScreenId::Dashboard;
  RecordsView records;
  ConflictsView conflicts;
  SettingsView settings;
  LibraryView library;
  FormsView forms;
  std::vector<LanguageChoice> languages;  // those with a catalog
  std::string renderer;  // for the settings' "about" lines
  std::string font_file;
};

// One frame: what screens read and where they put what they ask for.
struct Frame {
  const app::AppState& state;
  ViewState& view;
  app::Commands& commands;
  int64_t now_ms = 0;
  bool compact = false;     // a small window: one column at a time
  ImFont* heading = nullptr;
  bool animating = false;   // a screen shows motion (a progress bar): keep drawing frames

  // Built in place from the command's own type: no Command is copied or moved.
  template <typename Command>
  void emit(Command&& command) {
    commands.emplace_back(std::forward<Command>(command));
  }
};

struct ScreenEntry {
  ScreenId id;
  const char* name;       // stable, for scripts: "dashboard"
  const char* title_key;  // catalog key of its title
  void (*draw)(Frame& frame);
  // A count to show beside the title (open conflicts...); 0 shows nothing.
  int64_t (*badge)(const app::AppState& state);
};

const std::vector<ScreenEntry>& screen_registry();
const ScreenEntry& screen_entry(ScreenId id);

// The whole window: the status line, the navigation and the current screen.
void draw_app(Frame& frame);
// Goes to another screen (what a navigation click does).
void open_screen(Frame& frame, ScreenId screen);

void draw_dashboard(Frame& frame);
void draw_library(Frame& frame);
void draw_forms(Frame& frame);
// Drafts not finalized yet: the forms screen's badge.
int64_t open_drafts(const app::AppState& state);
void draw_records(Frame& frame);
void draw_conflicts(Frame& frame);
void draw_sync(Frame& frame);
void draw_settings(Frame& frame);

// --- Pieces several screens show
// The problem's "what happened" (in `color`), "what to do", and the technical detail.
void show_problem(const app::Problem& problem, const ImVec4& color);
// A progress bar and counts for a sync under way.
void show_sync_progress(Frame& frame);
// "Sync now", disabled while a sync runs or before enrollment.
void sync_now_button(Frame& frame);
// When the last sync was and how it ended; `with_counts` adds what a sync of this session moved.
void show_last_sync(const Frame& frame, bool with_counts);
void show_waiting_changes(const Frame& frame);
// "Not enrolled yet" and a button to the settings, where enrollment happens.
void enroll_first(Frame& frame);
// Width of a list column beside its detail: a third of the space, within reason.
float list_pane_width();

}  // namespace outpost::ui
