// The library: search as you type (sent to the worker once typing pauses), filters by language
// and theme, every material with whether it is on this device, pin/unpin/remove with a progress
// bar for the download under way, and a reader for Markdown and text materials.
#include <algorithm>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

namespace {

// Seconds without a keystroke before the query goes to the worker.
constexpr double kSearchPause = 0.3;

// --- Search and filters

// A row of "All" and each value; a click sets `chosen` ("" for all).
void filter_row(const std::vector<std::string>& values, std::string& chosen, const std::string& name) {
  std::vector<Choice> choices{{tr("library.all"), name + ".all"}};
  int current = 0;
  for (const std::string& value : values) {
    if (value == chosen) current = static_cast<int>(choices.size());
    choices.push_back({value, name + "." + value});
  }
  const int clicked = choice_row(choices, current);
  if (clicked == 0) chosen.clear();
  if (clicked > 0) chosen = values[static_cast<size_t>(clicked - 1)];
}

void search_and_filters(Frame& frame) {
  LibraryView& view = frame.view.library;
  const app::LibraryList& list = *frame.state.library;
  if (input_text(tr("library.search"), "library.search", view.filter.query, tr("library.search_hint")))
    view.edited_at = ImGui::GetTime();
  if (!list.languages.empty()) {
    muted_text(tr("library.language"));
    filter_row(list.languages, view.filter.language, "library.language");
  }
  if (!list.themes.empty()) {
    const auto& themes = list.themes;
    const auto found = std::find(themes.begin(), themes.end(), view.filter.theme);
    const int current = found == themes.end() ? -1 : static_cast<int>(found - themes.begin());
    std::vector<std::string> options{tr("library.all")};
    options.insert(options.end(), themes.begin(), themes.end());
    const int chosen = combo(tr("library.theme"), "library.theme", options, current + 1);
    if (chosen == 0) view.filter.theme.clear();
    if (chosen > 0) view.filter.theme = themes[static_cast<size_t>(chosen - 1)];
  }

  // Filters apply at once; typed text once the typing pauses (the frames keep coming till then).
  const bool typing = ImGui::GetTime() - view.edited_at < kSearchPause;
  const bool only_query_changed = view.filter.language == view.requested.language && view.filter.theme == view.requested.theme;
  if (!view.requested_once || (view.filter != view.requested && !(typing && only_query_changed))) {
    frame.emit(app::SearchLibrary{view.filter, 0, app::kListWindow});
    view.requested = view.filter;
    view.requested_once = true;
    view.list.restart();
  }
  if (typing) frame.animating = true;
}

// --- The list

std::string state_text(const client::Material& material) {
  switch (material.state) {
    case client::DownloadState::Downloaded: return tr(material.pinned ? "library.pinned" : "library.on_device");
    case client::DownloadState::Partial:
      return translator().format("library.partial",
                                 {{"done", app::format_bytes(static_cast<int64_t>(material.stored_bytes))}});
    case client::DownloadState::NotDownloaded: break;
  }
  return tr("library.not_on_device");
}

void material_actions(Frame& frame, const client::Material& material) {
  LibraryView& view = frame.view.library;
  const std::string& id = material.id;
  const auto& download = frame.state.download;
  if (download && download->material_id == id) {
    const float fraction =
        download->size > 0 ? static_cast<float>(download->done_bytes) / static_cast<float>(download->size) : 0.0f;
    const std::string overlay = app::format_bytes(static_cast<int64_t>(download->done_bytes)) + " / " +
                                app::format_bytes(static_cast<int64_t>(download->size));
    ImGui::ProgressBar(fraction, ImVec2(-FLT_MIN, 0), overlay.c_str());
    frame.animating = true;
    return;
  }
  auto& asked = view.pins_asked;
  const bool waiting = std::find(asked.begin(), asked.end(), id) != asked.end();
  if (waiting) {
    muted_text(tr("library.waiting"));
    return;
  }
  if (material.state == client::DownloadState::Downloaded) {
    if (button(tr("library.open"), "open." + id)) frame.emit(app::OpenMaterial{id});
    ImGui::SameLine();
    if (material.pinned) {
      if (button(tr("library.unpin"), "unpin." + id)) frame.emit(app::UnpinMaterial{id});
    } else if (button(tr("library.keep"), "pin." + id)) {
      frame.emit(app::PinMaterial{id});
    }
    ImGui::SameLine();
    if (button(tr("library.remove"), "evict." + id)) frame.emit(app::EvictMaterial{id});
    return;
  }
  const bool partial = material.state == client::DownloadState::Partial;
  if (button(tr(partial ? "library.resume" : "library.download"), "pin." + id, frame.state.enrollment.has_value())) {
    frame.emit(app::PinMaterial{id});
    asked.push_back(id);
  }
}

void material_list(Frame& frame, const app::LibraryList& list) {
  if (list.hits.total == 0) {
    wrapped_text(tr(list.filter == app::LibraryFilter{} ? "library.empty" : "library.nothing_found"));
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_SizingStretchProp;
  if (!begin_scrolling_table("materials_table", frame.compact ? 2 : 3, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(tr("library.column_material"), ImGuiTableColumnFlags_WidthStretch, 3.0f);
  if (!frame.compact) ImGui::TableSetupColumn(tr("library.column_size"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(tr("library.column_actions"), ImGuiTableColumnFlags_WidthStretch, 1.6f);
  ImGui::TableHeadersRow();
  // Every row three lines high, so the clipper can skip rows out of view.
  const float row_height = 3 * ImGui::GetTextLineHeightWithSpacing();
  const auto asked = frame.view.library.list.draw(list.hits, row_height, [&](const client::SearchHit& hit) {
    const client::Material& material = hit.material;
    const sync::MaterialInfo& info = material.info;
    ImGui::TextUnformatted(app::shorten(info.title, 120).c_str());
    std::string about = info.lang;
    for (const std::string& tag : info.tags) about += " \u00b7 " + tag;
    muted_text(app::shorten(about, 120));
    const std::string& line = hit.snippet.empty() ? info.summary : hit.snippet;
    ImGui::TextUnformatted(app::shorten(line, 160).c_str());
    if (!frame.compact) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(app::format_bytes(static_cast<int64_t>(info.size)).c_str());
      muted_text(state_text(material));
    }
    ImGui::TableNextColumn();
    if (frame.compact) muted_text(state_text(material));
    material_actions(frame, material);
  });
  ImGui::EndTable();
  if (asked) frame.emit(app::SearchLibrary{list.filter, *asked, app::kListWindow});
}

// --- The reader

void reader(Frame& frame, const app::ReaderDocument& document) {
  if (button(tr("library.close_reader"), "close_reader")) frame.emit(app::CloseReader{});
  heading(document.title, frame.heading);
  ImGui::BeginChild("reader###reader", ImVec2(0, 0), true);
  const float indent = ImGui::GetFontSize();
  for (const client::TextBlock& block : document.blocks) {
    switch (block.kind) {
      case client::TextBlock::Kind::Heading:
        ImGui::Spacing();
        heading(block.text, block.level <= 2 ? frame.heading : nullptr);
        break;
      case client::TextBlock::Kind::ListItem: {
        const float depth = indent * static_cast<float>(std::max(1, block.level));
        ImGui::Indent(depth);
        ImGui::Bullet();
        ImGui::SameLine();
        wrapped_text(block.text);
        ImGui::Unindent(depth);
        break;
      }
      case client::TextBlock::Kind::Code: ImGui::TextUnformatted(block.text.c_str()); break;
      case client::TextBlock::Kind::Quote:
        ImGui::Indent(indent);
        muted_text(block.text);
        ImGui::Unindent(indent);
        break;
      case client::TextBlock::Kind::Paragraph: wrapped_text(block.text); break;
    }
    ImGui::Spacing();
  }
  ImGui::EndChild();
}

}  // namespace

void draw_library(Frame& frame) {
  const app::AppState& state = frame.state;
  LibraryView& view = frame.view.library;
  // A pin the worker has started or finished is no longer "waiting".
  auto& asked = view.pins_asked;
  asked.erase(std::remove_if(asked.begin(), asked.end(),
                             [&](const std::string& id) {
                               if (state.download && state.download->material_id == id) return true;
                               if (state.library_problem && state.library_problem->subject == id) return true;
                               const auto& shown = state.library->hits.rows;
                               return std::any_of(shown.begin(), shown.end(), [&](const auto& hit) {
                                 return hit.material.id == id && hit.material.state == client::DownloadState::Downloaded;
                               });
                             }),
              asked.end());

  if (state.reader) {
    reader(frame, *state.reader);
    return;
  }
  heading(tr("screen.library"), frame.heading);
  if (!state.enrollment) muted_text(tr("library.not_enrolled"));
  search_and_filters(frame);
  const app::LibraryList& list = *state.library;
  muted_text(list.quota_bytes > 0
                 ? translator().format("library.storage_quota", {{"used", app::format_bytes(static_cast<int64_t>(list.used_bytes))},
                                                                 {"quota", app::format_bytes(static_cast<int64_t>(list.quota_bytes))}})
                 : translator().format("library.storage", {{"used", app::format_bytes(static_cast<int64_t>(list.used_bytes))}}));
  if (state.library_problem) show_problem(state.library_problem->problem, palette().danger);
  ImGui::Spacing();
  material_list(frame, list);
}

}  // namespace outpost::ui
