// Browsing what the device holds, read-only: a collection's records in a list that draws only
// the rows in view (ImGuiListClipper) from a window of rows the model reads around them, however
// long the collection is, and the chosen record's fields with who wrote each and when.
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

// Keeps the chosen collection valid and the model's open list following it.
void choose_collection(Frame& frame) {
  RecordsView& view = frame.view.records;
  const auto& collections = frame.state.collections;
  std::vector<Choice> choices;
  int current = -1;
  for (const app::CollectionSummary& collection : collections) {
    if (collection.name == view.collection) current = static_cast<int>(choices.size());
    choices.push_back({collection.name + " (" + std::to_string(collection.records) + ")", "collection." + collection.name});
  }
  if (current < 0) {  // none chosen yet (or it went away): the one holding the most records
    const auto largest = std::max_element(collections.begin(), collections.end(),
                                          [](const auto& a, const auto& b) { return a.records < b.records; });
    current = static_cast<int>(largest - collections.begin());
    view.collection = largest->name;
  }
  const int clicked = choice_row(choices, current);
  if (clicked >= 0 && collections[static_cast<size_t>(clicked)].name != view.collection) {
    view.collection = collections[static_cast<size_t>(clicked)].name;
    view.record_id.clear();
    view.show_detail = false;
  }
  if (view.requested_collection != view.collection) {
    frame.emit(app::OpenCollection{view.collection, 0, app::kListWindow});
    view.requested_collection = view.collection;
    view.list.restart();
  }
}

void choose_record(Frame& frame, const std::string& id) {
  RecordsView& view = frame.view.records;
  view.record_id = id;
  view.show_detail = true;
  if (view.requested_record != id) {
    frame.emit(app::SelectRecord{view.collection, id});
    view.requested_record = id;
  }
}

void record_list(Frame& frame, const app::RecordList& list, ImVec2 size) {
  RecordsView& view = frame.view.records;
  if (list.total == 0) {
    wrapped_text(tr("records.empty_collection"));
    return;
  }
  // Wide windows show the first record rather than an empty half.
  if (view.record_id.empty() && !frame.compact)
    if (const app::RecordRow* first = list.row(0)) choose_record(frame, first->id);

  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
  if (!begin_scrolling_table("records_table", 3, flags, size)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(tr("records.column_id"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(tr("records.column_updated"), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(tr("records.column_fields"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
  ImGui::TableHeadersRow();
  const auto asked = view.list.draw(list, 0.0f, [&](const app::RecordRow& row) {
    if (selectable(row.id, "record." + row.id, row.id == view.record_id, ImGuiSelectableFlags_SpanAllColumns))
      choose_record(frame, row.id);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(app::format_ago(row.updated_ms, frame.now_ms).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.preview.c_str());
  });
  ImGui::EndTable();
  if (asked) frame.emit(app::OpenCollection{view.collection, *asked, app::kListWindow});
}

std::string writer(const Frame& frame, const std::string& replica) {
  return replica == frame.state.replica_id ? tr("records.this_device")
                                           : translator().format("records.other_device", {{"id", replica.substr(0, 8)}});
}

void record_detail(Frame& frame) {
  const RecordsView& view = frame.view.records;
  const auto& record = frame.state.record;
  if (view.record_id.empty()) {
    muted_text(tr("records.choose_record"));
    return;
  }
  if (!record || record->id != view.record_id || record->collection != view.collection) {
    muted_text(tr("app.loading"));
    return;
  }
  heading(record->collection + " / " + record->id, frame.heading);
  muted_text(translator().format("records.updated", {{"when", app::format_ago(record->updated_ms, frame.now_ms)},
                                                     {"time", app::format_time(record->updated_ms)}}));
  if (record->deleted) colored_text(palette().warning, tr("records.deleted"));
  if (!ImGui::BeginTable("fields_table", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) return;
  ImGui::TableSetupColumn(tr("records.column_field"), ImGuiTableColumnFlags_WidthStretch, 0.8f);
  ImGui::TableSetupColumn(tr("records.column_value"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
  ImGui::TableSetupColumn(tr("records.column_written"), ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableHeadersRow();
  for (const app::FieldView& field : record->fields) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(field.name.c_str());
    ImGui::TableNextColumn();
    if (field.right_to_left) {
      // Drawn unshaped it would read wrong; the text can still be copied whole (docs/ui.md).
      muted_text(tr("records.right_to_left"));
      if (button(tr("records.copy"), "copy." + field.name)) ImGui::SetClipboardText(field.value.c_str());
    } else {
      wrapped_text(field.value);
    }
    ImGui::TableNextColumn();
    wrapped_text(app::format_ago(field.written_ms, frame.now_ms) + ", " + writer(frame, field.written_by));
  }
  ImGui::EndTable();
}

}  // namespace

void draw_records(Frame& frame) {
  const app::AppState& state = frame.state;
  RecordsView& view = frame.view.records;
  if (state.collections.empty()) {
    heading(tr("screen.records"), frame.heading);
    wrapped_text(tr("records.no_collections"));
    return;
  }
  choose_collection(frame);
  ImGui::Spacing();
  if (!state.records || state.records->collection != view.collection) {
    muted_text(tr("app.loading"));
    return;
  }
  if (frame.compact) {
    if (view.show_detail) {
      if (button(tr("app.back_to_list"), "back_to_list")) view.show_detail = false;
      record_detail(frame);
    } else {
      record_list(frame, *state.records, ImVec2(0, 0));
    }
    return;
  }
  const float list_width = list_pane_width() * 1.3f;
  // Both panes sit on the screen's white: drawing it again under them would only cost pixels.
  ImGui::BeginChild("record_list###record_list", ImVec2(list_width, 0), false, ImGuiWindowFlags_NoBackground);
  record_list(frame, *state.records, ImVec2(0, 0));
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("record_detail###record_detail", ImVec2(0, 0), true, ImGuiWindowFlags_NoBackground);
  record_detail(frame);
  ImGui::EndChild();
}

}  // namespace outpost::ui
