// The controls screens draw with. Each has the text the user reads, in the interface language,
// and a stable name that makes its ImGui id ("text###name"): the id survives a language switch,
// and scripts and tests find the control by name. Every control drawn in a frame is logged with
// where it is, which is how a script clicks it and how tests find id collisions.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::ui {

struct LoggedItem {
  std::string name;   // stable: "sync_now", "nav.settings", "record.hh-0001"
  std::string label;  // what the user reads
  ImGuiID id = 0;
  ImVec2 min;
  ImVec2 max;
  bool enabled = true;
  // The visible part of the window (or child) it is in: outside it, the control is scrolled away.
  ImVec2 visible_min;
  ImVec2 visible_max;
};

class ItemLog {
 public:
  void clear() { items_.clear(); }
  void add(LoggedItem item) { items_.push_back(std::move(item)); }
  const std::vector<LoggedItem>& items() const { return items_; }
  // The item named `key`, else the first one labelled `key`; null when the frame had neither.
  const LoggedItem* find(std::string_view key) const;
  // Items that had the same ImGui id in one frame: ImGui would treat them as one control.
  std::vector<std::pair<const LoggedItem*, const LoggedItem*>> collisions() const;

 private:
  std::vector<LoggedItem> items_;
};

// The log of the frame being drawn (UI thread).
ItemLog& item_log();
// Logs the item ImGui drew last.
void log_last_item(std::string_view name, std::string_view text, bool enabled = true);

bool button(std::string_view text, std::string_view name, bool enabled = true);
// The main action of a screen: wide and in the accent colour.
bool primary_button(std::string_view text, std::string_view name, bool enabled = true);
// A field with its label above it, as wide as the space less `room_right` (for a button beside it).
bool input_text(std::string_view label, std::string_view name, std::string& value, const char* hint = "",
                float room_right = 0.0f);
bool input_multiline(std::string_view label, std::string_view name, std::string& value, float height);
bool selectable(std::string_view text, std::string_view name, bool selected, ImGuiSelectableFlags flags = 0,
                ImVec2 size = ImVec2(0, 0));

struct Choice {
  std::string text;
  std::string name;
};
// Choices side by side as buttons, the current one in the accent colour, wrapping to a new line
// where the space ends; returns the index of the one clicked, or -1.
int choice_row(const std::vector<Choice>& choices, int current);

// A drop-down list with its label above it; each option is logged as NAME.INDEX. Returns the
// index chosen this frame, or -1. `current` -1 shows `none_text`.
int combo(std::string_view label, std::string_view name, const std::vector<std::string>& options, int current,
          std::string_view none_text = "");

// A table that scrolls by itself (ImGuiTableFlags_ScrollY added to `flags`) over the pane it sits
// in: its inner window draws no background of its own, since without a GPU every layer is pixels
// blended on the CPU. ImGui::EndTable() when it returns true.
bool begin_scrolling_table(const char* id, int columns, ImGuiTableFlags flags, ImVec2 size = ImVec2(0, 0));

// --- Long lists

// A long list in a scrolling table, drawn from the window of it the model holds (app::ListWindow:
// rows [first, first + rows.size()) of total). Remembers what it last asked of the model, so each
// window is asked for once, and where the list is scrolled to.
class ListFollower {
 public:
  // Draws the rows in view, each after ImGui::TableNextRow(0, row_height) and TableNextColumn();
  // a row outside the window held shows "…". Returns the first row of the window to ask for when
  // the rows in view leave the one held or come within a quarter window of its edge, so that
  // scrolling on finds its rows already read.
  template <typename Window, typename DrawRow>
  std::optional<int64_t> draw(const Window& list, float row_height, DrawRow&& draw_row) {
    return draw_rows(list.total, list.first, static_cast<int64_t>(list.rows.size()), row_height,
                     [&](int64_t position) { draw_row(*list.row(position)); });
  }
  int64_t first_row_in_view() const { return first_row_in_view_; }
  // The list shows another collection or filter: the window asked for starts at the top.
  void restart() { requested_first_ = 0; first_row_in_view_ = 0; }

 private:
  std::optional<int64_t> draw_rows(int64_t total, int64_t first, int64_t held, float row_height,
                                   const std::function<void(int64_t)>& draw_row);
  int64_t requested_first_ = 0;
  int64_t first_row_in_view_ = 0;
};

// --- Text
void heading(std::string_view text, ImFont* font);
void wrapped_text(std::string_view text);
void muted_text(std::string_view text);
void colored_text(const ImVec4& color, std::string_view text);
// A filled circle the height of a text line: online/offline and similar states.
void status_dot(const ImVec4& color);
// "Label   value" rows of a two-column table; call between begin_facts() and end_facts().
bool begin_facts(const char* id);
void fact(std::string_view label, std::string_view value);
void end_facts();

}  // namespace outpost::ui
