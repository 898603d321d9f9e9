// Settings: joining a registry (address and enrollment code, typed or pasted), the interface
// language, the text size, and the storage the device's data takes, per kind.
#include <cmath>
#include <iterator>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

namespace {

// A field with a Paste button beside it: pasting on a touch screen has no keyboard shortcut.
void field_with_paste(const char* label_key, const char* name, std::string& value, const char* hint) {
  const char* paste = tr("settings.paste");
  const ImGuiStyle& style = ImGui::GetStyle();
  input_text(tr(label_key), name, value, hint,
             ImGui::CalcTextSize(paste).x + style.FramePadding.x * 2 + style.ItemSpacing.x);
  ImGui::SameLine();
  if (button(paste, std::string(name) + ".paste"))
    if (const char* clipboard = ImGui::GetClipboardText()) value = clipboard;
}

void enrollment_section(Frame& frame) {
  const app::AppState& state = frame.state;
  SettingsView& view = frame.view.settings;
  heading(tr("settings.registry"), frame.heading);
  if (state.enrollment) {
    if (begin_facts("enrollment_facts")) {
      fact(tr("facts.registry"), state.enrollment->registry_url);
      fact(tr("facts.organization"), state.enrollment->org_name);
      fact(tr("facts.device"), state.enrollment->device_id);
      fact(tr("facts.role"), state.enrollment->role);
      end_facts();
    }
    return;
  }
  wrapped_text(tr("settings.enroll_explained"));
  field_with_paste("settings.registry_url", "registry_url", view.registry_url, "https://registry.example.org");
  field_with_paste("settings.code", "enrollment_code", view.code, "");
  const bool waiting = view.enroll_sent_at != 0 && view.enroll_sent_at == state.version;
  if (primary_button(tr("settings.enroll"), "enroll", !waiting)) {
    frame.emit(app::Enroll{view.registry_url, view.code});
    view.enroll_sent_at = state.version;
  }
  if (waiting)
    muted_text(tr("settings.contacting"));  // until the worker publishes the outcome
  else if (state.enroll_problem)
    show_problem(*state.enroll_problem, palette().danger);
}

void interface_section(Frame& frame) {
  const app::Preferences& preferences = frame.state.preferences;
  heading(tr("settings.interface"), frame.heading);
  ImGui::TextUnformatted(tr("settings.language"));
  std::vector<Choice> languages = {{tr("settings.language_system"), "language.system"}};
  int current = 0;
  for (const LanguageChoice& language : frame.view.languages) {
    if (language.code == preferences.language) current = static_cast<int>(languages.size());
    languages.push_back({language.name, "language." + language.code});
  }
  if (const int clicked = choice_row(languages, current); clicked >= 0 && clicked != current)
    frame.emit(app::SetLanguage{clicked == 0 ? "" : frame.view.languages[static_cast<size_t>(clicked - 1)].code});

  ImGui::TextUnformatted(tr("settings.text_size"));
  static const char* const kSizeKeys[] = {"settings.size_small", "settings.size_normal", "settings.size_large",
                                          "settings.size_larger", "settings.size_largest"};
  static_assert(std::size(kSizeKeys) == std::size(app::kTextScales), "a name for every text size");
  std::vector<Choice> sizes;
  int chosen = 1;
  for (size_t i = 0; i < std::size(app::kTextScales); ++i) {
    if (std::abs(app::kTextScales[i] - preferences.text_scale) < 0.01) chosen = static_cast<int>(i);
    sizes.push_back({tr(kSizeKeys[i]), "text_size." + std::to_string(i)});
  }
  if (const int clicked = choice_row(sizes, chosen); clicked >= 0 && clicked != chosen)
    frame.emit(app::SetTextScale{app::kTextScales[clicked]});
}

void storage_section(Frame& frame) {
  const app::StorageUse& storage = frame.state.storage;
  heading(tr("settings.storage"), frame.heading);
  // Measuring reads every record (seconds on a large replica): once per visit of the screen.
  if (!frame.view.settings.storage_asked) {
    frame.emit(app::MeasureStorage{});
    frame.view.settings.storage_asked = true;
  }
  if (storage.measured_ms == 0) {
    muted_text(tr("app.loading"));
    return;
  }
  wrapped_text(translator().format("settings.storage_total", {{"size", app::format_bytes(storage.total_bytes())}}));
  if (ImGui::BeginTable("storage_table", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn(tr("settings.column_kind"));
    ImGui::TableSetupColumn(tr("settings.column_records"));
    ImGui::TableSetupColumn(tr("settings.column_size"));
    ImGui::TableHeadersRow();
    auto row = [](const char* kind, const std::string& records, int64_t bytes) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(kind);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(records.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(app::format_bytes(bytes).c_str());
    };
    for (const sync::CollectionUsage& usage : storage.collections)
      row(usage.collection == sync::kConflictsCollection ? tr("settings.kind_conflicts") : usage.collection.c_str(),
          std::to_string(usage.records), usage.bytes);
    // Files are not records: their rows leave that column empty.
    row(tr("settings.kind_library_files"), "", storage.library_bytes);
    row(tr("settings.kind_attachments"), "", storage.attachment_bytes);
    ImGui::EndTable();
  }
  muted_text(translator().format("settings.storage_measured", {{"time", app::format_time(storage.measured_ms)}}));
}

void about_section(Frame& frame) {
  heading(tr("settings.about"), frame.heading);
  if (begin_facts("about_facts")) {
    fact(tr("facts.home"), frame.state.home_directory);
    fact(tr("facts.replica"), frame.state.replica_id);
    fact(tr("facts.renderer"), frame.view.renderer);
    fact(tr("facts.font"), frame.view.font_file.empty() ? tr("settings.builtin_font") : frame.view.font_file);
    end_facts();
  }
}

}  // namespace

void draw_settings(Frame& frame) {
  enrollment_section(frame);
  interface_section(frame);
  storage_section(frame);
  about_section(frame);
}

}  // namespace outpost::ui
