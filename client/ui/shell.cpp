// The window's frame around the screens: the status line, the navigation (a column on wide
// windows, a row on small ones) and the pieces several screens share.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

// --- The screen registry

namespace {
int64_t no_badge(const app::AppState&) { return 0; }
int64_t open_conflicts(const app::AppState& state) { return static_cast<int64_t>(state.conflicts->size()); }
int64_t pending_changes(const app::AppState& state) { return state.status.pending_changes; }
}  // namespace

const std::vector<ScreenEntry>& screen_registry() {
  static const std::vector<ScreenEntry> screens = {
      {ScreenId::Dashboard, "dashboard", "screen.dashboard", draw_dashboard, no_badge},
      {ScreenId::Forms, "forms", "screen.forms", draw_forms, open_drafts},
      {ScreenId::Library, "library", "screen.library", draw_library, no_badge},
      {ScreenId::Records, "records", "screen.records", draw_records, no_badge},
      {ScreenId::Conflicts, "conflicts", "screen.conflicts", draw_conflicts, open_conflicts},
      {ScreenId::Sync, "sync", "screen.sync", draw_sync, pending_changes},
      {ScreenId::Settings, "settings", "screen.settings", draw_settings, no_badge},
  };
  return screens;
}

const ScreenEntry& screen_entry(ScreenId id) {
  for (const ScreenEntry& entry : screen_registry())
    if (entry.id == id) return entry;
  throw std::logic_error("a ScreenId without a row in screen_registry()");
}

// --- Status line and navigation

namespace {

void status_line(const Frame& frame) {
  const app::AppState& state = frame.state;
  ImVec4 color = ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled);
  const char* text = tr("status.not_enrolled");
  if (state.enrollment) {
    if (state.sync.running) {
      color = palette().accent;
      text = tr("status.syncing");
    } else if (state.connection == app::Connection::Online) {
      color = palette().ok;
      text = tr("status.online");
    } else if (state.connection == app::Connection::Offline) {
      color = palette().warning;
      text = tr("status.offline");
    } else {
      text = tr("status.not_tried");
    }
  }
  status_dot(color);
  ImGui::SameLine();
  ImGui::TextUnformatted(text);
  auto detail = [](const std::string& part) {
    ImGui::SameLine();
    ImGui::TextDisabled("\u00b7 %s", part.c_str());
  };
  if (state.status.last_sync_ms)
    detail(translator().format("status.last_sync", {{"when", app::format_ago(*state.status.last_sync_ms, frame.now_ms)}}));
  if (state.status.pending_changes > 0) detail(translator().count("status.pending", state.status.pending_changes));
}

std::string navigation_label(const ScreenEntry& entry, const app::AppState& state) {
  std::string label = tr(entry.title_key);
  if (const int64_t badge = entry.badge(state); badge > 0) label += " (" + std::to_string(badge) + ")";
  return label;
}

void navigation_column(Frame& frame) {
  const float height = ImGui::GetFrameHeight() * 1.2f;
  for (const ScreenEntry& entry : screen_registry()) {
    const bool current = frame.view.screen == entry.id;
    if (selectable(navigation_label(entry, frame.state), std::string("nav.") + entry.name, current, 0,
                   ImVec2(0, height)))
      open_screen(frame, entry.id);
  }
}

// Small windows: the screens as a row that wraps.
void navigation_row(Frame& frame) {
  std::vector<Choice> choices;
  int current = 0;
  for (const ScreenEntry& entry : screen_registry()) {
    if (entry.id == frame.view.screen) current = static_cast<int>(choices.size());
    choices.push_back({navigation_label(entry, frame.state), std::string("nav.") + entry.name});
  }
  const int clicked = choice_row(choices, current);
  if (clicked >= 0) open_screen(frame, screen_registry()[static_cast<size_t>(clicked)].id);
}

}  // namespace

void open_screen(Frame& frame, ScreenId screen) {
  if (screen == frame.view.screen) return;
  frame.view.screen = screen;
  frame.view.settings.storage_asked = false;  // measured again on each visit
}

void draw_app(Frame& frame) {
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(viewport->WorkPos);
  ImGui::SetNextWindowSize(viewport->WorkSize);
  // No background of its own: the renderer clears to the same colour (WindowBg), and without a GPU
  // every full-window layer is a million pixels blended per frame.
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoBackground;
  ImGui::Begin("Outpost###app", nullptr, flags);
  if (frame.state.home_problem) {
    heading(tr("app.cannot_open"), frame.heading);
    show_problem(*frame.state.home_problem, palette().danger);
    ImGui::End();
    return;
  }
  status_line(frame);
  if (frame.compact) {
    navigation_row(frame);
    ImGui::Separator();
    ImGui::BeginChild("screen###screen", ImVec2(0, 0), false);
  } else {
    ImGui::BeginChild("navigation###navigation", ImVec2(ImGui::GetFontSize() * 12, 0), true);
    navigation_column(frame);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("screen###screen", ImVec2(0, 0), false);
  }
  screen_entry(frame.view.screen).draw(frame);
  ImGui::EndChild();
  ImGui::End();
}

// --- Shared pieces

void show_problem(const app::Problem& problem, const ImVec4& color) {
  colored_text(color, translator().format(problem.key + ".what", problem.params));
  wrapped_text(translator().format(problem.key + ".todo", problem.params));
  if (!problem.detail.empty()) muted_text(translator().format("problem.detail", {{"detail", problem.detail}}));
}

void show_sync_progress(Frame& frame) {
  const app::SyncActivity& activity = frame.state.sync;
  const sync::SyncReport& report = activity.report;
  float fraction = 0.0f;
  std::string overlay;
  if (activity.pending_at_start > 0) {
    fraction = std::min(1.0f, static_cast<float>(report.pushed_changes) / static_cast<float>(activity.pending_at_start));
    overlay = translator().format("sync.sending", {{"sent", std::to_string(report.pushed_changes)},
                                                   {"total", std::to_string(activity.pending_at_start)}});
  } else {
    // Nothing to send: how much there is to receive is unknown, so the bar only shows motion.
    fraction = static_cast<float>(std::fmod(ImGui::GetTime() * 0.5, 1.0));
    overlay = tr("sync.receiving");
  }
  ImGui::ProgressBar(fraction, ImVec2(-FLT_MIN, 0), overlay.c_str());
  muted_text(translator().format("sync.counts", {{"received", std::to_string(report.pulled_records)},
                                                 {"requests", std::to_string(report.requests)},
                                                 {"up", app::format_bytes(static_cast<int64_t>(report.bytes_sent))},
                                                 {"down", app::format_bytes(static_cast<int64_t>(report.bytes_received))}}));
  frame.animating = true;
}

void sync_now_button(Frame& frame) {
  const bool possible = frame.state.enrollment && !frame.state.sync.running;
  if (primary_button(tr("sync.sync_now"), "sync_now", possible)) frame.emit(app::SyncNow{});
}

void show_last_sync(const Frame& frame, bool with_counts) {
  const app::AppState& state = frame.state;
  const app::SyncActivity& activity = state.sync;
  if (!state.status.last_sync_ms) {
    wrapped_text(tr("dashboard.never_synced"));
    return;
  }
  wrapped_text(translator().format("dashboard.last_sync_at",
                                   {{"when", app::format_ago(*state.status.last_sync_ms, frame.now_ms)},
                                    {"time", app::format_time(*state.status.last_sync_ms)}}));
  if (activity.problem) {
    show_problem(*activity.problem, palette().danger);
  } else if (state.status.last_sync_result.value_or("") == "ok") {
    colored_text(palette().ok, tr("dashboard.sync_ok"));
    if (with_counts && activity.finished > 0) {  // a sync of this session: its counts are known
      const sync::SyncReport& report = activity.report;
      wrapped_text(translator().format("sync.report", {{"sent", std::to_string(report.pushed_changes)},
                                                       {"received", std::to_string(report.pulled_records)},
                                                       {"conflicts", std::to_string(report.conflicts_created)}}));
      muted_text(translator().format("sync.traffic",
                                     {{"requests", std::to_string(report.requests)},
                                      {"up", app::format_bytes(static_cast<int64_t>(report.bytes_sent))},
                                      {"down", app::format_bytes(static_cast<int64_t>(report.bytes_received))}}));
    }
  } else {  // failed in an earlier session: only the core's sentence is left
    colored_text(palette().danger,
                 translator().format("dashboard.sync_failed", {{"detail", state.status.last_sync_result.value_or("")}}));
  }
}

void show_waiting_changes(const Frame& frame) {
  const sync::ReplicaStatus& status = frame.state.status;
  if (status.pending_changes == 0)
    wrapped_text(tr("dashboard.nothing_waiting"));
  else
    wrapped_text(translator().count("dashboard.changes_waiting", status.pending_changes,
                                    {{"records", std::to_string(status.pending_records)}}));
}

void enroll_first(Frame& frame) {
  wrapped_text(tr("dashboard.not_enrolled"));
  if (button(tr("dashboard.go_enroll"), "go_enroll")) open_screen(frame, ScreenId::Settings);
}

float list_pane_width() {
  const float font = ImGui::GetFontSize();
  return std::clamp(ImGui::GetContentRegionAvail().x * 0.38f, font * 12, font * 26);
}

}  // namespace outpost::ui
