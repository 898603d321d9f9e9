#include "client/ui/widgets.h"

#include <imgui_internal.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>

#include "client/app/app_state.h"
#include "client/ui/theme.h"

namespace outpost::ui {

namespace {
// The least height a scrolling table takes, in lines of text.
constexpr float kMinimumTableLines = 10.0f;
}  // namespace

// --- The item log

const LoggedItem* ItemLog::find(std::string_view key) const {
  for (const LoggedItem& item : items_)
    if (item.name == key) return &item;
  for (const LoggedItem& item : items_)
    if (item.label == key) return &item;
  return nullptr;
}

std::vector<std::pair<const LoggedItem*, const LoggedItem*>> ItemLog::collisions() const {
  std::map<ImGuiID, const LoggedItem*> seen;
  std::vector<std::pair<const LoggedItem*, const LoggedItem*>> found;
  for (const LoggedItem& item : items_) {
    auto [it, fresh] = seen.emplace(item.id, &item);
    if (!fresh) found.emplace_back(it->second, &item);
  }
  return found;
}

ItemLog& item_log() {
  static ItemLog log;
  return log;
}

void log_last_item(std::string_view name, std::string_view text, bool enabled) {
  const ImRect visible = ImGui::GetCurrentWindowRead()->ClipRect;
  item_log().add({std::string(name), std::string(text), ImGui::GetItemID(), ImGui::GetItemRectMin(),
                  ImGui::GetItemRectMax(), enabled, visible.Min, visible.Max});
}

namespace {
std::string id_label(std::string_view text, std::string_view name) {
  std::string label;
  label.reserve(text.size() + name.size() + 3);
  label.append(text).append("###").append(name);
  return label;
}
}  // namespace

// --- Controls

bool button(std::string_view text, std::string_view name, bool enabled) {
  ImGui::BeginDisabled(!enabled);
  const bool pressed = ImGui::Button(id_label(text, name).c_str());
  ImGui::EndDisabled();
  log_last_item(name, text, enabled);
  return pressed && enabled;
}

namespace {
// Buttons in the accent colour while the object lives.
class AccentColors {
 public:
  AccentColors() {
    ImGui::PushStyleColor(ImGuiCol_Button, palette().accent);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, palette().accent_hovered);
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, palette().accent_active);
    ImGui::PushStyleColor(ImGuiCol_Text, palette().on_accent);
  }
  ~AccentColors() { ImGui::PopStyleColor(4); }
  AccentColors(const AccentColors&) = delete;
  AccentColors& operator=(const AccentColors&) = delete;
};
}  // namespace

bool primary_button(std::string_view text, std::string_view name, bool enabled) {
  AccentColors accent;
  ImGui::BeginDisabled(!enabled);
  const float width = std::min(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 18);
  const bool pressed = ImGui::Button(id_label(text, name).c_str(), ImVec2(width, 0));
  ImGui::EndDisabled();
  log_last_item(name, text, enabled);
  return pressed && enabled;
}

bool input_text(std::string_view label, std::string_view name, std::string& value, const char* hint, float room_right) {
  ImGui::TextUnformatted(label.data(), label.data() + label.size());
  ImGui::SetNextItemWidth(room_right > 0 ? -room_right : -FLT_MIN);
  const bool changed = ImGui::InputTextWithHint(id_label("", name).c_str(), hint, &value);
  log_last_item(name, label);
  return changed;
}

bool input_multiline(std::string_view label, std::string_view name, std::string& value, float height) {
  ImGui::TextUnformatted(label.data(), label.data() + label.size());
  const bool changed = ImGui::InputTextMultiline(id_label("", name).c_str(), &value, ImVec2(-FLT_MIN, height));
  log_last_item(name, label);
  return changed;
}

bool selectable(std::string_view text, std::string_view name, bool selected, ImGuiSelectableFlags flags, ImVec2 size) {
  const bool pressed = ImGui::Selectable(id_label(text, name).c_str(), selected, flags, size);
  log_last_item(name, text);
  return pressed;
}

int combo(std::string_view label, std::string_view name, const std::vector<std::string>& options, int current,
          std::string_view none_text) {
  ImGui::TextUnformatted(label.data(), label.data() + label.size());
  ImGui::SetNextItemWidth(-FLT_MIN);
  const std::string preview = current >= 0 && current < static_cast<int>(options.size())
                                  ? options[static_cast<size_t>(current)]
                                  : std::string(none_text);
  const bool open = ImGui::BeginCombo(id_label("", name).c_str(), preview.c_str());
  log_last_item(name, label);
  if (!open) return -1;
  int chosen = -1;
  const std::string prefix = std::string(name) + ".";
  for (size_t i = 0; i < options.size(); ++i)
    if (selectable(options[i], prefix + std::to_string(i), static_cast<int>(i) == current)) chosen = static_cast<int>(i);
  ImGui::EndCombo();
  return chosen;
}

int choice_row(const std::vector<Choice>& choices, int current) {
  const ImGuiStyle& style = ImGui::GetStyle();
  const float right_edge = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  int clicked = -1;
  for (int i = 0; i < static_cast<int>(choices.size()); ++i) {
    const Choice& choice = choices[static_cast<size_t>(i)];
    const float width = ImGui::CalcTextSize(choice.text.c_str()).x + style.FramePadding.x * 2;
    if (i > 0) {
      ImGui::SameLine();
      if (ImGui::GetCursorScreenPos().x + width > right_edge) ImGui::NewLine();
    }
    std::optional<AccentColors> accent;
    if (i == current) accent.emplace();
    if (button(choice.text, choice.name)) clicked = i;
  }
  return clicked;
}

// --- Long lists

std::optional<int64_t> ListFollower::draw_rows(int64_t total, int64_t first, int64_t held, float row_height,
                                               const std::function<void(int64_t)>& draw_row) {
  // The clipper steps through a row to measure it, then the rows in view: the longest range.
  int64_t begin = 0;
  int64_t end = 0;
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(std::min<int64_t>(total, INT_MAX)));
  while (clipper.Step()) {
    if (clipper.DisplayEnd - clipper.DisplayStart > end - begin) {
      begin = clipper.DisplayStart;
      end = clipper.DisplayEnd;
    }
    for (int position = clipper.DisplayStart; position < clipper.DisplayEnd; ++position) {
      ImGui::TableNextRow(0, row_height);
      ImGui::TableNextColumn();
      if (position >= first && position < first + held)
        draw_row(position);
      else
        muted_text("\u2026");  // not read yet: the model has been asked
    }
  }
  first_row_in_view_ = begin;
  const int64_t margin = app::kListWindow / 4;
  const int64_t window_end = first + held;
  const bool room_before = begin >= first + (first > 0 ? margin : 0);
  const bool room_after = end <= window_end - (window_end < total ? margin : 0);
  if (room_before && room_after) return std::nullopt;
  const int64_t wanted = std::clamp<int64_t>((begin + end - app::kListWindow) / 2, 0,
                                              std::max<int64_t>(0, total - app::kListWindow));
  if (wanted == requested_first_) return std::nullopt;  // asked already: the answer is on its way
  requested_first_ = wanted;
  return wanted;
}

// --- Text

void heading(std::string_view text, ImFont* font) {
  ImGui::Spacing();
  if (font) ImGui::PushFont(font);
  ImGui::TextUnformatted(text.data(), text.data() + text.size());
  if (font) ImGui::PopFont();
  ImGui::Separator();
}

void wrapped_text(std::string_view text) {
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(text.data(), text.data() + text.size());
  ImGui::PopTextWrapPos();
}

void colored_text(const ImVec4& color, std::string_view text) {
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  wrapped_text(text);
  ImGui::PopStyleColor();
}

void muted_text(std::string_view text) { colored_text(ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled), text); }

void status_dot(const ImVec4& color) {
  const float size = ImGui::GetTextLineHeight();
  const ImVec2 at = ImGui::GetCursorScreenPos();
  ImGui::GetWindowDrawList()->AddCircleFilled(ImVec2(at.x + size * 0.5f, at.y + size * 0.5f), size * 0.35f,
                                              ImGui::GetColorU32(color));
  ImGui::Dummy(ImVec2(size, size));
}

bool begin_scrolling_table(const char* id, int columns, ImGuiTableFlags flags, ImVec2 size) {
  // Filling the rest of the pane, but never shorter than a few rows: on a 5-inch screen the
  // controls above a list can take the whole pane, and the screen scrolls down to the list.
  if (size.y == 0.0f)
    size.y = std::max(ImGui::GetContentRegionAvail().y, kMinimumTableLines * ImGui::GetTextLineHeightWithSpacing());
  ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0, 0, 0, 0));  // a transparent rectangle is not drawn
  const bool open = ImGui::BeginTable(id, columns, flags | ImGuiTableFlags_ScrollY, size);
  ImGui::PopStyleColor();
  return open;
}

bool begin_facts(const char* id) {
  if (!ImGui::BeginTable(id, 2, ImGuiTableFlags_SizingStretchProp)) return false;
  ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed);
  ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
  return true;
}

void fact(std::string_view label, std::string_view value) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextUnformatted(label.data(), label.data() + label.size());
  ImGui::PopStyleColor();
  ImGui::TableNextColumn();
  wrapped_text(value);
}

void end_facts() { ImGui::EndTable(); }

}  // namespace outpost::ui
