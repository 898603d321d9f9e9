#include "client/ui/file_picker.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "client/app/i18n.h"
#include "client/app/text.h"
#include "client/ui/theme.h"
#include "client/ui/widgets.h"

namespace outpost::ui {

namespace fs = std::filesystem;
using app::tr;

void open_folder(FilePicker& picker, const std::string& folder) {
  picker.folder = folder;
  picker.entries.clear();
  picker.listing_error.clear();
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string entry_name = it->path().filename().string();
    if (entry_name.empty() || entry_name[0] == '.') continue;
    std::error_code ignored;
    const bool is_folder = it->is_directory(ignored);
    if (!is_folder && !it->is_regular_file(ignored)) continue;
    picker.entries.push_back({entry_name, is_folder, is_folder ? 0 : static_cast<uint64_t>(it->file_size(ignored))});
  }
  if (error) picker.listing_error = error.message();
  std::sort(picker.entries.begin(), picker.entries.end(), [](const FilePicker::Entry& a, const FilePicker::Entry& b) {
    return a.folder != b.folder ? a.folder : a.name < b.name;
  });
}

std::optional<std::string> file_picker(FilePicker& picker, std::string_view name) {
  if (picker.folder.empty()) {
    const char* home = std::getenv("HOME");
    open_folder(picker, home != nullptr && *home != '\0' ? home : "/");
  }
  const std::string prefix(name);
  std::optional<std::string> chosen;
  const fs::path folder(picker.folder);
  if (button(tr("files.up"), prefix + ".up", folder.has_parent_path() && folder != folder.root_path()))
    open_folder(picker, folder.parent_path().string());
  ImGui::SameLine();
  muted_text(picker.folder);
  if (!picker.listing_error.empty()) {
    colored_text(palette().danger, tr("files.cannot_list"));
    muted_text(picker.listing_error);
  }
  const float rows = std::min<float>(8.0f, static_cast<float>(std::max<size_t>(picker.entries.size(), 1)));
  const ImVec2 list_size(0, ImGui::GetTextLineHeightWithSpacing() * (rows + 0.5f));
  const bool shown = ImGui::BeginChild((prefix + ".list").c_str(), list_size, true);
  std::optional<std::string> next_folder;
  for (const FilePicker::Entry& entry : picker.entries) {
    if (!shown) break;  // scrolled out of the page
    const std::string size = "  (" + app::format_bytes(static_cast<int64_t>(entry.size)) + ")";
    const std::string text = entry.folder ? entry.name + "/" : entry.name + size;
    if (selectable(text, prefix + ".entry." + entry.name, false)) {
      const std::string path = (folder / entry.name).string();
      if (entry.folder)
        next_folder = path;
      else
        chosen = path;
    }
  }
  ImGui::EndChild();
  if (next_folder) open_folder(picker, *next_folder);  // after the list, whose entries it replaces

  const float use_width = ImGui::CalcTextSize(tr("files.use_path")).x + ImGui::GetStyle().FramePadding.x * 4;
  input_text(tr("files.path"), prefix + ".path", picker.typed, "/path/to/the/file", use_width);
  ImGui::SameLine();
  if (button(tr("files.use_path"), prefix + ".use", !picker.typed.empty())) chosen = picker.typed;
  if (picker.reveal) {
    ImGui::SetScrollHereY(1.0f);
    picker.reveal = false;
  }
  return chosen;
}

}  // namespace outpost::ui
