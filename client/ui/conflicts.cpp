// Conflicts waiting for a decision: two people changed the same field without seeing each
// other's change. Each shows the record, the field and both values side by side with who wrote
// them and when; the user keeps one, keeps the other, or types the value to keep.
#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/screens.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

using app::tr;
using app::translator;

namespace {

const app::ConflictView* find_conflict(const std::vector<app::ConflictView>& conflicts, const std::string& id) {
  for (const app::ConflictView& conflict : conflicts)
    if (conflict.id == id) return &conflict;
  return nullptr;
}

void conflict_list(Frame& frame, const std::vector<app::ConflictView>& conflicts) {
  ConflictsView& view = frame.view.conflicts;
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
  if (!begin_scrolling_table("conflicts_table", 2, flags)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(tr("conflicts.column_what"), ImGuiTableColumnFlags_WidthStretch, 2.0f);
  ImGui::TableSetupColumn(tr("conflicts.column_detected"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(conflicts.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const app::ConflictView& conflict = conflicts[static_cast<size_t>(i)];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const std::string what = conflict.collection + " / " + conflict.record_id + " \u00b7 " +
                               (conflict.about_deletion ? tr("conflicts.deletion") : conflict.field);
      if (selectable(what, "conflict." + conflict.id, conflict.id == view.conflict_id,
                     ImGuiSelectableFlags_SpanAllColumns)) {
        view.conflict_id = conflict.id;
        view.show_detail = true;
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(app::format_ago(conflict.detected_ms, frame.now_ms).c_str());
    }
  }
  ImGui::EndTable();
}

// What a value means in a conflict about a deletion: the record deleted, or kept.
std::string deletion_value(const app::ConflictSideView& side) {
  return side.value_json == "true" ? tr("conflicts.value_deleted") : tr("conflicts.value_kept");
}

std::string keep_label(const app::ConflictView& conflict, const app::ConflictSideView& side, const char* plain_key) {
  if (!conflict.about_deletion) return tr(plain_key);
  return side.value_json == "true" ? tr("conflicts.keep_deleted") : tr("conflicts.restore");
}

void conflict_side(Frame& frame, const app::ConflictView& conflict, const app::ConflictSideView& side,
                   const char* title_key, const char* button_key, const char* name, app::Resolution resolution) {
  muted_text(tr(title_key));
  if (frame.heading) ImGui::PushFont(frame.heading);
  if (conflict.about_deletion)
    wrapped_text(deletion_value(side));
  else if (side.right_to_left)
    wrapped_text(tr("records.right_to_left"));
  else
    wrapped_text(side.value.empty() ? tr("conflicts.empty_value") : side.value);
  if (frame.heading) ImGui::PopFont();
  muted_text(translator().format("conflicts.written_by", {{"who", side.by},
                                                         {"when", app::format_ago(side.at_ms, frame.now_ms)},
                                                         {"time", app::format_time(side.at_ms)}}));
  if (button(keep_label(conflict, side, button_key), name))
    frame.emit(app::ResolveConflict{conflict.id, resolution, ""});
}

void merged_value(Frame& frame, const app::ConflictView& conflict) {
  ConflictsView& view = frame.view.conflicts;
  if (view.merged_for != conflict.id) {
    view.merged = conflict.kept.value_json;
    view.merged_for = conflict.id;
  }
  input_multiline(tr("conflicts.merged_label"), "merged_value", view.merged, ImGui::GetTextLineHeight() * 4);
  muted_text(tr("conflicts.merged_help"));
  if (button(tr("conflicts.save_merged"), "save_merged"))
    frame.emit(app::ResolveConflict{conflict.id, app::Resolution::Merged, view.merged});
}

void conflict_detail(Frame& frame, const app::ConflictView& conflict) {
  heading(conflict.collection + " / " + conflict.record_id, frame.heading);
  if (conflict.about_deletion)
    wrapped_text(tr("conflicts.deletion_explained"));
  else
    wrapped_text(translator().format("conflicts.field_explained", {{"field", conflict.field}}));
  ImGui::Spacing();
  const bool side_by_side = !frame.compact && ImGui::BeginTable("sides", 2, ImGuiTableFlags_BordersInnerV);
  if (side_by_side) ImGui::TableNextColumn();
  conflict_side(frame, conflict, conflict.kept, "conflicts.kept_title", "conflicts.keep_kept", "keep_kept",
                app::Resolution::KeepKept);
  if (side_by_side)
    ImGui::TableNextColumn();
  else
    ImGui::Separator();
  conflict_side(frame, conflict, conflict.lost, "conflicts.lost_title", "conflicts.keep_lost", "keep_lost",
                app::Resolution::KeepLost);
  if (side_by_side) ImGui::EndTable();
  ImGui::Separator();
  if (!conflict.about_deletion) merged_value(frame, conflict);
  const auto& problem = frame.state.resolve_problem;
  if (problem && problem->subject == conflict.id) show_problem(problem->problem, palette().danger);
}

}  // namespace

void draw_conflicts(Frame& frame) {
  const auto& conflicts = *frame.state.conflicts;
  ConflictsView& view = frame.view.conflicts;
  if (conflicts.empty()) {
    heading(tr("screen.conflicts"), frame.heading);
    wrapped_text(tr("conflicts.none"));
    return;
  }
  wrapped_text(translator().count("conflicts.intro", static_cast<int64_t>(conflicts.size())));
  const app::ConflictView* selected = find_conflict(conflicts, view.conflict_id);
  if (!selected) {  // none chosen yet, or the chosen one was just resolved
    selected = &conflicts.front();
    view.conflict_id = selected->id;
  }
  if (frame.compact) {
    if (view.show_detail) {
      if (button(tr("app.back_to_list"), "back_to_list")) view.show_detail = false;
      conflict_detail(frame, *selected);
    } else {
      conflict_list(frame, conflicts);
    }
    return;
  }
  ImGui::BeginChild("conflict_list###conflict_list", ImVec2(list_pane_width(), 0), false);
  conflict_list(frame, conflicts);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("conflict_detail###conflict_detail", ImVec2(0, 0), true);
  conflict_detail(frame, *selected);
  ImGui::EndChild();
}

}  // namespace outpost::ui
